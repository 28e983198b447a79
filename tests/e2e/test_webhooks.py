"""Webhooks end to end, against a real HTTP receiver on loopback (the local stack allows
loopback targets): signed deliveries of call.done, call.failed and analysis.done with the
call object; retries with backoff on non-2xx and on timeouts, the same bytes every time;
giving up after the retry window; redelivery; the delivery log; removal; targets refused by
the request forgery guard; bad requests refused."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audio import corrupt_wav, stereo_call
from tests.conftest import Api, unique
from tests.lifecycle import OrgApi, Receiver, new_org, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org(admin: Any, api: Api) -> OrgApi:
    return new_org(admin, api, "hooks")


@pytest.fixture()
def receiver(org: OrgApi) -> Iterator[Receiver]:
    """A fresh receiver per test; the test's webhooks are removed after it."""
    r = Receiver().start()
    yield r
    for hook in org.get("/api/webhooks").json()["webhooks"]:
        org.send("DELETE", f"/api/webhooks/{hook['id']}")
    r.stop()


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stereo_call(tmp_path_factory.mktemp("hooks") / "call.wav")


def register(org: OrgApi, url: str, events: list[str], description: str = "test") -> dict[str, Any]:
    r = org.send("POST", "/api/webhooks", json={"url": url, "events": events, "description": description})
    assert r.status_code == 201, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    return dict(r.json())


def deliveries(org: OrgApi, webhook_id: str) -> list[dict[str, Any]]:
    r = org.get(f"/api/webhooks/{webhook_id}/deliveries")
    assert r.status_code == 200, r.text
    return list(r.json()["deliveries"])


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_deliveries_are_signed_json_posts_of_the_call(org: OrgApi, receiver: Receiver, wav: Path, tmp_path: Path) -> None:
    hook = register(org, receiver.url, ["call.done", "call.failed", "analysis.done"], "CRM")
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["call.done", "call.failed", "analysis.done"]
    assert "secret" not in org.get(f"/api/webhooks/{hook['id']}").json()
    assert hook["secret"] not in org.get("/api/webhooks").text

    call_id = unique("hooked")
    assert org.upload(wav, call_id=call_id, language="en-US", customer_id="C-77").status_code == 201
    done = wait_until(lambda: receiver.of_event("call.done", call_id), 240, "call.done to arrive")[0]
    analysed = wait_until(lambda: receiver.of_event("analysis.done", call_id), 30, "analysis.done to arrive")[0]

    for got in (done, analysed):
        assert got.path == "/hooks/callsight"
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["X-Callsight-Signature"] == signed(hook["secret"], got.body)
        assert not hmac.compare_digest(got.headers["X-Callsight-Signature"], signed("whsec_wrong", got.body))
    body = done.json()
    assert body["event"] == "call.done" and body["id"] and body["created_at"].endswith("Z")
    call = org.call(call_id)
    assert body["call"]["call_id"] == call_id and body["call"]["status"] == "Done"
    assert body["call"]["customer_id"] == "C-77" and body["call"]["transcript_text"] == call["transcript_text"]
    assert set(body["call"]) == set(call)  # the same object as GET /api/calls/{call_id}
    assert analysed.json()["analysis"]["call_id"] == call_id and "metrics" in analysed.json()["analysis"]

    log = {d["id"]: d for d in deliveries(org, hook["id"])}
    for got in (done, analysed):
        entry = log[got.headers["X-Callsight-Delivery"]]
        assert entry["state"] == "delivered" and entry["status_code"] == 200 and entry["attempts"] == 1
        assert entry["latency_ms"] is not None and entry["event"] == got.headers["X-Callsight-Event"]

    # a failed call, and a re-analysis of the done one
    failing = unique("hooked-bad")
    assert org.upload(corrupt_wav(tmp_path / "bad.wav"), call_id=failing).status_code == 201
    failed = wait_until(lambda: receiver.of_event("call.failed", failing), 120, "call.failed to arrive")[0].json()
    assert failed["call"]["status"] == "Failed" and failed["call"]["error"]
    assert org.send("POST", f"/api/calls/{call_id}/analysis").status_code == 202
    wait_until(lambda: len(receiver.of_event("analysis.done", call_id)) >= 2, 60, "the re-analysis to be delivered")
    events = [r.json()["id"] for r in receiver.received]
    assert len(events) == len(set(events)), "every event has its own id"


