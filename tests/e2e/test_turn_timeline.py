"""The turn timeline through the product: a real-speech stereo call with echo, uploaded as a CRM would.

The call is the one of tests/integration/test_turn_timeline_real_speech.py (Allison as the
operator, a LibriVox reader as the customer, -30 dB echo both ways, 8 kHz μ-law WAV).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.calls import render
from tests.conftest import Api, unique
from tests.integration.test_turn_timeline_real_speech import _script

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _ = render.render(_script(), render.Condition("echo30-ulaw", echo_db=30), tmp_path_factory.mktemp("call"),
                            seed=4, pause_s=0.6)
    return path


def test_upload_without_language_is_detected_and_echo_free(api: Api, recording: Path) -> None:
    call_id = unique("timeline")
    # the demo organisation's default is Japanese: only detection gets this call right
    assert api.upload(recording, call_id=call_id, operator_channel="left").status_code == 201
    call = api.wait_final(call_id)
    assert call["status"] == "Done", call
    assert (call["language"], call["language_source"], call["detected_language"]) == ("en-US", "detected", "en-US")
    assert call["language_confidence"] > 0.9 and call["warnings"] == []
    transcript = api.get(f"/api/calls/{call_id}/transcript").json()
    kinds = [(t["speaker"], t["kind"]) for t in transcript["turns"]]
    assert kinds.count(("operator", "backchannel")) == 1 and len(kinds) == 9
    customer = " ".join(t["text"] for t in transcript["turns"] if t["speaker"] == "customer").lower()
    assert "dashwood" in customer and "comedian" not in customer and "patience" not in customer
    word = transcript["turns"][1]["words"][0]
    assert word["speaker"] == "customer" and {"start", "end", "confidence"} <= set(word)
    assert transcript["meta"]["channels"]["customer"]["leak"]["delay_s"] > 0


def test_a_language_that_does_not_match_the_audio_is_kept_with_a_warning(api: Api, recording: Path) -> None:
    call_id = unique("mismatch")
    assert api.upload(recording, call_id=call_id, language="ja-JP").status_code == 201
    call = api.wait_final(call_id)
    assert call["status"] == "Done", call
    assert (call["language"], call["language_source"], call["detected_language"]) == ("ja-JP", "request", "en-US")
    [warning] = [w for w in call["warnings"] if w["code"] == "language_mismatch"]
    assert "en-US" in warning["message"] and "ja-JP" in warning["message"]
