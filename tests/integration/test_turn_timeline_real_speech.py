"""The turn timeline on a short stereo call of real speech, as a PBX would record it.

Real human speech from packages (Allison's telephone prompts from asterisk-core-sounds-en-wav
as the operator, a LibriVox reader from pocketsphinx-testdata as the customer), each side
leaking into the other channel at -30 dB with 120/200 ms delay, stored as 8 kHz G.711 μ-law
WAV. The script has a backchannel inside the customer's turn, a customer interruption with
1.5 s of overlap, a 5 s hold silence and short pauses, so every answer below is known.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.calls import render, sources
from bench.calls.script import CUSTOMER, OPERATOR, Placement, Script
from callsight.qa_form import ScorecardForm
from callsight_worker.analysis import analyse_call
from callsight_worker.analysis.metrics import compute_metrics
from callsight_worker.engines.whisper import WhisperTranscriber
from callsight_worker.model import default_model_dir
from callsight_worker.pipeline import CallRequest, PipelineResult, transcribe_file

pytestmark = pytest.mark.integration

LIBRIVOX = "sense_and_sensibility_01_austen_64kb-0"


def _script() -> Script:
    """Who says what when (seconds); the interruption starts 1.5 s before the operator ends."""
    op = sources.asterisk
    cu = lambda n: sources.librivox(LIBRIVOX + n)  # noqa: E731
    s = Script("real-speech-call", "en-US")
    add = s.placements.append
    add(Placement(OPERATOR, op("vm-newuser"), 0.5, "line"))  # 0.5-6.2
    add(Placement(CUSTOMER, cu("870"), 6.8, "line"))  # 6.8-13.9: "and mister john dashwood ..."
    add(Placement(OPERATOR, op("auth-thankyou"), 9.5, "backchannel"))  # inside the customer's turn
    add(Placement(OPERATOR, op("followme/status"), 14.5, "line"))  # 14.5-19.0
    add(Placement(CUSTOMER, cu("880"), 17.5, "interruption", interrupts=3))  # 17.5-20.5
    add(Placement(OPERATOR, op("one-moment-please"), 21.1, "line"))  # 21.1-22.55, then 5 s on hold
    add(Placement(OPERATOR, op("queue-thankyou"), 27.6, "line"))  # 27.6-29.05
    add(Placement(CUSTOMER, cu("890"), 29.6, "line"))  # 29.6-34.9
    add(Placement(OPERATOR, op("goodbye"), 35.5, "line"))
    return s


@pytest.fixture(scope="module")
def engine() -> WhisperTranscriber:
    return WhisperTranscriber(default_model_dir(), threads=2)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    condition = render.Condition("echo30-ulaw", echo_db=30, codec="ulaw")
    return render.render(_script(), condition, tmp_path_factory.mktemp("calls"), seed=4, pause_s=0.6)


@pytest.fixture(scope="module")
def result(recorded: tuple[Path, dict[str, Any]], engine: WhisperTranscriber) -> PipelineResult:
    path, _ = recorded
    return transcribe_file(path, "wav", engine, CallRequest(language="en-US", operator_channel="left"), detector=engine)


def _said(result: PipelineResult, speaker: str) -> str:
    return " ".join(t.text for t in result.transcript.turns if t.speaker == speaker).lower()


def test_the_echo_of_the_other_side_is_not_transcribed(result: PipelineResult) -> None:
    customer = _said(result, CUSTOMER)
    operator = _said(result, OPERATOR)
    for operator_words in ("comedian", "desk", "moment", "patience", "goodbye", "guide"):
        assert operator_words not in customer
        assert operator_words in operator
    for customer_words in ("dashwood", "disposed", "selfish"):
        assert customer_words not in operator
        assert customer_words in customer
    leaks = result.transcript.meta["channels"][CUSTOMER]["leak"]
    assert leaks is not None and leaks["coupling_db"] == pytest.approx(-30, abs=4)


def test_turns_are_utterances_with_the_backchannel_marked(result: PipelineResult,
                                                          recorded: tuple[Path, dict[str, Any]]) -> None:
    turns = result.transcript.turns
    assert [(t.speaker, t.kind) for t in turns] == [
        (OPERATOR, "utterance"), (CUSTOMER, "utterance"), (OPERATOR, "backchannel"), (OPERATOR, "utterance"),
        (CUSTOMER, "utterance"), (OPERATOR, "utterance"), (OPERATOR, "utterance"), (CUSTOMER, "utterance"),
        (OPERATOR, "utterance")]
    # where each clip's speech starts (its placement, plus the clip's own lead-in)
    starts = [u["start"] for u in recorded[1]["utterances"]]
    assert starts == pytest.approx([0.55, 6.83, 9.57, 14.55, 17.5, 21.15, 27.64, 29.7, 35.55], abs=0.01)
    # an onset under the other side's echo (the interruption) is heard up to ~0.3 s late
    tolerance = [0.4 if i == 4 else 0.2 for i in range(len(starts))]
    found = [t.start for t in turns]
    assert all(abs(f - s) <= tol for f, s, tol in zip(found, starts, tolerance, strict=True)), str(found)
    assert all(w.start >= t.start - 0.5 and w.end <= t.end + 0.5 for t in turns for w in t.words)


def test_metrics_match_what_happened(result: PipelineResult, recorded: tuple[Path, dict[str, Any]]) -> None:
    m = compute_metrics(result.transcript)
    [interruption] = m.interruptions
    assert (interruption.by, interruption.interrupted) == (CUSTOMER, OPERATOR)
    assert interruption.at == pytest.approx(17.5, abs=0.4) and interruption.overlap_s == pytest.approx(1.5, abs=0.4)
    assert m.speakers[OPERATOR].backchannels == 1 and m.speakers[CUSTOMER].backchannels == 0
    [hold] = m.silences
    assert hold.start == pytest.approx(22.55, abs=0.25) and hold.end == pytest.approx(27.6, abs=0.25)
    _, truth = recorded
    talk = {s: sum(u["end"] - u["start"] for u in truth["utterances"] if u["speaker"] == s) for s in (OPERATOR, CUSTOMER)}
    overlap = 1.5 + 0.67  # the interruption and the backchannel, counted for both sides
    true_share = talk[OPERATOR] / (talk[OPERATOR] + talk[CUSTOMER])
    assert m.speakers[OPERATOR].talk_share == pytest.approx(true_share, abs=0.03), overlap


def test_the_talk_share_verdict_of_the_qa_form_is_right(result: PipelineResult) -> None:
    # the operator spoke 13.9 s of the 29.1 s both sides spoke: a 48 % share
    form = ScorecardForm.from_dict({"name": "t", "language": "en-US", "version": "1", "items": [
        {"id": "share-45", "kind": "max_operator_talk_share", "limit": 0.45},
        {"id": "share-55", "kind": "max_operator_talk_share", "limit": 0.55}]})
    items = {i["id"]: i["passed"] for i in analyse_call(result.transcript, form)["scorecard"]["items"]}
    assert items == {"share-45": False, "share-55": True}


def test_stored_words_carry_speaker_times_and_confidence(result: PipelineResult) -> None:
    d = result.transcript.to_dict()
    word = d["turns"][1]["words"][0]
    assert set(word) == {"speaker", "text", "start", "end", "confidence"} and word["speaker"] == CUSTOMER
    assert d["meta"]["timeline"]["pause_s"] == 0.6
    guards = d["meta"]["channels"][CUSTOMER]["guards"]
    assert guards["kept_words"] > 20 and "repetition_loop" not in guards["dropped_words"]


def test_language_is_detected_when_the_upload_gives_none(recorded: tuple[Path, dict[str, Any]],
                                                         engine: WhisperTranscriber) -> None:
    path, _ = recorded
    detected = transcribe_file(path, "wav", engine, CallRequest(language=None, default_language="ja-JP"),
                               detector=engine)
    assert (detected.language.language, detected.language.source) == ("en-US", "detected")
    assert detected.language.confidence is not None and detected.language.confidence > 0.9
    assert "dashwood" in _said(detected, CUSTOMER)


def test_a_requested_language_that_does_not_match_gets_a_warning(recorded: tuple[Path, dict[str, Any]],
                                                                 engine: WhisperTranscriber) -> None:
    path, _ = recorded
    wrong = transcribe_file(path, "wav", engine, CallRequest(language="ja-JP"), detector=engine)
    assert (wrong.language.language, wrong.language.source, wrong.language.detected) == ("ja-JP", "request", "en-US")
    assert [w["code"] for w in wrong.warnings][:1] == ["language_mismatch"]


def test_a_silent_customer_channel_gives_no_words(tmp_path: Path, engine: WhisperTranscriber) -> None:
    s = Script("one-sided", "en-US", [Placement(OPERATOR, sources.asterisk("vm-newuser"), 0.5, "line"),
                                      Placement(OPERATOR, sources.asterisk("vm-sorry"), 8.0, "line")])
    path, _ = render.render(s, render.Condition("noise", echo_db=30, noise_snr_db=10), tmp_path, seed=1, pause_s=0.6)
    out = transcribe_file(path, "wav", engine, CallRequest(language="en-US"), detector=engine)
    assert _said(out, CUSTOMER) == ""
    assert np.isclose(compute_metrics(out.transcript).speakers[OPERATOR].talk_share, 1.0)
