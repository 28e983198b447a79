"""One upload is one connected trace: HTTP request -> SQS message -> worker job and steps;
and a read carries its trace into the status service over gRPC.

Gateway, worker and status service run in this process against the real stack's
servers, so the SDK's in-memory exporter sees every span.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests import audio
from tests.conftest import unique

pytestmark = pytest.mark.e2e


def test_one_upload_is_one_connected_trace(stack: Any, sqs: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from callsight.telemetry import setup_tracing
    from callsight_stack.servers import free_port
    from callsight_status.server import build_server
    from callsight_status.settings import StatusSettings
    from callsight_upload.app import create_app
    from callsight_upload.settings import GatewaySettings
    from callsight_worker.settings import WorkerSettings
    from callsight_worker.wiring import build_worker

    exporter = InMemorySpanExporter()
    setup_tracing("callsight-test", exporter)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, stack.env[name])
    # a private queue, so the stack's own workers do not take this job
    queue_url = sqs.create_queue(QueueName=unique("trace"))["QueueUrl"]
    status_port = free_port()
    env = {**stack.env, "CALLSIGHT_SQS_QUEUE_URL": queue_url, "CALLSIGHT_STATUS_ADDR": f"127.0.0.1:{status_port}",
           "OPS_PORT": str(free_port()), "CALLSIGHT_WHISPER_THREADS": "1",
           "CALLSIGHT_WORKER_ID": f"trace-worker-{os.getpid()}"}
    server, _, _ = build_server(StatusSettings.from_env(env), f"127.0.0.1:{status_port}")
    server.start()
    try:
        client = create_app(GatewaySettings.from_env(env)).test_client()
        headers = {"X-API-Key": stack.env["CALLSIGHT_API_KEY"]}
        wav = audio.encode(tmp_path / "t.wav", [audio.speech("selfish")], "wav").read_bytes()
        call_id = unique("traced")
        r = client.post("/api/ingest/upload", headers=headers, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(wav), "t.wav"), "call_id": call_id, "language": "en-US"})
        assert r.status_code == 201, r.get_data(as_text=True)

        worker, _ = build_worker(WorkerSettings.from_env(env))
        received = worker.queue.receive(wait_s=10)
        assert received is not None and "traceparent" in received.trace_context
        worker.handle(received)
        read = client.get(f"/api/calls/{call_id}", headers=headers)
        assert read.status_code == 200 and read.get_json()["status"] == "Done"
    finally:
        server.stop(grace=None)

    spans = exporter.get_finished_spans()
    by_name = {s.name: s for s in spans}
    upload = by_name["POST /api/ingest/upload"]
    upload_trace = [s for s in spans if s.context.trace_id == upload.context.trace_id]
    names = {s.name for s in upload_trace}
    assert {"enqueue", "job", "download", "decode", "transcribe", "store"} <= names, names
    ids = {s.context.span_id: s for s in upload_trace}
    for s in upload_trace:  # every span hangs off the upload request's span
        node = s
        while node.parent is not None:
            node = ids[node.parent.span_id]
        assert node is upload, s.name
    job_parent = by_name["job"].parent
    assert job_parent is not None and job_parent.span_id == by_name["enqueue"].context.span_id

    get = next(s for s in spans if s.name == "GET /api/calls/<call_id>")
    grpc_spans = [s for s in spans if s.name in ("GetCall", "GetTranscript")]
    assert grpc_spans and all(s.context.trace_id == get.context.trace_id for s in grpc_spans)
