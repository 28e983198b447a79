"""Deleting a call, end to end on the real stack: 204, then 404 everywhere (REST, gRPC, the
web app, search, scorecards), every S3 object gone (listed in the real SeaweedFS), every row
gone, idempotent, the Call ID usable again, and a deletion that waits out a lifecycle worker
that is down (the tombstone is finished when it is back)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest

from callsight.v1 import analytics_pb2, analytics_pb2_grpc, calls_pb2, calls_pb2_grpc
from tests.audio import stereo_call
from tests.conftest import Api, unique
from tests.grpc_client import status_channel
from tests.lifecycle import OrgApi, call_row, new_org, s3_keys, sql, uid_of, wait_until, web_session

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org(admin: Any, api: Api) -> OrgApi:
    return new_org(admin, api, "deletion")


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stereo_call(tmp_path_factory.mktemp("deletion") / "call.wav")


def done_call(org: OrgApi, wav: Path, **fields: Any) -> dict[str, Any]:
    call_id = unique("del")
    r = org.upload(wav, call_id=call_id, language="en-US", **fields)
    assert r.status_code == 201, r.text
    call = org.wait_final(call_id)
    assert call["status"] == "Done", call
    return call


def test_a_deleted_call_is_gone_everywhere_and_its_call_id_is_free(
    stack: Any, admin: Any, org: OrgApi, wav: Path, s3: Any,
) -> None:
    operator, customer = unique("op"), unique("cust")
    call = done_call(org, wav, operator_id=operator, customer_id=customer, department="deletion-dept")
    call_id, org_id = call["call_id"], org.org_id
    row = call_row(admin, org_id, call_id)
    assert row is not None
    prefix = f"orgs/{org_id}/calls/{row['uid']}/"
    assert s3_keys(s3, prefix), "the recording is stored before the deletion"
    words = max(call["transcript_text"].split(), key=len).strip(".,")
    assert org.get("/api/calls", q=words).json()["total_count"] >= 1
    assert org.get(f"/api/scorecards/operators/{operator}").status_code == 200

    r = org.send("DELETE", f"/api/calls/{call_id}")
    assert r.status_code == 204 and r.content == b""

    # REST: the call, its transcript, exports, analysis, lists, search, the customer's calls, scorecards
    for path in (f"/api/calls/{call_id}", f"/api/calls/{call_id}/transcript",
                 f"/api/calls/{call_id}/transcript?format=srt", f"/api/calls/{call_id}/analysis"):
        assert org.get(path).status_code == 404, path
    assert call_id not in [c["call_id"] for c in org.get("/api/calls", page_size=500).json()["calls"]]
    assert org.get("/api/calls", q=words).json()["total_count"] == 0
    assert org.get(f"/api/customers/{customer}/calls").json()["calls"] == []
    assert org.get(f"/api/scorecards/operators/{operator}").status_code == 404  # recomputed: no Done call left
    departments = org.get("/api/analytics/departments").json()["departments"]
    assert "deletion-dept" not in [d["department"] for d in departments]
    assert org.send("POST", f"/api/calls/{call_id}/analysis").status_code == 404
    assert org.send("POST", f"/api/calls/{call_id}/retry").status_code == 404

    # gRPC, as an internal reader (the gateway: its certificate, its organisation assertions) sees it
    channel = status_channel(stack.env)
    calls = calls_pb2_grpc.CallsServiceStub(channel)
    analytics = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    for rpc, message in ((calls.GetCall, calls_pb2.GetCallRequest(org_id=org_id, call_id=call_id)),
                         (calls.GetTranscript, calls_pb2.GetTranscriptRequest(org_id=org_id, call_id=call_id)),
                         (analytics.GetAnalysis, analytics_pb2.GetAnalysisRequest(org_id=org_id, call_id=call_id))):
        with pytest.raises(grpc.RpcError) as caught:
            rpc(message, timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = calls.ListCalls(calls_pb2.ListCallsRequest(org_id=org_id, page_size=500), timeout=10)
    assert call_id not in [c.call_id for c in listed.calls]

    # the web app
    session, _ = web_session(admin, org.url, org_id)
    assert session.get(f"{org.url}/calls/{call_id}", timeout=10).status_code == 404
    assert session.get(f"{org.url}/web/calls/{call_id}/audio", timeout=10).status_code == 404
    assert call_id not in session.get(f"{org.url}/web/dashboard.json", timeout=10).text

    # the lifecycle worker removes every object and row (SeaweedFS listed for real)
    wait_until(lambda: not s3_keys(s3, prefix), 30, "the call's S3 objects to be deleted")
    wait_until(lambda: call_row(admin, org_id, call_id) is None, 30, "the call's row to be deleted")
    uid = row["uid"]
    for table in ("transcripts", "analyses", "analysis_rerun_calls"):
        assert sql(admin, f"SELECT 1 FROM {table} WHERE call_uid = :u", u=uid) == [], table
    tombstone = sql(admin, "SELECT * FROM call_deletions WHERE call_uid = :u", u=uid)[0]
    assert tombstone["finished_at"] is not None and tombstone["reason"] == "request"
    assert tombstone["requested_by"].startswith("api_key:")

    # idempotent; an unknown call is 404
    assert org.send("DELETE", f"/api/calls/{call_id}").status_code == 204
    assert org.send("DELETE", f"/api/calls/{unique('never')}").status_code == 404

    # the Call ID is free again: a new upload under it is a new call
    r = org.upload(wav, call_id=call_id, language="en-US")
    assert r.status_code == 201, r.text
    again = org.wait_final(call_id)
    assert again["status"] == "Done"
    assert uid_of(admin, org_id, call_id) != uid


def test_deleting_a_call_still_queued_leaves_nothing_behind(admin: Any, org: OrgApi, wav: Path, s3: Any) -> None:
    """Deleted while a worker may be on it: no result, no status, no object comes back."""
    call_id = unique("del-queued")
    assert org.upload(wav, call_id=call_id, language="en-US").status_code == 201
    uid = uid_of(admin, org.org_id, call_id)
    assert org.send("DELETE", f"/api/calls/{call_id}").status_code == 204
    assert org.get(f"/api/calls/{call_id}").status_code == 404
    prefix = f"orgs/{org.org_id}/calls/{uid}/"
    wait_until(lambda: not s3_keys(s3, prefix) and not sql(admin, "SELECT 1 FROM calls WHERE uid = :u", u=uid),
               60, "the queued call to be deleted")
    # long enough for a worker that had taken the job to have finished it: nothing reappears
    wait_until(lambda: sql(admin, "SELECT finished_at FROM call_deletions WHERE call_uid = :u", u=uid)[0]["finished_at"],
               30, "the tombstone to be finished")
    assert org.get(f"/api/calls/{call_id}").status_code == 404
    assert not sql(admin, "SELECT 1 FROM transcripts WHERE call_uid = :u", u=uid)


def test_a_deletion_survives_its_worker_being_down_and_is_finished_when_it_is_back(
    stack: Any, admin: Any, org: OrgApi, wav: Path, s3: Any,
) -> None:
    call = done_call(org, wav)
    call_id, org_id = call["call_id"], org.org_id
    uid = uid_of(admin, org_id, call_id)
    prefix = f"orgs/{org_id}/calls/{uid}/"
    stack.hold("lifecycle")
    try:
        assert org.send("DELETE", f"/api/calls/{call_id}").status_code == 204
        assert org.get(f"/api/calls/{call_id}").status_code == 404  # gone for readers at once
        tombstone = sql(admin, "SELECT * FROM call_deletions WHERE call_uid = :u", u=uid)[0]
        assert tombstone["finished_at"] is None  # the work is still to do ...
        assert s3_keys(s3, prefix)  # ... and the recording still there
    finally:
        stack.release("lifecycle")
    wait_until(lambda: not s3_keys(s3, prefix), 30, "the recording to be deleted after the restart")
    wait_until(lambda: sql(admin, "SELECT finished_at FROM call_deletions WHERE call_uid = :u", u=uid)[0]["finished_at"],
               30, "the tombstone to be finished")
    assert call_row(admin, org_id, call_id) is None


def test_deleting_needs_an_administrator(admin: Any, org: OrgApi, wav: Path) -> None:
    call = done_call(org, wav)
    key, _ = admin.orgs.create_api_key(org.org_id, "reader", ["read", "ingest"])
    r = org.send("DELETE", f"/api/calls/{call['call_id']}", key=key)
    assert r.status_code == 403 and "'admin' scope" in r.json()["message"]
    session, csrf = web_session(admin, org.url, org.org_id, role="supervisor")
    r = session.delete(f"{org.url}/api/calls/{call['call_id']}", headers={"X-CSRF-Token": csrf}, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "admin_only"
    r = session.delete(f"{org.url}/api/calls/{call['call_id']}", timeout=10)  # no CSRF token
    assert r.status_code == 403
    assert org.get(f"/api/calls/{call['call_id']}").status_code == 200  # nothing was deleted
