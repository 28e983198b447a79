"""The lifecycle worker's reaper and the webhook deliverer against the stack's real
PostgreSQL, S3 and Redis: the reaper works in batches (a log line and a metric each), and a
delivery whose call is deleted before it is sent is cancelled with nothing kept."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from callsight.aws import clients_from_env
from callsight.db.deletions_repo import DeletionRepository
from callsight.db.retention_repo import RetentionRepository
from callsight.status_cache import StatusCache
from callsight.storage import AudioStore
from callsight_worker.lifecycle.deletions import DeletionFinisher
from callsight_worker.lifecycle.retention import RetentionReaper
from tests.conftest import Api, unique
from tests.lifecycle import Receiver, new_org, s3_keys, sql, wait_until

pytestmark = pytest.mark.integration


def deleted_recordings() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("callsight_retention_deleted_total", {"kind": "audio"}) or 0.0


def stored_call(admin: Any, s3: Any, org_id: str, days_old: float, status: str = "Failed") -> str:
    """A call row with its recording in S3, uploaded `days_old` days ago (no job: it is final)."""
    uid = str(uuid.uuid4())
    key = f"orgs/{org_id}/calls/{uid}/audio"
    s3.put_object(Bucket="callsight", Key=key, Body=b"RIFF....WAVE")
    admin.outbox.create(uid=uid, org_id=org_id, call_id=unique("aged"), status=status, status_rank=2,
                        error="made by the test" if status == "Failed" else None, language="en-US",
                        call_date="2026-01-01", audio_format="wav", size_bytes=12, audio_key=key)
    sql(admin, "UPDATE calls SET created_at = now() - make_interval(days => :d) WHERE uid = :u", d=days_old, u=uid)
    return uid


def test_the_reaper_deletes_in_batches_with_a_log_line_and_a_metric_each(
    stack: Any, admin: Any, api: Api, caplog: pytest.LogCaptureFixture,
) -> None:
    org = new_org(admin, api, "reaper-batches")
    org_id = org.org_id
    s3 = clients_from_env(stack.env)[0]
    stack.hold("lifecycle")  # the stack's own reaper would take these batches first
    try:
        admin.orgs.set_retention(org_id, 10, 30)
        old_recordings = [stored_call(admin, s3, org_id, 12) for _ in range(5)]
        expired = [stored_call(admin, s3, org_id, 40) for _ in range(3)]
        young = stored_call(admin, s3, org_id, 2)
        store = AudioStore(s3, "callsight")
        cache = StatusCache(stack.env["CALLSIGHT_REDIS_URL"])
        finisher = DeletionFinisher(DeletionRepository(admin.engine), store, cache)
        reaper = RetentionReaper(RetentionRepository(admin.engine), store, finisher, batch=2)
        audio_before = deleted_recordings()
        with caplog.at_level(logging.INFO, logger="callsight_worker.lifecycle.retention"):
            totals = reaper.run_once()
        assert totals["audio"] >= 5 and totals["transcript"] >= 3  # (other organisations' too, if any)
        mine = [r.getMessage() for r in caplog.records if f"of {org_id} " in r.getMessage()]
        assert mine == [
            f"retention: deleted 2 calls of {org_id} older than 30 days in " + mine[0].rsplit(" in ", 1)[1],
            f"retention: deleted 1 calls of {org_id} older than 30 days in " + mine[1].rsplit(" in ", 1)[1],
            f"retention: deleted 2 recordings of {org_id} older than 10 days in " + mine[2].rsplit(" in ", 1)[1],
            f"retention: deleted 2 recordings of {org_id} older than 10 days in " + mine[3].rsplit(" in ", 1)[1],
            f"retention: deleted 1 recordings of {org_id} older than 10 days in " + mine[4].rsplit(" in ", 1)[1],
        ]
        assert deleted_recordings() - audio_before >= 5
        for uid in old_recordings:
            assert not s3_keys(s3, f"orgs/{org_id}/calls/{uid}/")
            assert sql(admin, "SELECT audio_deleted_at FROM calls WHERE uid = :u", u=uid)[0]["audio_deleted_at"]
        for uid in expired:
            assert not sql(admin, "SELECT 1 FROM calls WHERE uid = :u", u=uid)
            assert not s3_keys(s3, f"orgs/{org_id}/calls/{uid}/")
        assert s3_keys(s3, f"orgs/{org_id}/calls/{young}/")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="callsight_worker.lifecycle.retention"):
            reaper.run_once()  # a second pass finds nothing more of this organisation
        assert not [r for r in caplog.records if f"of {org_id} " in r.getMessage()]
    finally:
        stack.release("lifecycle")


def test_a_delivery_whose_call_is_deleted_first_is_cancelled_and_keeps_nothing(admin: Any, api: Api) -> None:
    org = new_org(admin, api, "cancelled-delivery")
    org_id = org.org_id
    receiver = Receiver().start()
    try:
        assert org.send("POST", "/api/webhooks", json={"url": receiver.url, "events": ["call.failed"]}).status_code == 201
        admin.outbox.create(uid=(uid := str(uuid.uuid4())), org_id=org_id, call_id=unique("gone"), language="en-US",
                            call_date="2026-01-01", audio_format="wav", size_bytes=1,
                            audio_key=f"orgs/{org_id}/calls/x/audio", status="Processing", status_rank=1)
        # Failed (the trigger makes the delivery) and deleted, in one transaction: the deliverer
        # only ever sees a delivery whose call is already gone
        from sqlalchemy import text

        with admin.engine.begin() as conn:
            conn.execute(text("UPDATE calls SET status = 'Failed', status_rank = 2, error = 'x' WHERE uid = :u"), {"u": uid})
            assert conn.execute(text("SELECT count(*) FROM webhook_deliveries WHERE call_uid = :u"), {"u": uid}).scalar() == 1
            conn.execute(text("UPDATE calls SET deleted_at = now() WHERE uid = :u"), {"u": uid})
            conn.execute(text("INSERT INTO call_deletions (call_uid, org_id, call_id, audio_key, reason) "
                              "SELECT uid, org_id, call_id, audio_key, 'request' FROM calls WHERE uid = :u"), {"u": uid})
        row = wait_until(lambda: [r for r in sql(admin, "SELECT * FROM webhook_deliveries WHERE call_uid = :u", u=uid)
                                  if r["state"] == "cancelled"], 30, "the delivery to be cancelled")[0]
        assert row["payload"] is None and row["last_error"]
        assert not receiver.received
    finally:
        receiver.stop()


def test_the_lifecycle_worker_is_not_ready_while_s3_is_unreachable(stack: Any, admin: Any) -> None:
    """It deletes recordings: PostgreSQL alone is not enough to be ready. Its own readiness
    checks in the shared monitor, against the stack's PostgreSQL and S3, and against an S3
    endpoint nothing listens on."""
    from callsight.aws import s3_client
    from callsight.health import DependencyMonitor
    from callsight_stack.servers import free_port
    from callsight_worker.lifecycle.__main__ import readiness_checks

    cache = StatusCache(stack.env["CALLSIGHT_REDIS_URL"])
    reachable = AudioStore(clients_from_env(stack.env)[0], "callsight")
    ready, checks = DependencyMonitor(readiness_checks(admin.engine, reachable, cache)).check_now()
    assert ready and checks == {"postgres": "ok", "s3": "ok", "redis": "ok"}, checks

    nowhere = s3_client(f"http://127.0.0.1:{free_port()}", "us-east-1", connect_timeout=1, max_attempts=1)
    unreachable = AudioStore(nowhere, "callsight")
    ready, checks = DependencyMonitor(readiness_checks(admin.engine, unreachable, cache)).check_now()
    assert not ready and checks["s3"].startswith("down") and checks["postgres"] == "ok", checks
    # a missing bucket is as bad as no S3 at all
    ready, checks = DependencyMonitor(readiness_checks(admin.engine, AudioStore(clients_from_env(stack.env)[0],
                                                                                unique("no-bucket")), cache)).check_now()
    assert not ready and checks["s3"].startswith("down"), checks
