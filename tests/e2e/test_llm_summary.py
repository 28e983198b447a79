"""The generative summary is reachable by configuration: an analysis worker process given
CALLSIGHT_SUMMARY_LLM_URL/_MODEL/_API_KEY asks that OpenAI-compatible endpoint (here a
local fake server) for the call's overview, sends it the redacted transcript when the
organisation redacts PII, and keeps the extractive summary with the reason when the
endpoint fails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from callsight.enqueue import analysis_job
from callsight.jobqueue import JobQueue
from callsight.v1 import job_pb2
from tests.conftest import Api, unique
from tests.e2e.test_analysis import client_org, new_org
from tests.e2e.test_reruns import seed_done_call
from tests.fakes.openai_server import FakeChatServer

pytestmark = pytest.mark.e2e
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeChatServer]:
    server = FakeChatServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def llm_worker(stack: Any, sqs: Any, llm: FakeChatServer) -> Iterator[JobQueue[job_pb2.AnalysisJob]]:
    """An analysis worker of its own, configured for the LLM, on a private analysis queue."""
    from callsight_stack.servers import free_port

    queue_url = sqs.create_queue(QueueName=unique("llm-analysis"))["QueueUrl"]
    ops = free_port()
    env = {**os.environ, **stack.env, "CALLSIGHT_ANALYSIS_QUEUE_URL": queue_url, "OPS_PORT": str(ops),
           "CALLSIGHT_WORKER_ID": "llm-analysis-worker", "CALLSIGHT_SUMMARY_LLM_URL": llm.url,
           "CALLSIGHT_SUMMARY_LLM_MODEL": "local-llama", "CALLSIGHT_SUMMARY_LLM_API_KEY": "sk-local-test",
           "CALLSIGHT_SUMMARY_LLM_TIMEOUT_S": "10"}
    log = open(stack.run_dir / "logs" / "llm-analysis-worker.log", "ab")  # noqa: SIM115 - the child's
    proc = subprocess.Popen([sys.executable, "-m", "callsight_worker.analysis_worker"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{ops}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None, "the analysis worker exited at start"
            time.sleep(0.5)
        yield JobQueue(sqs, queue_url, None, job_pb2.AnalysisJob)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def analyse(client: Api, queue: JobQueue[job_pb2.AnalysisJob], admin: Any, org: str, call_id: str,
            after: str | None = None) -> dict[str, Any]:
    queue.send(analysis_job(admin.calls.get(org, call_id).uid, org))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = client.get(f"/api/calls/{call_id}/analysis")
        if r.status_code == 200 and r.json()["updated_at"] != after:
            body: dict[str, Any] = r.json()
            return body
        time.sleep(0.3)
    raise AssertionError(f"no analysis of {call_id}")


def test_the_configured_endpoint_writes_the_overview_from_the_redacted_transcript(
    admin: Any, api: Api, llm: FakeChatServer, llm_worker: JobQueue[job_pb2.AnalysisJob],
) -> None:
    client = new_org(admin, api, redact_pii=True)
    org = client_org(admin, client)
    call_id = seed_done_call(admin, org, lines=("Thank you for calling Acme, this is Dana.",
                                                f"My card number is {CARD}, please update it.",
                                                "Done, your card is updated.", "Thanks."))
    analysis = analyse(client, llm_worker, admin, org, call_id)
    summary = analysis["summary"]
    assert summary["overview"] == llm.overview
    assert summary["method"] == "openai-compatible:local-llama" and "error" not in summary
    assert summary["key_sentences"]  # still quotes of the call
    mine = [r for r in llm.requests if "Thank you for calling Acme" in str(r.get("messages"))]
    assert mine, llm.requests
    request = mine[-1]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "local-llama"
    assert request["authorization"] == "Bearer sk-local-test"
    assert CARD not in str(request["messages"]) and "4111" not in str(request["messages"])


def test_a_failing_endpoint_keeps_the_extractive_summary_and_says_why(
    admin: Any, api: Api, llm: FakeChatServer, llm_worker: JobQueue[job_pb2.AnalysisJob],
) -> None:
    client = new_org(admin, api)
    org = client_org(admin, client)
    call_id = seed_done_call(admin, org)
    llm.status = 503
    try:
        summary = analyse(client, llm_worker, admin, org, call_id)["summary"]
    finally:
        llm.status = 200
    assert summary["method"] == "extractive" and summary["overview"] is None
    assert "HTTP 503" in summary["error"]
    assert summary["key_sentences"]
