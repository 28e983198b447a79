"""Re-runs of the analysis go through their own queue and their own light worker.

A re-run over many calls is only recorded by the gateway; the analysis worker's
producer enqueues it in batches at a drip rate and its progress is read back over the
API. One call's re-run is one job on the analysis queue, analysed by the analysis
worker, never by a transcription worker.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

import pytest
import requests

from callsight.enqueue import analysis_job
from callsight.jobqueue import JobQueue
from callsight.v1 import job_pb2
from tests.conftest import Api, unique
from tests.e2e.test_analysis import client_org, new_org, send

pytestmark = pytest.mark.e2e

LINES = ("Thank you for calling Acme, this is Dana speaking.", "Hi, my router keeps dropping the connection.",
         "I am sorry to hear that, let me check your line.", "Thanks, that would be great.")


def seed_done_call(admin: Any, org_id: str, operator: str = "op-r", day: dt.date = dt.date(2026, 3, 2),
                   lines: tuple[str, ...] = LINES) -> str:
    """A Done call with a stored transcript, written as a transcription worker writes it."""
    uid, call_id = str(uuid.uuid4()), unique("rerun")
    admin.outbox.create(uid=uid, org_id=org_id, call_id=call_id, language="en-US", operator_id=operator,
                        department="care", call_date=day, audio_format="wav", size_bytes=1,
                        audio_key=f"orgs/{org_id}/calls/{uid}/audio")
    assert admin.calls.claim(uid, 1, "seed") is not None
    turns: list[dict[str, Any]] = [{"speaker": ("operator", "customer")[i % 2], "start": 4.0 * i, "end": 4.0 * i + 3.0, "text": line,
              "words": []} for i, line in enumerate(lines)]
    transcript = {"language": "en-US", "engine": "seed", "model": "seed", "speaker_mode": "stereo",
                  "duration_s": 4.0 * len(lines), "text": " ".join(lines), "turns": turns}
    assert admin.calls.complete(uid, 1, transcript, None) is not None
    return call_id


def metric(url: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in requests.get(f"{url}/metrics", timeout=5).text.splitlines():
        if re.match(rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} ", line) or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def ops_url(stack: Any, name: str) -> str:
    return f"http://127.0.0.1:{stack.running[name].spec.env['OPS_PORT']}"


def wait_rerun(client: Api, location: str, timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(location).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"re-run not done after {timeout_s} s: {body}")


def test_a_rerun_is_recorded_then_enqueued_in_the_background_and_reports_progress(admin: Any, api: Api) -> None:
    client = new_org(admin, api)
    org = client_org(admin, client)
    calls = [seed_done_call(admin, org) for _ in range(23)]
    seed_done_call(admin, org, operator="someone-else")  # outside the filter
    before = {c: client.get(f"/api/calls/{c}/analysis").status_code for c in calls}
    assert set(before.values()) == {404}  # seeded without an analysis
    r = send(client, "POST", "/api/analysis/rerun", {"operator_id": "op-r", "department": "care"})
    assert r.status_code == 202, r.text
    assert r.json() == {"queued": 23}
    location = r.headers["Location"]
    assert location.startswith("/api/analysis/reruns/")
    first = client.get(location).json()
    assert first["total"] == 23 and first["status"] in ("queued", "running", "done")
    assert first["filters"] == {"department": "care", "operator_id": "op-r", "date_from": None, "date_to": None}
    done = wait_rerun(client, location)
    assert done["status"] == "done", done
    assert (done["total"], done["enqueued"], done["analysed"], done["failed"], done["skipped"]) == (23, 23, 23, 0, 0)
    assert done["progress"] == 1.0 and done["finished_at"]
    for call_id in calls:
        assert client.get(f"/api/calls/{call_id}/analysis").json()["scorecard"]["form"]["name"] == "default-en"
    listed = client.get("/api/analysis/reruns").json()["reruns"]
    assert [x["rerun_id"] for x in listed] == [done["rerun_id"]]


def test_a_call_no_longer_done_is_skipped_and_the_rerun_still_finishes(admin: Any, api: Api) -> None:
    client = new_org(admin, api)
    org = client_org(admin, client)
    kept = seed_done_call(admin, org)
    gone = seed_done_call(admin, org)
    from sqlalchemy import text

    r = send(client, "POST", "/api/analysis/rerun", {})
    assert r.json() == {"queued": 2}
    with admin.engine.begin() as conn:  # the call is retried right after the request: it has no transcript to analyse
        conn.execute(text("UPDATE calls SET status = 'Failed', error = 'x' WHERE org_id = :o AND call_id = :c"),
                     {"o": org, "c": gone})
    done = wait_rerun(client, r.headers["Location"])
    # enqueued before the change: its job is dropped and counted skipped; after: it is not in the re-run
    assert done["status"] == "done" and done["analysed"] == 1, done
    assert done["total"] == done["enqueued"] and done["skipped"] + (2 - done["total"]) == 1, done
    assert client.get(f"/api/calls/{kept}/analysis").status_code == 200


def test_one_calls_rerun_is_analysed_by_the_analysis_worker(admin: Any, api: Api, stack: Any) -> None:
    client = new_org(admin, api)
    call_id = seed_done_call(admin, client_org(admin, client))
    analysis_worker = ops_url(stack, "analysis-worker")
    before = metric(analysis_worker, "callsight_analysis_jobs_total", outcome="analysed")
    assert send(client, "POST", f"/api/calls/{call_id}/analysis").status_code == 202
    deadline = time.monotonic() + 30
    while client.get(f"/api/calls/{call_id}/analysis").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert client.get(f"/api/calls/{call_id}/analysis").status_code == 200
    assert metric(analysis_worker, "callsight_analysis_jobs_total", outcome="analysed") >= before + 1


def test_an_analysis_job_left_on_the_transcription_queue_is_moved_to_the_analysis_queue(
    admin: Any, api: Api, stack: Any, sqs: Any,
) -> None:
    """What a gateway older than the analysis queue sent still gets analysed."""
    client = new_org(admin, api)
    org = client_org(admin, client)
    call_id = seed_done_call(admin, org)
    uid = admin.calls.get(org, call_id).uid
    legacy = job_pb2.TranscriptionJob(call_uid=uid, org_id=org, kind="analyse")
    JobQueue(sqs, stack.env["CALLSIGHT_SQS_QUEUE_URL"]).send(legacy)
    deadline = time.monotonic() + 30
    while client.get(f"/api/calls/{call_id}/analysis").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert client.get(f"/api/calls/{call_id}/analysis").status_code == 200


def test_another_organisation_cannot_see_a_rerun(admin: Any, api: Api) -> None:
    client = new_org(admin, api)
    seed_done_call(admin, client_org(admin, client))
    location = send(client, "POST", "/api/analysis/rerun", {}).headers["Location"]
    other = new_org(admin, api)
    r = other.get(location)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert other.get("/api/analysis/reruns").json()["reruns"] == []
    assert client.get("/api/analysis/reruns/not-a-rerun").status_code == 404
    assert client.get("/api/analysis/reruns", limit="0").status_code == 400


def test_a_rerun_is_enqueued_at_the_drip_rate_not_all_at_once(admin: Any, api: Api, stack: Any) -> None:
    """45 calls at 20 jobs/s (the stack's rate) take about two seconds to enqueue, ten at a time."""
    client = new_org(admin, api)
    org = client_org(admin, client)
    for _ in range(45):
        seed_done_call(admin, org, operator="drip")
    location = send(client, "POST", "/api/analysis/rerun", {"operator_id": "drip"}).headers["Location"]
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        enqueued = client.get(location).json()["enqueued"]
        samples.append((time.monotonic(), enqueued))
        if enqueued == 45:
            break
        time.sleep(0.05)
    first = next(t for t, n in samples if n > 0)
    last = next(t for t, n in samples if n == 45)
    # 10, 20, 30, 40, 45 with 0.5 s between batches: at least ~1.5 s from the first to the last
    assert last - first >= 0.8, samples
    assert all(n % 10 == 0 or n == 45 for _, n in samples), samples
    assert wait_rerun(client, location)["analysed"] == 45


def test_the_producer_sends_nothing_while_the_analysis_queue_is_full(admin: Any, api: Api, sqs: Any) -> None:
    """Back-pressure: with max_queued jobs waiting, one call's re-run is never stuck behind more."""
    from callsight.db.reruns_repo import RerunRepository
    from callsight_worker.analysis_worker.producer import RerunProducer

    client = new_org(admin, api)
    org = client_org(admin, client)
    for _ in range(40):
        seed_done_call(admin, org, operator="pressure")
    queue = JobQueue(sqs, sqs.create_queue(QueueName=unique("full"))["QueueUrl"], None, job_pb2.AnalysisJob)
    queue.send_batch([analysis_job(f"call-{i}", "org") for i in range(5)])
    producer = RerunProducer(RerunRepository(admin.engine), queue, drip_per_s=1000.0, max_queued=5,
                             resend_after_s=900)
    assert send(client, "POST", "/api/analysis/rerun", {"operator_id": "pressure"}).json() == {"queued": 40}
    assert producer.queue_full()
    for _ in range(10):  # the re-run is pending meanwhile (the stack's producer drips it): none of it comes here
        assert producer.run_once() == 0
        time.sleep(0.1)
    assert queue.depth()["ApproximateNumberOfMessages"] == 5
