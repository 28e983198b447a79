"""Every accepted recording ends Done or Failed-with-a-reason, exactly once, whatever crashes.

Each test injects one fault into a real local stack and then proves nothing was lost
or doubled. The table of outcomes is in docs/reliability.md.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import text

from callsight.aws import clients_from_env
from callsight.db.engine import make_engine
from callsight.storage import audio_key
from callsight_stack.stack import Stack
from tests import audio
from tests.conftest import Api, count_audio_objects, unique
from tests.grpc_client import status_channel

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def db(fstack: Stack) -> Any:
    return make_engine(fstack.env["CALLSIGHT_DATABASE_URL"], pool_size=2)


@pytest.fixture(scope="module")
def short_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return audio.encode(tmp_path_factory.mktemp("f") / "s.wav", [audio.speech("selfish")], "wav")


def scalar(db: Any, sql: str, **params: Any) -> Any:
    with db.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, redis.RedisError, KeyError, AssertionError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_answer(ask: Callable[[], requests.Response], good: Callable[[requests.Response], bool],
                    timeout_s: float, what: str) -> requests.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        answer = ask()
        if good(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last: {answer.status_code} {answer.text[:200]})")
        time.sleep(0.3)


def ready(fapi: Api) -> bool:
    return requests.get(f"{fapi.ops_url}/readyz", timeout=3).status_code == 200


def test_worker_killed_mid_transcription_ends_done_once(fstack: Stack, fapi: Api, db: Any, tmp_path: Path) -> None:
    clips = [audio.speech(n) for n in audio.SPEECH] * 3
    left = __import__("numpy").concatenate(clips)
    path = audio.encode(tmp_path / "long.wav", [left, audio.silence(left.size / audio.RATE)], "wav")
    call_id = unique("sigkill")
    assert fapi.upload(path, call_id=call_id, language="en-US").status_code == 201
    wait_for(lambda: fapi.call(call_id)["status"] == "Processing", 60, "Processing")
    worker = scalar(db, "SELECT worker_id FROM calls WHERE call_id = :c", c=call_id)
    os.kill(fstack.pid(worker), signal.SIGKILL)
    call = fapi.wait_final(call_id, timeout_s=240)
    assert call["status"] == "Done", call
    assert call["attempts"] == 2
    uid = scalar(db, "SELECT uid FROM calls WHERE call_id = :c", c=call_id)
    assert scalar(db, "SELECT count(*) FROM transcripts WHERE call_uid = :u", u=uid) == 1
    assert scalar(db, "SELECT count(*) FROM analyses WHERE call_uid = :u", u=uid) <= 1
    assert "dashwood" in call["transcript_text"].lower()


def test_redis_killed_uploads_and_reads_keep_working_and_cache_refills(fstack: Stack, fapi: Api, short_wav: Path) -> None:
    os.kill(fstack.pid("redis"), signal.SIGKILL)
    call_id = unique("noredis")
    assert fapi.upload(short_wav, call_id=call_id, language="en-US").status_code == 201
    assert fapi.get(f"/api/calls/{call_id}").status_code == 200
    assert fapi.wait_final(call_id, timeout_s=120)["status"] == "Done"
    client = redis.Redis.from_url(fstack.env["CALLSIGHT_REDIS_URL"], socket_timeout=1)
    wait_for(lambda: bool(client.ping()), 30, "redis restarted by the supervisor")
    assert fapi.call(call_id)["status"] == "Done"
    assert client.exists(f"cs:call:demo:{call_id}")


def test_s3_unreachable_upload_is_503_and_nothing_is_stored(fstack: Stack, fapi: Api, db: Any, short_wav: Path) -> None:
    before = scalar(db, "SELECT count(*) FROM calls")
    fstack.hold("seaweedfs")
    try:
        r = fapi.upload(short_wav, call_id=unique("nos3"), language="en-US")
        assert r.status_code == 503
        assert "storage is unavailable" in r.json()["message"] and r.headers.get("Retry-After")
        assert scalar(db, "SELECT count(*) FROM calls") == before
    finally:
        fstack.release("seaweedfs")
    wait_for(lambda: ready(fapi), 60, "gateway ready again")


def test_a_deletion_during_an_s3_outage_waits_and_is_finished_when_s3_is_back(
    fstack: Stack, fapi: Api, db: Any, short_wav: Path,
) -> None:
    """The tombstone outlives the failure: the call is gone for readers at once, the lifecycle
    worker records why it cannot finish yet, and finishes when the recording can be deleted."""
    call_id = unique("del-nos3")
    assert fapi.upload(short_wav, call_id=call_id, language="en-US").status_code == 201
    assert fapi.wait_final(call_id, timeout_s=180)["status"] == "Done"
    uid = scalar(db, "SELECT uid FROM calls WHERE org_id = 'demo' AND call_id = :c", c=call_id)
    lifecycle_ops = f"http://127.0.0.1:{fstack.running['lifecycle'].spec.env['OPS_PORT']}"
    assert requests.get(f"{lifecycle_ops}/readyz", timeout=3).status_code == 200
    fstack.hold("seaweedfs")
    try:
        assert fapi.send("DELETE", f"/api/calls/{call_id}").status_code == 204
        assert fapi.get(f"/api/calls/{call_id}").status_code == 404
        wait_for(lambda: scalar(db, "SELECT attempts FROM call_deletions WHERE call_uid = :u", u=uid) >= 1, 60,
                 "a failed attempt to finish the deletion")
        assert scalar(db, "SELECT finished_at FROM call_deletions WHERE call_uid = :u", u=uid) is None
        assert "S3" in scalar(db, "SELECT last_error FROM call_deletions WHERE call_uid = :u", u=uid)
        # and it says so: not ready (what takes it out of a Kubernetes rollout), naming S3
        answer = wait_for_answer(lambda: requests.get(f"{lifecycle_ops}/readyz", timeout=3),
                                 lambda r: r.status_code == 503, 30, "the lifecycle worker not ready without S3")
        assert answer.json()["checks"]["s3"].startswith("down") and answer.json()["checks"]["postgres"] == "ok"
    finally:
        fstack.release("seaweedfs")
    wait_for(lambda: requests.get(f"{lifecycle_ops}/readyz", timeout=3).status_code == 200, 60,
             "the lifecycle worker ready again with S3 back")
    wait_for(lambda: scalar(db, "SELECT finished_at FROM call_deletions WHERE call_uid = :u", u=uid) is not None, 90,
             "the deletion to be finished once S3 is back")
    assert scalar(db, "SELECT count(*) FROM calls WHERE uid = :u", u=uid) == 0
    s3 = clients_from_env(fstack.env)[0]
    assert count_audio_objects(s3, prefix=f"orgs/demo/calls/{uid}/") == 0


def test_sqs_unreachable_after_the_row_is_written_enqueues_when_back(fstack: Stack, fapi: Api, short_wav: Path) -> None:
    fstack.hold("sqs")
    call_id = unique("nosqs")
    try:
        r = fapi.upload(short_wav, call_id=call_id, language="en-US")
        assert r.status_code == 201 and r.json()["status"] == "Queued"
    finally:
        fstack.release("sqs")
    call = fapi.wait_final(call_id, timeout_s=120)
    assert call["status"] == "Done", call


def test_postgres_restarted_services_reconnect(fstack: Stack, fapi: Api, short_wav: Path) -> None:
    old = fstack.pid("postgres")
    fstack.stop_process("postgres")
    wait_for(lambda: fstack.pid("postgres") != old, 30, "postgres restarted by the supervisor")
    wait_for(lambda: ready(fapi), 60, "gateway ready again")
    call_id = unique("pgback")
    assert fapi.upload(short_wav, call_id=call_id, language="en-US").status_code == 201
    assert fapi.wait_final(call_id, timeout_s=120)["status"] == "Done"
    assert requests.get(f"{fapi.url}/api/calls", headers={"X-API-Key": fapi.key}, timeout=10).status_code == 200


def test_poison_job_fails_after_bounded_attempts_goes_to_dlq_and_workers_go_on(
    fstack: Stack, fapi: Api, db: Any, short_wav: Path
) -> None:
    """A job whose recording can never be fetched: retried, then Failed with the reason."""
    s3, sqs = clients_from_env(fstack.env)
    uid = str(uuid.uuid4())
    call_id = unique("poison")
    with db.begin() as conn:
        conn.execute(text(
            "INSERT INTO calls (uid, org_id, call_id, language, call_date, audio_format, size_bytes, audio_key) "
            "VALUES (:u, 'demo', :c, 'en-US', :d, 'wav', 10, :k)"),
            {"u": uid, "c": call_id, "d": dt.date.today(), "k": audio_key("demo", uid)})
    healthy_id = unique("healthy")
    assert fapi.upload(short_wav, call_id=healthy_id, language="en-US").status_code == 201
    assert fapi.wait_final(healthy_id, timeout_s=120)["status"] == "Done"
    call = fapi.wait_final(call_id, timeout_s=180)
    assert call["status"] == "Failed"
    assert "gave up after 3 attempts" in call["error"] and "dead-letter" in call["error"]
    dlq = fstack.env["CALLSIGHT_SQS_DLQ_URL"]
    wait_for(lambda: int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
                         ["Attributes"]["ApproximateNumberOfMessages"]) >= 1, 120, "the job in the DLQ")


def test_50_concurrent_uploads_with_one_call_id_accept_exactly_one(fstack: Stack, fapi: Api, short_wav: Path) -> None:
    s3, _ = clients_from_env(fstack.env)

    before = count_audio_objects(s3)
    call_id = unique("fifty")
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(lambda _: fapi.upload(short_wav, call_id=call_id, language="en-US").status_code, range(50)))
    assert codes.count(201) == 1 and codes.count(409) == 49, codes
    assert count_audio_objects(s3) == before + 1


def test_health_tells_the_truth_about_postgres_and_redis(fstack: Stack, fapi: Api) -> None:
    """Without PostgreSQL the status service is NOT_SERVING (gRPC health and /readyz) and the
    gateway is not ready; without Redis both stay ready and say they are degraded."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health = health_pb2_grpc.HealthStub(status_channel(fstack.env))  # the gateway's client certificate
    status_ops = f"http://127.0.0.1:{fstack.running['status'].spec.env['OPS_PORT']}"

    def serving(service: str = "callsight.v1.CallsService") -> bool:
        reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=3)
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    assert serving() and serving("")
    fstack.hold("postgres")
    try:
        wait_for(lambda: not serving(), 20, "the status service NOT_SERVING without PostgreSQL")
        assert not serving("callsight.v1.AnalyticsService")
        answer = requests.get(f"{status_ops}/readyz", timeout=3)
        assert answer.status_code == 503 and answer.json()["checks"]["postgres"].startswith("down")
        gateway = requests.get(f"{fapi.ops_url}/readyz", timeout=10)
        assert gateway.status_code == 503
        assert gateway.json()["checks"]["postgres"].startswith("down")
        assert gateway.json()["checks"]["status_service"] == "not serving"
    finally:
        fstack.release("postgres")
    wait_for(serving, 60, "the status service SERVING again")
    wait_for(lambda: ready(fapi), 60, "gateway ready again")

    fstack.hold("redis")
    try:
        def degraded(url: str) -> bool:
            answer = requests.get(f"{url}/readyz", timeout=5)
            return answer.status_code == 200 and "degraded" in answer.json()["checks"]["redis"]

        wait_for(lambda: degraded(status_ops), 20, "the status service ready but degraded without Redis")
        assert serving()
        wait_for(lambda: degraded(fapi.ops_url), 20, "the gateway ready but degraded without Redis")
    finally:
        fstack.release("redis")


def test_sqs_down_makes_the_gateway_not_ready(fstack: Stack, fapi: Api) -> None:
    fstack.hold("sqs")
    try:
        answer = requests.get(f"{fapi.ops_url}/readyz", timeout=30)
        assert answer.status_code == 503 and answer.json()["checks"]["sqs"].startswith("down")
    finally:
        fstack.release("sqs")
    wait_for(lambda: ready(fapi), 60, "gateway ready again")
