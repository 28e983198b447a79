"""The audit log, end to end: who viewed, played, exported, re-analysed, retried or deleted
which call, when and from where — by API key and by signed-in user — filtered over the API,
append-only in the database itself, and for administrators only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc

from tests.audio import corrupt_wav, stereo_call
from tests.conftest import Api, unique
from tests.lifecycle import OrgApi, new_org, sql, wait_until, web_session

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org(admin: Any, api: Api) -> OrgApi:
    return new_org(admin, api, "audit")


def entries(org: OrgApi, **params: Any) -> list[dict[str, Any]]:
    r = org.get("/api/audit", **params)
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


def test_every_access_and_change_of_a_call_is_recorded_with_who_and_from_where(
    admin: Any, org: OrgApi, tmp_path: Path,
) -> None:
    call_id = unique("audited")
    assert org.upload(stereo_call(tmp_path / "a.wav"), call_id=call_id, language="en-US").status_code == 201
    assert org.wait_final(call_id)["status"] == "Done"  # polls GET /api/calls/{id}: one "viewed" per minute
    ua = {"User-Agent": "crm-sync/2.1"}
    assert org.send("GET", f"/api/calls/{call_id}/transcript", params={"format": "srt"}, headers=ua).status_code == 200
    assert org.send("GET", f"/api/calls/{call_id}/transcript", params={"format": "vtt"}, headers=ua).status_code == 200
    assert org.send("GET", f"/api/calls/{call_id}/analysis").status_code == 200
    assert org.send("POST", f"/api/calls/{call_id}/analysis").status_code == 202

    session, _ = web_session(admin, org.url, org.org_id)
    assert session.get(f"{org.url}/calls/{call_id}", timeout=10).status_code == 200
    audio = session.get(f"{org.url}/web/calls/{call_id}/audio", headers={"Range": "bytes=0-1023"}, timeout=10)
    assert audio.status_code == 206
    # the player's next ranges are the same playback: still one "played"
    assert session.get(f"{org.url}/web/calls/{call_id}/audio", headers={"Range": "bytes=1024-"},
                       timeout=10).status_code == 206
    assert org.send("DELETE", f"/api/calls/{call_id}").status_code == 204

    log = entries(org, call_id=call_id, limit=100)
    actions = [e["action"] for e in log]
    assert actions[0] == "deleted"  # newest first
    assert actions.count("played") == 1 and actions.count("reanalysed") == 1 and actions.count("exported") == 2
    assert actions.count("viewed") >= 3  # the call (polled: at most one a minute), its analysis, its page
    exported = [e for e in log if e["action"] == "exported"]
    assert {e["detail"] for e in exported} == {"srt", "vtt"}
    assert all(e["user_agent"] == "crm-sync/2.1" and e["ip"] == "127.0.0.1" for e in exported)
    by_key = [e for e in log if e["actor"]["type"] == "api_key"]
    assert by_key and all("audit admin (csk_" in e["actor"]["name"] for e in by_key)
    by_user = [e for e in log if e["actor"]["type"] == "user"]
    assert {e["action"] for e in by_user} == {"viewed", "played"}
    assert all(e["actor"]["name"] == session.email for e in by_user)

    # filters
    assert [e["action"] for e in entries(org, call_id=call_id, action="played")] == ["played"]
    assert {e["action"] for e in entries(org, call_id=call_id, action="exported,deleted")} == {"exported", "deleted"}
    assert {e["actor"]["type"] for e in entries(org, call_id=call_id, actor=session.email)} == {"user"}
    assert entries(org, call_id=call_id, since="2999-01-01") == []
    first = entries(org, call_id=call_id, limit=2)
    page = org.get("/api/audit", call_id=call_id, limit=2).json()
    assert page["next_url"] and [e["id"] for e in page["entries"]] == [e["id"] for e in first]
    rest = org.send("GET", page["next_url"]).json()
    assert rest["entries"] and rest["entries"][0]["id"] < first[-1]["id"]


def test_a_retry_is_recorded(org: OrgApi, tmp_path: Path) -> None:
    call_id = unique("audit-retry")
    assert org.upload(corrupt_wav(tmp_path / "bad.wav"), call_id=call_id).status_code == 201
    assert org.wait_final(call_id)["status"] == "Failed"
    assert org.send("POST", f"/api/calls/{call_id}/retry").status_code == 202
    assert [e["action"] for e in entries(org, call_id=call_id, action="retried")] == ["retried"]


def test_the_audit_log_cannot_be_changed_or_emptied(admin: Any, org: OrgApi) -> None:
    wait_until(lambda: entries(org), 5, "an audit entry")
    for statement in ("UPDATE audit_log SET actor_name = 'someone else'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            sql(admin, statement)
    assert entries(org)


def test_only_administrators_read_it(admin: Any, org: OrgApi) -> None:
    reader, _ = admin.orgs.create_api_key(org.org_id, "reader", ["read"])
    r = org.get("/api/audit", key=reader)
    assert r.status_code == 403 and "'admin' scope" in r.json()["message"]
    supervisor, _ = web_session(admin, org.url, org.org_id, role="supervisor")
    assert supervisor.get(f"{org.url}/api/audit", timeout=10).status_code == 403
    assert supervisor.get(f"{org.url}/audit", timeout=10).status_code == 403


def test_another_organisations_log_is_not_shown(admin: Any, api: Api, org: OrgApi) -> None:
    other = new_org(admin, api, "audit-other")
    mine = {e["id"] for e in entries(org, limit=500)}
    theirs = {e["id"] for e in entries(other, limit=500)}
    assert mine and not mine & theirs


@pytest.mark.parametrize(("params", "says"), [
    ({"action": "stared"}, "action must be among"),
    ({"actor_type": "robot"}, "actor_type must be one of"),
    ({"since": "yesterday"}, "since must be a date"),
    ({"since": "2026-02-01", "until": "2026-01-01"}, "since must be before until"),
    ({"before_id": "abc"}, "before_id must be"),
    ({"limit": "0"}, "limit must be between"),
])
def test_bad_filters_are_refused_with_the_rule(org: OrgApi, params: dict[str, str], says: str) -> None:
    r = org.get("/api/audit", **params)
    assert r.status_code == 400 and says in r.json()["message"], r.text
