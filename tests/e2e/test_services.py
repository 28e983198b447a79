"""The status deployment's gRPC contract (CallsService, AnalyticsService), health and metrics
of every service, the launcher."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from callsight.v1 import calls_pb2, calls_pb2_grpc
from tests import audio
from tests.conftest import Api, unique
from tests.grpc_client import status_channel

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def channel(stack: Any) -> grpc.Channel:
    return status_channel(stack.env)  # the gateway's certificate and organisation assertions


@pytest.fixture(scope="module")
def status(channel: grpc.Channel) -> calls_pb2_grpc.CallsServiceStub:
    return calls_pb2_grpc.CallsServiceStub(channel)


def test_grpc_health_and_no_reflection_outside_development(channel: grpc.Channel) -> None:
    for service in ("callsight.v1.CallsService", "callsight.v1.AnalyticsService"):
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, service
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    with pytest.raises(grpc.RpcError) as err:  # CALLSIGHT_GRPC_REFLECTION is off: nothing to list
        list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5))
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_watch_streams_status_changes_of_one_organisation(api: Api, status: Any, tmp_path: Path) -> None:
    events: list[calls_pb2.Call] = []
    stream = status.WatchCalls(calls_pb2.WatchCallsRequest(org_id="demo"), timeout=120)

    def consume() -> None:
        try:
            for event in stream:
                events.append(event.call)
        except grpc.RpcError:
            pass

    threading.Thread(target=consume, daemon=True).start()
    time.sleep(0.5)
    call_id = unique("watch")
    api.upload(audio.encode(tmp_path / "w.wav", [audio.speech("selfish")], "wav"), call_id=call_id, language="en-US")
    assert api.wait_final(call_id)["status"] == "Done"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [e.status for e in events if e.call_id == call_id]
        if calls_pb2.CALL_STATUS_DONE in mine:
            break
        time.sleep(0.2)
    stream.cancel()
    assert mine[0] == calls_pb2.CALL_STATUS_QUEUED
    assert calls_pb2.CALL_STATUS_PROCESSING in mine and mine[-1] == calls_pb2.CALL_STATUS_DONE
    assert all(e.org_id == "demo" for e in events)


def test_grpc_reads_are_scoped_and_validated(api: Api, status: Any, tmp_path: Path) -> None:
    call_id = unique("grpc")
    api.upload(audio.encode(tmp_path / "g.wav", [audio.speech("selfish")], "wav"), call_id=call_id, language="en-US")
    call = status.GetCall(calls_pb2.GetCallRequest(org_id="demo", call_id=call_id), timeout=5)
    assert call.call_id == call_id
    with pytest.raises(grpc.RpcError) as err:
        status.GetCall(calls_pb2.GetCallRequest(org_id="other-org-x", call_id=call_id), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        status.ListCalls(calls_pb2.ListCallsRequest(org_id=""), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED  # no organisation: nothing to assert, nothing read
    page = status.ListCalls(calls_pb2.ListCallsRequest(
        org_id="demo", statuses=[calls_pb2.CALL_STATUS_DONE, calls_pb2.CALL_STATUS_QUEUED,
                                 calls_pb2.CALL_STATUS_PROCESSING], page_size=5), timeout=5)
    assert 0 < len(page.calls) <= 5


# each service's own metric families and readiness checks: another service's endpoint (or any
# Prometheus endpoint, which all have python_info) must not pass for it
OWN_METRICS = {
    "upload": ["callsight_http_request_seconds", "callsight_uploads_total"],
    "status": ["callsight_grpc_requests_total", "callsight_status_watchers", "callsight_status_bus_up"],
    "worker": ["callsight_worker_busy", "callsight_worker_jobs_total", "callsight_worker_step_seconds"],
    "analysis-worker": ["callsight_analysis_jobs_total", "callsight_analysis_job_seconds"],
    "lifecycle": ["callsight_deletions_total", "callsight_deletions_pending", "callsight_retention_batches_total"],
    "webhooks": ["callsight_webhook_attempts_total", "callsight_webhook_pending"],
}
READY_CHECKS = {
    "upload": {"postgres", "s3", "sqs", "status_service", "redis"},
    "status": {"postgres", "redis"},
    "worker": {"model", "postgres", "sqs", "s3", "redis"},
    "analysis-worker": {"analysis", "postgres", "sqs"},
    "lifecycle": {"postgres", "s3", "redis"},  # it deletes recordings; Redis only degrades it
    "webhooks": {"postgres"},
}


def test_every_service_serves_health_and_metrics(stack: Any, api: Api, tmp_path: Path) -> None:
    # one call through the system, so every service has observed something of its own
    call_id = unique("metrics")
    api.upload(audio.encode(tmp_path / "m.wav", [audio.speech("selfish")], "wav"), call_id=call_id, language="en-US")
    assert api.wait_final(call_id)["status"] == "Done"
    urls = {name: f"http://127.0.0.1:{r.spec.env['OPS_PORT']}" for name, r in stack.running.items()
            if "OPS_PORT" in r.spec.env}
    assert set(urls) == {"upload", "status", "worker-1", "worker-2", "analysis-worker", "lifecycle", "webhooks"}, urls
    assert stack.env["CALLSIGHT_GATEWAY_OPS_URL"] == urls["upload"]  # the gateway's ops port, not its public one
    for name, url in urls.items():
        kind = "worker" if name.startswith("worker-") else name
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
        ready = requests.get(f"{url}/readyz", timeout=5).json()
        assert ready["status"] == "ready" and set(ready["checks"]) == READY_CHECKS[kind], (name, ready)
        assert all(v in ("ok", "loaded", "ready") for v in ready["checks"].values()), (name, ready)
        metrics = requests.get(f"{url}/metrics", timeout=5)
        assert metrics.headers["Content-Type"].startswith("text/plain"), name
        families = {line.split()[2] for line in metrics.text.splitlines() if line.startswith("# TYPE ")}
        assert set(OWN_METRICS[kind]) <= families, (name, sorted(f for f in families if f.startswith("callsight")))
        others = {f for k, fs in OWN_METRICS.items() if k != kind for f in fs}
        assert not families & others, (name, families & others)


def test_openapi_document_describes_the_api(api: Api) -> None:
    doc = requests.get(f"{api.url}/api/openapi.json", timeout=5).json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/ingest/upload", "/api/calls", "/api/calls/{call_id}", "/api/calls/{call_id}/transcript"} <= set(doc["paths"])


def test_launcher_writes_env_and_pid_files_and_restarts_a_killed_worker(stack: Any) -> None:
    env = dict(line.split("=", 1) for line in (stack.run_dir / "stack.env").read_text().splitlines())
    assert {"CALLSIGHT_URL", "CALLSIGHT_GRPC", "CALLSIGHT_API_KEY"} <= set(env)
    for name in ("postgres", "redis", "seaweedfs", "sqs", "status", "upload", "worker-1", "worker-2", "analysis-worker"):
        assert (stack.run_dir / f"{name}.pid").exists(), name
    old = stack.pid("worker-2")
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = stack.pid("worker-2")
        ops = stack.running["worker-2"].spec.env["OPS_PORT"]
        if new != old:
            try:
                if requests.get(f"http://127.0.0.1:{ops}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.5)
    raise AssertionError("worker-2 was not restarted by the supervisor")


def test_grpc_refuses_nul_characters_as_invalid_argument(status: Any) -> None:
    for request in (calls_pb2.GetCallRequest(org_id="demo", call_id="a\x00b"),
                    calls_pb2.ListCallsRequest(org_id="demo", department="x\x00")):
        rpc = status.GetCall if isinstance(request, calls_pb2.GetCallRequest) else status.ListCalls
        with pytest.raises(grpc.RpcError) as err:
            rpc(request, timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