def test_only_the_events_asked_for_are_sent(org: OrgApi, receiver: Receiver, wav: Path) -> None:
    register(org, receiver.url, ["analysis.done"])
    call_id = unique("only-analysis")
    assert org.upload(wav, call_id=call_id, language="en-US").status_code == 201
    wait_until(lambda: receiver.of_event("analysis.done", call_id), 240, "analysis.done to arrive")
    assert org.wait_final(call_id)["status"] == "Done"
    assert not receiver.of_event("call.done", call_id)


def test_non_2xx_answers_are_retried_with_growing_waits_and_the_same_bytes(
    org: OrgApi, receiver: Receiver, wav: Path,
) -> None:
    receiver.answers = [500, 503, 404]
    hook = register(org, receiver.url, ["call.done"])
    call_id = unique("retried")
    assert org.upload(wav, call_id=call_id, language="en-US").status_code == 201
    wait_until(lambda: len(receiver.of_event("call.done", call_id)) >= 4, 240, "four attempts")
    attempts = receiver.of_event("call.done", call_id)
    assert len({a.headers["X-Callsight-Delivery"] for a in attempts}) == 1, "one delivery, attempted again"
    assert len({a.body for a in attempts}) == 1 and len({a.headers["X-Callsight-Signature"] for a in attempts}) == 1
    entry = wait_until(lambda: [d for d in deliveries(org, hook["id"]) if d["state"] == "delivered"], 10,
                       "the delivery to be logged delivered")[0]
    assert entry["attempts"] == 4 and entry["status_code"] == 200


def test_a_receiver_too_slow_to_answer_is_tried_again(org: OrgApi, receiver: Receiver, wav: Path) -> None:
    receiver.delay_s = 3.0  # the test stack's deliverer waits 2 s
    hook = register(org, receiver.url, ["call.done"])
    call_id = unique("slow")
    assert org.upload(wav, call_id=call_id, language="en-US").status_code == 201
    wait_until(lambda: [d for d in deliveries(org, hook["id"]) if d["attempts"] >= 1], 240, "a first attempt")
    first = deliveries(org, hook["id"])[0]
    assert first["state"] == "pending" and first["status_code"] is None and "Timeout" in first["error"]
    receiver.delay_s = 0.0
    wait_until(lambda: deliveries(org, hook["id"])[0]["state"] == "delivered", 30, "the retry to be delivered")


def test_a_delivery_is_given_up_after_the_retry_window_and_can_be_redelivered(
    org: OrgApi, receiver: Receiver, wav: Path,
) -> None:
    receiver.answers = [500] * 1000
    hook = register(org, receiver.url, ["call.done"])
    call_id = unique("given-up")
    assert org.upload(wav, call_id=call_id, language="en-US").status_code == 201
    # the test stack retries for 15 s (24 h in a deployment)
    failed = wait_until(lambda: [d for d in deliveries(org, hook["id"]) if d["state"] == "failed"], 300,
                        "the delivery to be given up")[0]
    assert failed["attempts"] >= 3 and failed["status_code"] == 500 and failed["error"] == "HTTP 500"
    before = len(receiver.received)

    receiver.answers = []
    r = org.send("POST", f"/api/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver")
    assert r.status_code == 202, r.text
    again = r.json()
    assert again["id"] != failed["id"] and again["event_id"] == failed["event_id"]
    assert again["redelivery_of"] == failed["id"]
    wait_until(lambda: len(receiver.received) > before, 30, "the redelivery")
    last = receiver.received[-1]
    assert last.headers["X-Callsight-Delivery"] == again["id"]
    assert last.body == receiver.received[before - 1].body, "a redelivery sends the same body"
    assert last.headers["X-Callsight-Signature"] == signed(hook["secret"], last.body)
    assert org.send("POST", f"/api/webhooks/{hook['id']}/deliveries/{unique('nope')}/redeliver").status_code == 404


