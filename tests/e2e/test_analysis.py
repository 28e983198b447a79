"""Call analytics end to end: stored with the transcript, re-run on demand, aggregated per operator."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.schema import analyses
from tests import audio
from tests.conftest import Api, unique

pytestmark = pytest.mark.e2e


def new_org(admin: Any, api: Api, **settings: Any) -> Api:
    org_id = unique("org")
    admin.orgs.ensure_org(org_id, org_id, "en-US")
    if settings:
        admin.orgs.update_settings(org_id, **settings)
    key, _ = admin.orgs.create_api_key(org_id, "test")
    return Api(api.url, key)


def send(client: Api, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{client.url}{path}", headers={"X-API-Key": client.key}, json=body, timeout=30)


def wait_analysis(client: Api, call_id: str, changed_from: str | None = None, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = client.get(f"/api/calls/{call_id}/analysis")
        if r.status_code == 200 and r.json()["updated_at"] != changed_from:
            return r.json()
        time.sleep(0.5)
    raise AssertionError(f"no (new) analysis for {call_id} after {timeout_s} s")


@pytest.fixture(scope="module")
def analysed_call(admin: Any, api: Api, tmp_path_factory: pytest.TempPathFactory) -> tuple[Api, str]:
    """One stereo call with known turns, uploaded to a fresh organisation with analytics on."""
    client = new_org(admin, api)
    path = audio.stereo_call(tmp_path_factory.mktemp("analysis") / "call.wav")
    call_id = unique("analysed")
    r = client.upload(path, call_id=call_id, language="en-US", operator_id="op-1", department="sales")
    assert r.status_code == 201, r.text
    assert client.wait_final(call_id)["status"] == "Done"
    return client, call_id


def test_a_done_call_carries_its_analysis_and_the_metrics_match_the_turns(analysed_call: tuple[Api, str]) -> None:
    client, call_id = analysed_call
    r = client.get(f"/api/calls/{call_id}/analysis")
    assert r.status_code == 200, r.text
    analysis = r.json()
    m = analysis["metrics"]
    op1, cu1, op2 = (len(audio.speech(n)) / audio.RATE for n in ("dashwood", "ill_disposed", "amiable"))
    expected_share = (op1 + op2) / (op1 + cu1 + op2)
    assert m["speakers"]["operator"]["talk_share"] == pytest.approx(expected_share, abs=0.08)
    assert m["speaker_switches"] == 2  # operator -> customer -> operator
    assert m["speakers"]["customer"]["turns"] == 1
    assert m["silence_count"] == 0  # the gaps are 0.8 s plus the clips' own edges
    assert m["longest_gap"]["duration_s"] < 3
    assert analysis["scorecard"]["form"]["name"] == "default-en"
    assert analysis["call_id"] == call_id


def test_s3_holds_only_the_recording_the_analysis_is_in_postgresql(analysed_call: tuple[Api, str], admin: Any,
                                                                    s3: Any, stack: Any) -> None:
    """One owner for each piece of data: the transcript and analysis JSON copies in S3 had no
    reader and are gone; the call's S3 prefix holds its recording only."""
    client, call_id = analysed_call
    call = admin.calls.get(client_org(admin, client), call_id)
    listed = s3.list_objects_v2(Bucket=stack.env["CALLSIGHT_S3_BUCKET"], Prefix=f"orgs/{call.org_id}/calls/{call.uid}/")
    assert [o["Key"] for o in listed.get("Contents", [])] == [call.audio_key]
    assert AnalysisRepository(admin.engine).get(call.org_id, call.uid) is not None
    assert client.get(f"/api/calls/{call_id}/analysis").json()["call_id"] == call_id


def client_org(admin: Any, client: Api) -> str:
    key = admin.orgs.authenticate(client.key)
    return str(key.org_id)


