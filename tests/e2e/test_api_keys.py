"""Scoped API keys over the API, as an administrator's script would use them: made with
scopes and an expiry (the key shown once), listed without secrets, used within their scopes
only (403 naming the missing one), expired (401), revoked (401); bad requests refused."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from tests.audio import stereo_call
from tests.conftest import Api, unique
from tests.lifecycle import OrgApi, new_org, web_session

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org(admin: Any, api: Api) -> OrgApi:
    return new_org(admin, api, "keys")


def make_key(org: OrgApi, **body: Any) -> dict[str, Any]:
    r = org.send("POST", "/api/keys", json=body)
    assert r.status_code == 201, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    return r.json()


def test_the_demo_key_printed_by_make_up_is_an_administrator(api: Api) -> None:
    r = api.get("/api/keys")
    assert r.status_code == 200
    demo = [k for k in r.json()["keys"] if api.key.startswith(k["prefix"])]
    assert demo and set(demo[0]["scopes"]) == {"ingest", "read", "admin"}


def test_a_key_is_shown_once_and_listed_without_its_secret(org: OrgApi) -> None:
    made = make_key(org, name="CRM reader", scopes=["read"], expires_at=None)
    assert made["key"].startswith(made["prefix"] + "_") and made["scopes"] == ["read"]
    assert made["status"] == "active" and made["expires_at"] is None and made["last_used_at"] is None
    listed = org.get("/api/keys").json()["keys"]
    assert [k for k in listed if k["id"] == made["id"]][0]["name"] == "CRM reader"
    assert made["key"] not in org.get("/api/keys").text and "key" not in listed[0]


def test_each_scope_allows_only_its_part_and_403_names_the_missing_scope(org: OrgApi, tmp_path: Path) -> None:
    reader = make_key(org, name="reader", scopes=["read"])["key"]
    ingester = make_key(org, name="ingester", scopes=["ingest"])["key"]
    wav = stereo_call(tmp_path / "scoped.wav")
    call_id = unique("scoped")

    r = org.upload(wav, key=reader, call_id=call_id, language="en-US")
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    assert "'ingest' scope" in r.json()["message"]
    r = org.upload(wav, key=ingester, call_id=call_id, language="en-US")
    assert r.status_code == 201, r.text
    r = org.get(f"/api/calls/{call_id}", key=ingester)
    assert r.status_code == 403 and "'read' scope" in r.json()["message"]
    assert org.get(f"/api/calls/{call_id}", key=reader).status_code == 200
    for method, path in (("GET", "/api/keys"), ("POST", "/api/keys"), ("GET", "/api/audit"),
                         ("GET", "/api/webhooks"), ("DELETE", f"/api/calls/{call_id}"),
                         ("PUT", "/api/settings/retention"), ("POST", "/api/analysis/rerun")):
        r = org.send(method, path, key=reader, json={})
        assert r.status_code == 403, (method, path, r.text)
        assert "'admin' scope" in r.json()["message"], r.text
    assert org.get(f"/api/calls/{call_id}").status_code == 200  # nothing was deleted


def test_last_use_is_recorded(org: OrgApi) -> None:
    made = make_key(org, name="used", scopes=["read"])
    assert org.get("/api/calls", key=made["key"]).status_code == 200
    listed = {k["id"]: k for k in org.get("/api/keys").json()["keys"]}
    assert listed[made["id"]]["last_used_at"] is not None


def test_an_expired_key_is_refused_with_its_expiry(org: OrgApi) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)).isoformat()
    made = make_key(org, name="short-lived", scopes=["read"], expires_at=soon)
    assert org.get("/api/calls", key=made["key"]).status_code == 200
    time.sleep(4)
    r = org.get("/api/calls", key=made["key"])
    assert r.status_code == 401 and r.json()["error"] == "expired_api_key" and "expired on" in r.json()["message"]
    listed = {k["id"]: k for k in org.get("/api/keys").json()["keys"]}
    assert listed[made["id"]]["status"] == "expired"


def test_a_date_expiry_means_through_that_day(org: OrgApi) -> None:
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()
    made = make_key(org, name="through tomorrow", scopes=["read"], expires_at=tomorrow.isoformat())
    assert made["expires_at"] == f"{tomorrow + dt.timedelta(days=1)}T00:00:00Z"


def test_a_revoked_key_stops_at_once(org: OrgApi) -> None:
    made = make_key(org, name="to revoke", scopes=["read", "ingest"])
    assert org.get("/api/calls", key=made["key"]).status_code == 200
    assert org.send("DELETE", f"/api/keys/{made['id']}").status_code == 204
    assert org.get("/api/calls", key=made["key"]).status_code == 401
    assert org.send("DELETE", f"/api/keys/{made['id']}").status_code == 204  # again: the same
    assert org.send("DELETE", f"/api/keys/{unique('nokey')}").status_code == 404


def test_an_admin_key_can_make_keys_and_an_admin_session_too(admin: Any, org: OrgApi) -> None:
    admin_key = make_key(org, name="delegated admin", scopes=["admin"])["key"]
    r = org.send("POST", "/api/keys", key=admin_key, json={"name": "made by a key", "scopes": ["ingest"]})
    assert r.status_code == 201 and r.json()["created_by"].startswith("api_key:delegated admin")
    session, csrf = web_session(admin, org.url, org.org_id)
    r = session.post(f"{org.url}/api/keys", json={"name": "by a person", "scopes": ["read"]},
                     headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 201 and r.json()["created_by"] == f"user:{session.email}"
    supervisor, csrf = web_session(admin, org.url, org.org_id, role="supervisor")
    r = supervisor.post(f"{org.url}/api/keys", json={"name": "no", "scopes": ["read"]},
                        headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 403


def test_keys_of_another_organisation_are_out_of_reach(admin: Any, api: Api, org: OrgApi) -> None:
    other = new_org(admin, api, "keys-other")
    theirs = make_key(other, name="theirs", scopes=["read"])
    assert theirs["id"] not in [k["id"] for k in org.get("/api/keys").json()["keys"]]
    assert org.send("DELETE", f"/api/keys/{theirs['id']}").status_code == 404
    assert other.get("/api/calls", key=theirs["key"]).status_code == 200


@pytest.mark.parametrize(("body", "says"), [
    ({"scopes": ["read"]}, "name is required"),
    ({"name": "x", "scopes": []}, "scopes must be a non-empty list"),
    ({"name": "x", "scopes": ["read", "superuser"]}, "unknown values ['superuser']"),
    ({"name": "x", "scopes": "read"}, "scopes must be a non-empty list"),
    ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "must be in the future"),
    ({"name": "x", "scopes": ["read"], "expires_at": "next tuesday"}, "expires_at must be a date-time"),
    ({"name": "x", "scopes": ["read"], "expires_at": "2999-01-01"}, "within 10 years"),
    ({"name": "x" * 201, "scopes": ["read"]}, "name is too long"),
    ({"name": "x", "scopes": ["read"], "role": "admin"}, "unknown fields ['role']"),
    ([], "must be a JSON object"),
])
def test_bad_key_requests_are_refused_with_the_rule(org: OrgApi, body: Any, says: str) -> None:
    r = org.send("POST", "/api/keys", json=body)
    assert r.status_code == 400, r.text
    assert says in r.json()["message"]


def test_a_key_request_that_is_not_json_is_refused(org: OrgApi) -> None:
    r = org.send("POST", "/api/keys", data="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "JSON object" in r.json()["message"]