def test_a_removed_webhook_gets_nothing_more(org: OrgApi, receiver: Receiver, wav: Path) -> None:
    hook = register(org, receiver.url, ["call.done"])
    assert org.send("DELETE", f"/api/webhooks/{hook['id']}").status_code == 204
    assert org.get(f"/api/webhooks/{hook['id']}").status_code == 404
    assert org.send("DELETE", f"/api/webhooks/{hook['id']}").status_code == 404
    call_id = unique("unhooked")
    assert org.upload(wav, call_id=call_id, language="en-US").status_code == 201
    assert org.wait_final(call_id)["status"] == "Done"
    assert not receiver.received


@pytest.mark.parametrize(("url", "says"), [
    ("http://10.1.2.3/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fd00::1]/hook", "private"),
    ("http://[::ffff:10.0.0.1]/hook", "private"),
    ("http://100.64.0.7/hook", "not a public address"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://0.0.0.0:8080/hook", "private"),
    ("ftp://files.example.com/hook", "must start with http:// or https://"),
    ("https://user:secret@crm.example.com/hook", "user name or password"),
    ("https://crm.example.com/hook#frag", "fragment"),
    ("https:///nohost", "must name a host"),
    ("https://no-such-host.invalid/hook", "does not resolve"),
    ("http://crm .example.com/", "spaces"),
])
def test_targets_outside_the_public_internet_are_refused(org: OrgApi, url: str, says: str) -> None:
    r = org.send("POST", "/api/webhooks", json={"url": url, "events": ["call.done"]})
    assert r.status_code == 400, r.text
    assert says in r.json()["message"], r.json()["message"]
    assert url not in [w["url"] for w in org.get("/api/webhooks").json()["webhooks"]]


@pytest.mark.parametrize(("body", "says"), [
    ({"events": ["call.done"]}, "url is required"),
    ({"url": "https://crm.example.com/x", "events": []}, "events must be a non-empty list"),
    ({"url": "https://crm.example.com/x", "events": ["call.deleted"]}, "unknown values ['call.deleted']"),
    ({"url": "https://crm.example.com/x", "events": ["call.done"], "description": "d" * 501}, "description is too long"),
    ({"url": "https://crm.example.com/x", "events": ["call.done"], "secret": "mine"}, "unknown fields ['secret']"),
    ({"url": 5, "events": ["call.done"]}, "url must be a string"),
    ("https://crm.example.com/x", "must be a JSON object"),
])
def test_bad_webhook_requests_are_refused_with_the_rule(org: OrgApi, body: Any, says: str) -> None:
    r = org.send("POST", "/api/webhooks", json=body)
    assert r.status_code == 400 and says in r.json()["message"], r.text


def test_webhooks_need_an_administrator_and_stay_in_their_organisation(admin: Any, api: Api, org: OrgApi,
                                                                        receiver: Receiver) -> None:
    hook = register(org, receiver.url, ["call.done"])
    reader, _ = admin.orgs.create_api_key(org.org_id, "reader", ["read", "ingest"])
    r = org.get("/api/webhooks", key=reader)
    assert r.status_code == 403 and "'admin' scope" in r.json()["message"]
    other = new_org(admin, api, "hooks-other")
    assert other.get(f"/api/webhooks/{hook['id']}").status_code == 404
    assert other.send("DELETE", f"/api/webhooks/{hook['id']}").status_code == 404
    assert other.get(f"/api/webhooks/{hook['id']}/deliveries").status_code == 404
    assert org.get(f"/api/webhooks/{hook['id']}").status_code == 200