def test_changing_the_qa_form_and_rerunning_changes_the_score(analysed_call: tuple[Api, str]) -> None:
    client, call_id = analysed_call
    before = client.get(f"/api/calls/{call_id}/analysis").json()
    says: dict[str, Any] = {"name": "says-dashwood", "language": "en-US",
            "items": [{"id": "dashwood", "kind": "required_phrase", "phrases": ["dashwood"], "speaker": "operator"}]}
    r = send(client, "PUT", "/api/settings/qa-form", says)
    assert r.status_code == 200, r.text
    assert r.json()["is_default"] is False and r.json()["form"]["name"] == "says-dashwood"
    r = send(client, "POST", f"/api/calls/{call_id}/analysis")
    assert r.status_code == 202, r.text
    after = wait_analysis(client, call_id, changed_from=before["updated_at"])
    assert after["scorecard"]["form"]["name"] == "says-dashwood"
    assert after["scorecard"]["score"] == 100.0
    forbid = {**says, "name": "never-dashwood", "items": [{**says["items"][0], "kind": "forbidden_phrase"}]}
    assert send(client, "PUT", "/api/settings/qa-form", forbid).status_code == 200
    assert send(client, "POST", "/api/analysis/rerun", {"operator_id": "op-1"}).json() == {"queued": 1}
    again = wait_analysis(client, call_id, changed_from=after["updated_at"])
    assert again["scorecard"]["score"] == 0.0
    assert client.call(call_id)["status"] == "Done"  # a re-run never moves the call
    r = send(client, "PUT", "/api/settings/qa-form", {"default": True})
    assert r.json()["is_default"] is True and r.json()["form"]["name"] == "default-en"


def test_an_org_without_auto_analytics_gets_an_analysis_only_when_asked(admin: Any, api: Api, tmp_path: Path) -> None:
    client = new_org(admin, api, auto_generate_analytics=False)
    call_id = unique("manual")
    client.upload(audio.encode(tmp_path / "m.wav", [audio.speech("amiable")], "wav"), call_id=call_id,
                  language="en-US")
    assert client.wait_final(call_id)["status"] == "Done"
    r = client.get(f"/api/calls/{call_id}/analysis")
    assert r.status_code == 404 and "POST" in r.json()["message"]
    assert send(client, "POST", f"/api/calls/{call_id}/analysis").status_code == 202
    assert wait_analysis(client, call_id)["speaker_mode"] == "mono"


def test_analysis_of_an_unknown_or_foreign_call_is_404(analysed_call: tuple[Api, str], admin: Any, api: Api) -> None:
    _, call_id = analysed_call
    other = new_org(admin, api)
    assert other.get(f"/api/calls/{call_id}/analysis").status_code == 404
    assert send(other, "POST", f"/api/calls/{call_id}/analysis").status_code == 404
    assert other.get("/api/scorecards/operators/op-1").status_code == 404


def test_analysis_of_a_call_not_done_is_409(admin: Any, api: Api, tmp_path: Path) -> None:
    client = new_org(admin, api)
    org_id = client_org(admin, client)
    seeded = seed_call(admin, org_id, "op-q", "d", dt.date(2026, 1, 5), status="Queued")
    assert client.get(f"/api/calls/{seeded}/analysis").status_code == 409
    assert send(client, "POST", f"/api/calls/{seeded}/analysis").status_code == 409


# ---- aggregates over seeded calls (known figures, no audio needed) --------------------------------


def seed_call(admin: Any, org_id: str, operator: str, department: str, day: dt.date, status: str = "Done",
              customer: str | None = None, score: float | None = None, share: float = 0.5,
              items: dict[str, bool] | None = None, change: float = 0.0) -> str:
    call_id = unique("seed")
    uid = str(uuid.uuid4())
    admin.outbox.create(uid=uid, org_id=org_id, call_id=call_id, language="en-US", operator_id=operator,
                       customer_id=customer, department=department, call_date=day, audio_format="wav",
                       size_bytes=1, audio_key=f"orgs/{org_id}/calls/{uid}/audio", status=status,
                       status_rank=2 if status == "Done" else 0)
    if score is not None:
        result = {
            "analysis_version": "test",
            "metrics": {"speakers": {"operator": {"talk_share": share}}, "silence_time_s": 2.0,
                        "longest_gap": {"duration_s": 2.0}, "interruptions": [{}]},
            "sentiment": {"customer_start": 0.0, "customer_end": change, "customer_change": change},
            "scorecard": {"score": score, "items": [{"id": k, "passed": v} for k, v in (items or {}).items()]},
        }
        AnalysisRepository(admin.engine).upsert(uid, org_id, result)
    return call_id


