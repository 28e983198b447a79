"""Mono calls through the product: one mixed track in, operator and customer out; a supervisor's swap.

The call is the real-speech call of tests/integration/test_turn_timeline_real_speech.py
(Allison as the operator, a LibriVox reader as the customer) mixed into one 8 kHz G.711
μ-law track, as a PBX that records the line stores it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.calls import render
from tests import audio
from tests.conftest import Api, unique
from tests.e2e.test_analysis import new_org, send, wait_analysis
from tests.integration.test_turn_timeline_real_speech import _script

pytestmark = pytest.mark.e2e


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def said_by(client: Api, call_id: str, role: str) -> str:
    transcript = client.get(f"/api/calls/{call_id}/transcript").json()
    return " ".join(t["text"] for t in transcript["turns"] if t["speaker"] == role).lower()


@pytest.fixture(scope="module")
def mono_call(admin: Any, api: Api, tmp_path_factory: pytest.TempPathFactory) -> tuple[Api, str]:
    client = new_org(admin, api)
    path, _ = render.render(_script(), render.Condition("clean-ulaw"), tmp_path_factory.mktemp("mono"), seed=4,
                            pause_s=0.6, mono=True)
    call_id = unique("mono-call")
    assert client.upload(path, call_id=call_id, language="en-US").status_code == 201
    assert client.wait_final(call_id)["status"] == "Done"
    return client, call_id


def test_a_mono_call_has_operator_and_customer_with_the_evidence(mono_call: tuple[Api, str]) -> None:
    client, call_id = mono_call
    call = client.call(call_id)
    speakers = call["speakers"]
    assert speakers["method"] == "diarization" and speakers["separated"] is True
    assert speakers["source"] == "detected" and 0.5 < speakers["confidence"] <= 1
    assert {e["kind"] for e in speakers["evidence"]} >= {"first_speaker"}
    assert client.get(f"/api/calls/{call_id}/speakers").json()["speakers"] == speakers
    transcript = client.get(f"/api/calls/{call_id}/transcript").json()
    assert transcript["speaker_mode"] == "diarized"
    assert "comedian" in said_by(client, call_id, "operator") and "dashwood" in said_by(client, call_id, "customer")
    share = wait_analysis(client, call_id)["metrics"]["speakers"]
    assert set(share) == {"operator", "customer"}


def test_a_supervisor_swaps_the_roles_and_the_analysis_follows(mono_call: tuple[Api, str]) -> None:
    client, call_id = mono_call
    before = wait_analysis(client, call_id)
    operator_talk = before["metrics"]["speakers"]["operator"]["talk_time_s"]
    detected = client.call(call_id)["speakers"]["operator_voice"]
    r = send(client, "POST", f"/api/calls/{call_id}/speakers", {"swap": True})
    assert r.status_code == 202, r.text
    assert r.json()["operator_voice"] != detected
    wait_for(lambda: client.call(call_id)["speakers"]["source"] == "supervisor", 60, "the swapped roles")
    assert "dashwood" in said_by(client, call_id, "operator") and "comedian" in said_by(client, call_id, "customer")
    after = wait_analysis(client, call_id, changed_from=before["updated_at"])
    assert after["metrics"]["speakers"]["customer"]["talk_time_s"] == pytest.approx(operator_talk, abs=0.01)
    speakers = client.call(call_id)["speakers"]
    assert speakers["changed_by"] == "API key test" and speakers["operator_voice"] == r.json()["operator_voice"]
    # naming the voice that already is the operator changes nothing, and is accepted
    r = send(client, "POST", f"/api/calls/{call_id}/speakers", {"operator_voice": speakers["operator_voice"]})
    assert r.status_code == 202
    assert "dashwood" in said_by(client, call_id, "operator")


def test_bad_role_requests_are_refused_with_the_reason(mono_call: tuple[Api, str], tmp_path: Path) -> None:
    client, call_id = mono_call
    path = f"/api/calls/{call_id}/speakers"
    r = send(client, "POST", path, {"operator_voice": "Z"})
    assert r.status_code == 400 and "one of this call's voices" in r.json()["message"]
    r = send(client, "POST", path, ["swap"])
    assert r.status_code == 400 and "JSON object" in r.json()["message"]
    assert send(client, "POST", path, {"swap": "yes"}).status_code == 400
    assert send(client, "POST", f"/api/calls/{unique('nope')}/speakers", {"swap": True}).status_code == 404
    stereo_id = unique("stereo")
    client.upload(audio.stereo_call(tmp_path / "stereo.wav"), call_id=stereo_id, language="en-US")
    assert client.wait_final(stereo_id)["status"] == "Done"
    assert client.call(stereo_id)["speakers"]["method"] == "channels"
    r = send(client, "POST", f"/api/calls/{stereo_id}/speakers", {"swap": True})
    assert r.status_code == 409 and r.json()["error"] == "roles_not_swappable"
    assert "two channels" in r.json()["message"]
