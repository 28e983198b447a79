"""Retention end to end: an organisation keeps recordings 1 day and transcripts 2 days; the
stack's lifecycle worker (its reaper runs every 2 s in the test stack) deletes what is older
— a day going by is a call's upload time moved into the past in PostgreSQL — and leaves the
rest; a metric and a log line per batch; bad settings refused with the rule."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.audio import stereo_call
from tests.conftest import Api, unique
from tests.lifecycle import OrgApi, call_row, new_org, s3_keys, sql, uid_of, wait_until, web_session

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org(admin: Any, api: Api) -> OrgApi:
    return new_org(admin, api, "retention")


def age(admin: Any, org_id: str, call_id: str, hours: float) -> None:
    sql(admin, "UPDATE calls SET created_at = created_at - make_interval(secs => :s) "
               "WHERE org_id = :o AND call_id = :c AND deleted_at IS NULL", s=hours * 3600, o=org_id, c=call_id)


def lifecycle_metric(stack: Any, name: str, labels: str) -> float:
    port = stack.running["lifecycle"].spec.env["OPS_PORT"]
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    series = f"{name}{{{labels}}}" if labels else name
    match = re.search(rf"^{re.escape(series)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_retention_deletes_recordings_then_whole_calls_and_keeps_the_rest(
    stack: Any, admin: Any, org: OrgApi, s3: Any, tmp_path: Path,
) -> None:
    org_id = org.org_id
    assert org.get("/api/settings/retention").json() == {"audio_days": 0, "transcript_days": 0}
    r = org.send("PUT", "/api/settings/retention", json={"audio_days": 1, "transcript_days": 2})
    assert r.status_code == 200 and r.json() == {"audio_days": 1, "transcript_days": 2}
    wav = stereo_call(tmp_path / "kept.wav")
    ids = {name: unique(f"ret-{name}") for name in ("fresh", "old-audio", "expired")}
    for call_id in ids.values():
        assert org.upload(wav, call_id=call_id, language="en-US").status_code == 201
    for call_id in ids.values():
        assert org.wait_final(call_id)["status"] == "Done"
    uids = {name: uid_of(admin, org_id, call_id) for name, call_id in ids.items()}
    audio_before = lifecycle_metric(stack, "callsight_retention_deleted_total", 'kind="audio"')

    age(admin, org_id, ids["old-audio"], 36)  # past the recordings' day, within the transcripts' two
    age(admin, org_id, ids["expired"], 72)  # past both

    old_prefix = f"orgs/{org_id}/calls/{uids['old-audio']}/"
    recording = f"{old_prefix}audio"
    assert recording in s3_keys(s3, old_prefix)
    wait_until(lambda: recording not in s3_keys(s3, old_prefix), 60, "the old recording to be reaped")
    kept = org.call(ids["old-audio"])
    assert kept["audio_deleted_at"] and kept["status"] == "Done" and kept["transcript_text"]
    assert org.get(f"/api/calls/{ids['old-audio']}/transcript").status_code == 200
    assert org.get(f"/api/calls/{ids['old-audio']}/analysis").status_code == 200
    session, _ = web_session(admin, org.url, org_id)
    r = session.get(f"{org.url}/web/calls/{ids['old-audio']}/audio", timeout=10)
    assert r.status_code == 410 and "retention" in r.text
    assert "recording-deleted" in session.get(f"{org.url}/calls/{ids['old-audio']}", timeout=10).text

    expired_prefix = f"orgs/{org_id}/calls/{uids['expired']}/"
    wait_until(lambda: org.get(f"/api/calls/{ids['expired']}").status_code == 404, 60, "the old call to be reaped")
    wait_until(lambda: not s3_keys(s3, expired_prefix), 30, "its recording to go with it")
    assert call_row(admin, org_id, ids["expired"]) is None
    tombstone = sql(admin, "SELECT reason, finished_at FROM call_deletions WHERE call_uid = :u", u=uids["expired"])[0]
    assert tombstone["reason"] == "retention" and tombstone["finished_at"] is not None
    audit = org.get("/api/audit", call_id=ids["expired"], action="deleted").json()["entries"]
    assert audit and audit[0]["actor"] == {"type": "system", "id": None, "name": "retention"}

    fresh = org.call(ids["fresh"])
    assert fresh["audio_deleted_at"] is None
    assert f"orgs/{org_id}/calls/{uids['fresh']}/audio" in s3_keys(s3, f"orgs/{org_id}/calls/{uids['fresh']}/")

    assert lifecycle_metric(stack, "callsight_retention_deleted_total", 'kind="audio"') >= audio_before + 1
    assert lifecycle_metric(stack, "callsight_retention_deleted_total", 'kind="transcript"') >= 1
    log = (stack.run_dir / "logs" / "lifecycle.log").read_text()
    assert f"retention: deleted 1 recordings of {org_id} older than 1 days" in log
    assert f"retention: deleted 1 calls of {org_id} older than 2 days" in log


def test_zero_keeps_forever(stack: Any, admin: Any, api: Api, s3: Any, tmp_path: Path) -> None:
    forever = new_org(admin, api, "retention-forever")
    org_id = forever.org_id
    call_id = unique("ancient")
    assert forever.upload(stereo_call(tmp_path / "a.wav"), call_id=call_id, language="en-US").status_code == 201
    assert forever.wait_final(call_id)["status"] == "Done"
    age(admin, org_id, call_id, 24 * 365 * 20)
    passes = lifecycle_metric(stack, "callsight_retention_pass_seconds_count", "")
    wait_until(lambda: lifecycle_metric(stack, "callsight_retention_pass_seconds_count", "") >= passes + 2, 30,
               "two passes of the reaper")
    assert forever.call(call_id)["audio_deleted_at"] is None
    uid = uid_of(admin, org_id, call_id)
    assert f"orgs/{org_id}/calls/{uid}/audio" in s3_keys(s3, f"orgs/{org_id}/calls/{uid}/")


@pytest.mark.parametrize(("body", "says"), [
    ({"audio_days": -1, "transcript_days": 0}, "between 0 (keep forever) and 36500"),
    ({"audio_days": 30, "transcript_days": 10}, "audio_days must be between 1 and transcript_days"),
    ({"audio_days": 0, "transcript_days": 10}, "audio_days must be between 1 and transcript_days"),
    ({"audio_days": 1.5, "transcript_days": 0}, "whole number of days"),
    ({"audio_days": True, "transcript_days": 0}, "whole number of days"),
    ({"audio_days": 40000, "transcript_days": 0}, "between 0 (keep forever) and 36500"),
    ({"audio_days": 1}, "send both audio_days and transcript_days"),
    ({"audio_days": 1, "transcript_days": 2, "video_days": 3}, "unknown fields ['video_days']"),
    ([1, 2], "must be a JSON object"),
])
def test_bad_retention_is_refused_and_nothing_changes(org: OrgApi, body: Any, says: str) -> None:
    before = org.get("/api/settings/retention").json()
    r = org.send("PUT", "/api/settings/retention", json=body)
    assert r.status_code == 400 and says in r.json()["message"], r.text
    assert org.get("/api/settings/retention").json() == before
