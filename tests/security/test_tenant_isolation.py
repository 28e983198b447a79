"""One organisation never sees another's calls: every endpoint, by API key, by web session
and over gRPC, with real and guessed Call IDs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests

from callsight.db.users_repo import UserRepository
from callsight.v1 import calls_pb2, calls_pb2_grpc
from tests import audio
from tests.conftest import Api, unique
from tests.grpc_client import status_channel
from tests.web_login import post_login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def victim(api: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A Done call of the demo organisation, with operator, customer and department set."""
    path = audio.encode(tmp_path_factory.mktemp("v") / "v.wav", [audio.speech("selfish")], "wav")
    ids: dict[str, Any] = {"call_id": unique("secret"), "operator_id": unique("op"), "customer_id": unique("cust"),
           "department": unique("dept")}
    assert api.upload(path, language="en-US", **ids).status_code == 201
    assert api.wait_final(ids["call_id"])["status"] == "Done"
    return ids


@pytest.fixture(scope="module")
def intruder(api: Api, admin: Any) -> Api:
    admin.orgs.ensure_org("intruder-org", "Intruder", "en-US")
    key, _ = admin.orgs.create_api_key("intruder-org", "intruder")
    return Api(api.url, key)


def test_every_call_endpoint_answers_404_for_another_organisations_call(intruder: Api, victim: dict[str, str]) -> None:
    call_id = victim["call_id"]
    headers = {"X-API-Key": intruder.key}
    for method, path in [
        ("GET", f"/api/calls/{call_id}"),
        ("GET", f"/api/calls/{call_id}/transcript"),
        ("GET", f"/api/calls/{call_id}/transcript?format=txt"),
        ("GET", f"/api/calls/{call_id}/analysis"),
        ("POST", f"/api/calls/{call_id}/analysis"),
        ("POST", f"/api/calls/{call_id}/retry"),
    ]:
        theirs = requests.request(method, f"{intruder.url}{path}", headers=headers, timeout=10)
        guessed = requests.request(method, f"{intruder.url}{path.replace(call_id, unique('guess'))}", headers=headers, timeout=10)
        assert theirs.status_code == 404, (method, path, theirs.status_code)
        # no oracle: another organisation's call looks exactly like one that does not exist
        assert theirs.json()["error"] == guessed.json()["error"], (method, path)


def _ok(r: requests.Response) -> dict[str, Any]:
    """An answer that can prove isolation: 200 with a body, never an error that merely lacks the data."""
    assert r.status_code == 200, (r.request.url, r.status_code, r.text[:300])
    body: dict[str, Any] = r.json()
    return body


def test_lists_and_aggregates_leave_out_another_organisations_calls(api: Api, intruder: Api,
                                                                   victim: dict[str, str]) -> None:
    queries: list[tuple[str, dict[str, Any]]] = [
        ("/api/calls", {"page_size": 500}),
        ("/api/calls", {"q": "selfish", "page_size": 500}),
        (f"/api/customers/{victim['customer_id']}/calls", {}),
        ("/api/scorecards/operators", {}),
        (f"/api/scorecards/operators/{victim['operator_id']}", {}),
        ("/api/analytics/departments", {}),
    ]
    # the owner sees the call in every one of them (the analysis worker's scorecard may lag the
    # transcript): so an empty answer below is isolation, not an empty query
    deadline = time.monotonic() + 90
    while True:
        missing = [path for path, params in queries if victim["call_id"] not in json.dumps(_ok(api.get(path, **params)))
                   and victim["operator_id"] not in json.dumps(_ok(api.get(path, **params)))
                   and victim["department"] not in json.dumps(_ok(api.get(path, **params)))]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not missing, f"the owning organisation does not see its own call in {missing}"
    for path, params in queries:
        if path.startswith("/api/scorecards/operators/"):
            continue  # below: an operator of another organisation is one that does not exist
        text = json.dumps(_ok(intruder.get(path, **params)))
        for secret in (victim["call_id"], victim["operator_id"], victim["customer_id"], victim["department"]):
            if secret not in path:  # an id the intruder asked about is echoed back, nothing more
                assert secret not in text, (path, secret)
    theirs = intruder.get(f"/api/scorecards/operators/{victim['operator_id']}")
    nobody = intruder.get(f"/api/scorecards/operators/{unique('op')}")
    assert theirs.status_code == nobody.status_code == 404 and theirs.json()["error"] == nobody.json()["error"]
    assert victim["call_id"] not in theirs.text
    assert _ok(intruder.get(f"/api/customers/{victim['customer_id']}/calls"))["calls"] == []


def test_a_web_session_of_another_organisation_sees_nothing(stack: Any, admin: Any, victim: dict[str, str]) -> None:
    email = f"{unique('intruder')}@intruder.example"
    UserRepository(admin.engine).create("intruder-org", email, "Intruder", "intruder password 1", role="admin")
    s = requests.Session()
    url = stack.env["CALLSIGHT_URL"]
    assert post_login(s, url, email, "intruder password 1").status_code in (302, 303)
    assert s.get(f"{url}/calls/{victim['call_id']}", timeout=10).status_code == 404
    assert s.get(f"{url}/web/calls/{victim['call_id']}/audio", timeout=10).status_code == 404
    assert s.get(f"{url}/api/calls/{victim['call_id']}", timeout=10).status_code == 404
    page = s.get(f"{url}/calls", params={"q": "selfish"}, timeout=10).text
    assert f'/calls/{victim["call_id"]}"' not in page


def test_grpc_reads_are_scoped_by_organisation(stack: Any, victim: dict[str, str]) -> None:
    # even holding the gateway's certificate and key: the intruder's organisation sees nothing of the victim's
    stub = calls_pb2_grpc.CallsServiceStub(status_channel(stack.env))
    for rpc, request in [
        (stub.GetCall, calls_pb2.GetCallRequest(org_id="intruder-org", call_id=victim["call_id"])),
        (stub.GetTranscript, calls_pb2.GetTranscriptRequest(org_id="intruder-org", call_id=victim["call_id"])),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            rpc(request, timeout=5)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    listed = stub.ListCalls(calls_pb2.ListCallsRequest(org_id="intruder-org", page_size=500), timeout=5)
    assert victim["call_id"] not in {c.call_id for c in listed.calls}


def test_audio_keys_never_come_from_client_file_names(api: Api, admin: Any, tmp_path: Path) -> None:
    path = audio.encode(tmp_path / "x.wav", [audio.speech("selfish")], "wav")
    call_id = unique("path")
    r = api.upload(content=path.read_bytes(), filename="../../orgs/intruder-org/calls/x/audio", call_id=call_id,
                   language="en-US")
    assert r.status_code == 201 and r.json()["file_name"] == "audio"
    record = admin.calls.get("demo", call_id)
    assert record.audio_key == f"orgs/demo/calls/{record.uid}/audio"