@pytest.fixture(scope="module")
def seeded(admin: Any, api: Api) -> tuple[Api, str]:
    client = new_org(admin, api)
    org = client_org(admin, client)
    jan5, jan6, jan14, feb2 = dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 14), dt.date(2026, 2, 2)
    seed_call(admin, org, "ann", "sales", jan5, score=80, share=0.6, items={"greet": True, "close": False},
              change=0.2, customer="cust-1")
    seed_call(admin, org, "ann", "sales", jan14, score=60, share=0.4, items={"greet": False, "close": False},
              change=0.4, customer="cust-1")
    seed_call(admin, org, "bob", "support", jan6, score=100, share=0.5, items={"greet": True}, customer="cust-1")
    seed_call(admin, org, "bob", "support", feb2, score=20)  # outside January
    seed_call(admin, org, "cid", "support", jan6, status="Queued", customer="cust-1")  # not Done: not counted
    return client, org


JANUARY = {"date_from": "2026-01-01", "date_to": "2026-01-31"}


def test_operator_scorecards_aggregate_done_calls_in_the_range(seeded: tuple[Api, str]) -> None:
    client, _ = seeded
    r = client.get("/api/scorecards/operators", **JANUARY)
    assert r.status_code == 200, r.text
    ops = {o["operator_id"]: o for o in r.json()["operators"]}
    assert set(ops) == {"ann", "bob"}
    ann = ops["ann"]
    assert ann["call_count"] == 2 and ann["analysed_calls"] == 2
    assert ann["mean_qa_score"] == pytest.approx(70)
    assert ann["mean_operator_talk_share"] == pytest.approx(0.5)
    assert ann["mean_customer_sentiment_change"] == pytest.approx(0.3)
    assert ann["mean_interruptions"] == pytest.approx(1)
    assert ann["items"]["greet"] == {"pass_rate": 0.5, "passed": 1, "evaluated": 2}
    assert ann["items"]["close"]["pass_rate"] == 0
    assert ops["bob"]["call_count"] == 1 and ops["bob"]["mean_qa_score"] == 100


def test_operator_scorecards_sort_and_filter_by_department(seeded: tuple[Api, str]) -> None:
    client, _ = seeded
    by_score = client.get("/api/scorecards/operators", sort="mean_qa_score", order="desc", **JANUARY).json()
    assert [o["operator_id"] for o in by_score["operators"]] == ["bob", "ann"]
    asc = client.get("/api/scorecards/operators", sort="mean_qa_score", **JANUARY).json()
    assert [o["operator_id"] for o in asc["operators"]] == ["ann", "bob"]
    sales = client.get("/api/scorecards/operators", department="sales", **JANUARY).json()
    assert [o["operator_id"] for o in sales["operators"]] == ["ann"]
    whole = client.get("/api/scorecards/operators").json()
    assert "operators" in whole, whole
    assert {o["operator_id"]: o["call_count"] for o in whole["operators"]} == {"ann": 2, "bob": 2}


def test_one_operator_has_item_rates_a_weekly_trend_and_their_calls(seeded: tuple[Api, str]) -> None:
    client, _ = seeded
    r = client.get("/api/scorecards/operators/ann", **JANUARY)
    assert r.status_code == 200, r.text
    ann = r.json()
    assert ann["call_count"] == 2 and ann["items"]["greet"]["pass_rate"] == 0.5
    assert [(w["iso_week"], w["mean_qa_score"]) for w in ann["trend"]] == [("2026-W02", 80), ("2026-W03", 60)]
    assert [c["call_date"] for c in ann["calls"]] == ["2026-01-14", "2026-01-05"]
    assert client.get("/api/scorecards/operators/nobody").status_code == 404


def test_department_analytics_and_a_customers_calls_in_time_order(seeded: tuple[Api, str]) -> None:
    client, _ = seeded
    departments = {d["department"]: d for d in client.get("/api/analytics/departments", **JANUARY).json()["departments"]}
    assert departments["sales"]["call_count"] == 2 and departments["sales"]["operators"] == 1
    assert departments["support"]["call_count"] == 1 and departments["support"]["mean_qa_score"] == 100
    history = client.get("/api/customers/cust-1/calls").json()["calls"]
    assert [c["call_date"] for c in history] == ["2026-01-05", "2026-01-06", "2026-01-06", "2026-01-14"]
    assert {c["status"] for c in history} == {"Done", "Queued"}
    support = client.get("/api/customers/cust-1/calls", department="support").json()["calls"]
    assert {c["operator_id"] for c in support} == {"bob", "cid"}


def test_another_organisation_sees_none_of_these_figures(seeded: tuple[Api, str], admin: Any, api: Api) -> None:
    other = new_org(admin, api)
    assert other.get("/api/scorecards/operators").json()["operators"] == []
    assert other.get("/api/analytics/departments").json()["departments"] == []
    assert other.get("/api/customers/cust-1/calls").json()["calls"] == []


@pytest.mark.parametrize(("path", "params", "code", "message"), [
    ("/api/scorecards/operators", {"date_from": "01/02/2026"}, "invalid_date", "date_from must be a date"),
    ("/api/scorecards/operators", {"date_from": "2026-02-01", "date_to": "2026-01-01"}, "invalid_date",
     "must not be after"),
    ("/api/scorecards/operators", {"sort": "height"}, "invalid_sort", "sort must be one of"),
    ("/api/scorecards/operators", {"sort": "call_count", "order": "up"}, "invalid_sort", "order must be asc or desc"),
    ("/api/analytics/departments", {"date_to": "soon"}, "invalid_date", "date_to must be a date"),
    ("/api/customers/c/calls", {"date_from": "2026-13-01"}, "invalid_date", "date_from must be a date"),
])
def test_bad_query_strings_are_400_with_a_clear_message(seeded: tuple[Api, str], path: str,
                                                        params: dict[str, str], code: str, message: str) -> None:
    client, _ = seeded
    r = client.get(path, **params)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == code and message in r.json()["message"]


def test_a_bad_qa_form_is_400_and_the_stored_form_is_unchanged(seeded: tuple[Api, str]) -> None:
    client, _ = seeded
    before = client.get("/api/settings/qa-form").json()
    r = send(client, "PUT", "/api/settings/qa-form", {"name": "x", "items": [{"id": "a", "kind": "shout"}]})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_form" and "unknown kind 'shout'" in r.json()["message"]
    assert client.get("/api/settings/qa-form").json() == before


def test_bad_rerun_filters_are_400(seeded: tuple[Api, str]) -> None:
    client, _ = seeded
    r = send(client, "POST", "/api/analysis/rerun", {"status": "Failed"})
    assert r.status_code == 400 and "only Done calls" in r.json()["message"]


def test_a_repeated_analysis_write_leaves_one_row(admin: Any, api: Api) -> None:
    org = client_org(admin, new_org(admin, api))
    call_id = seed_call(admin, org, "dup", "d", dt.date(2026, 1, 5), score=50)
    uid = admin.calls.get(org, call_id).uid
    repo = AnalysisRepository(admin.engine)
    repo.upsert(uid, org, {"analysis_version": "x", "scorecard": {"score": 55}})
    stored = repo.get(org, uid)
    assert stored is not None and stored.qa_score == 55
    with admin.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(analyses).where(analyses.c.call_uid == uid)).scalar() == 1
