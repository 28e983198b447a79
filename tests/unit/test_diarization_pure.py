"""Mono calls, the arithmetic: DER scoring, voice clustering, the operator decision, role swaps.

Hand-built inputs with known answers; the real-speech behaviour is in
tests/integration/test_mono_real_speech.py and the figures in `make bench`.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.calls.der import der
from callsight_worker.engines.base import Word
from callsight_worker.speech.channels import ChannelSpeech
from callsight_worker.speech.crosstalk import regions
from callsight_worker.speech.diarization import (
    Diarization,
    DiarizationConfig,
    cluster,
    voice_speech,
    word_voices,
)
from callsight_worker.speech.mel import filterbank, power_mel
from callsight_worker.timeline.role_swap import RolesNotSwappable, swap_roles
from callsight_worker.timeline.roles import decide_roles
from callsight_worker.transcript import CUSTOMER, OPERATOR, Transcript, Turn

pytestmark = pytest.mark.unit


# ---- DER -----------------------------------------------------------------------------------


def test_der_is_zero_for_the_same_turns_under_other_names() -> None:
    ref = [("operator", 0.0, 5.0), ("customer", 6.0, 9.0)]
    assert der(ref, [("B", 0.0, 5.0), ("A", 6.0, 9.0)]).der == 0.0


def test_der_counts_confusion_missed_and_false_alarm_outside_the_collar() -> None:
    ref = [("op", 0.0, 10.0), ("cu", 10.0, 20.0)]
    # the hypothesis gives the first 2 s of the customer to the operator, misses 2 s, adds 1 s
    hyp = [("a", 0.0, 12.0), ("b", 12.0, 18.0), ("b", 20.0, 21.0)]
    r = der(ref, hyp, collar_s=0.25)
    # scored reference time: 20 s less the collars (0-0.25, 9.75-10.25, 19.75-20)
    assert r.scored_s == pytest.approx(19.0, abs=0.02)
    assert r.confusion_s == pytest.approx(1.75, abs=0.02)  # 10.25-12.0
    assert r.missed_s == pytest.approx(1.75, abs=0.02)  # 18.0-19.75
    assert r.false_alarm_s == pytest.approx(0.75, abs=0.02)  # 20.25-21.0
    assert r.der == pytest.approx((1.75 + 1.75 + 0.75) / 19.0, abs=0.002)


def test_der_counts_overlapped_speech_named_once_as_half_missed() -> None:
    ref = [("op", 0.0, 4.0), ("cu", 0.0, 4.0)]
    r = der(ref, [("x", 0.0, 4.0)], collar_s=0.0)
    assert r.der == pytest.approx(0.5)


# ---- mel features --------------------------------------------------------------------------


def test_mel_filterbank_covers_the_band_and_a_tone_lands_in_its_filter() -> None:
    fb = filterbank(16000, 400, 40)
    assert fb.shape == (40, 201) and (fb >= 0).all() and (fb.sum(axis=1) > 0).all()
    t = np.arange(16000) / 16000
    tone = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    mel = power_mel(tone, 16000, 400, 400, 160, 40)
    assert mel.shape == (101, 40)  # centred frames: one per 10 ms, plus one
    centres = np.argmax(fb, axis=1) * 16000 / 400
    assert abs(centres[int(np.argmax(mel[50]))] - 1000) < 120


# ---- clustering ----------------------------------------------------------------------------


def _voices(directions: list[np.ndarray], counts: list[int], noise: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = [d + rng.normal(0, noise, d.size) for d, n in zip(directions, counts, strict=True) for _ in range(n)]
    e = np.array(rows, dtype=np.float32)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def test_two_distinct_voices_form_two_clusters() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=32), rng.normal(size=32)
    e = _voices([a, b], [12, 9], noise=0.3)
    labels, centroids = cluster(e, np.full(21, 1.5), DiarizationConfig())
    assert centroids.shape[0] == 2
    assert len(set(labels[:12])) == 1 and len(set(labels[12:])) == 1 and labels[0] != labels[12]


def test_alike_voices_are_merged_into_one() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=32)
    e = _voices([a, a + rng.normal(0, 0.05, 32)], [10, 10], noise=0.05)
    labels, centroids = cluster(e, np.full(20, 1.5), DiarizationConfig())
    assert centroids.shape[0] == 1 and set(labels) == {0}


def test_short_segments_join_the_nearest_voice_without_shaping_the_clusters() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=32), rng.normal(size=32)
    e = _voices([a, b, b], [8, 8, 1], noise=0.2)
    durations = np.array([1.5] * 16 + [0.3])
    labels, _ = cluster(e, durations, DiarizationConfig())
    assert labels[16] == labels[8]


def test_a_word_takes_the_voice_of_most_of_its_frames() -> None:
    labels = np.full(300, -1, dtype=np.int16)
    labels[0:100] = 0
    labels[100:200] = 1
    d = Diarization(True, "", labels, 2)
    words = [Word("hello", 0.2, 0.6, 0.9), Word("yes", 0.95, 1.3, 0.9), Word("late", 2.5, 2.7, 0.9)]
    # the third word falls where no speech was found: the nearest speech frame's voice
    assert word_voices(words, d) == [0, 1, 1]


def test_a_word_in_a_pause_takes_the_voice_of_the_nearest_speech_before_or_after() -> None:
    labels = np.full(400, -1, dtype=np.int16)
    labels[0:100] = 0
    labels[150:200] = 1
    labels[300:400] = 0
    d = Diarization(True, "", labels, 2)
    words = [Word("uh", 1.05, 1.1, 0.9), Word("so", 1.38, 1.44, 0.9), Word("and", 2.2, 2.3, 0.9),
             Word("well", 2.8, 2.9, 0.9)]
    assert word_voices(words, d) == [0, 1, 1, 0]


def test_on_a_noisy_track_each_voice_keeps_the_fading_ending_heard_after_it() -> None:
    own = np.zeros(400, bool)
    own[0:100] = own[100:200] = own[300:350] = True  # voice 0, then voice 1 at once, then voice 0
    tails = own.copy()
    tails[200:220] = tails[350:380] = True  # heard fading after 2.0 s and after 3.5 s
    labels = np.full(400, -1, dtype=np.int16)
    labels[0:100] = labels[300:350] = 0
    labels[100:200] = 1
    d = Diarization(True, "", labels, 2)
    track = ChannelSpeech(heard=tails, own=own, noise_floor_db=-40.0, tails=tails)
    assert regions(voice_speech(track, d, 0).extent) == [(0.0, 1.0), (3.0, pytest.approx(3.8))]
    assert regions(voice_speech(track, d, 1).extent) == [(1.0, 2.2)]
    quiet = ChannelSpeech(heard=own, own=own, noise_floor_db=-70.0)
    assert voice_speech(quiet, d, 1).tails is None


# ---- the operator --------------------------------------------------------------------------


def _turn(voice: str, start: float, end: float, text: str) -> Turn:
    return Turn(voice, start, end, text, words=(Word(text, start, end, 0.9),))


def test_the_greeting_of_the_form_names_the_operator_even_when_the_customer_speaks_first() -> None:
    turns = [_turn("A", 0.5, 1.2, "Hello?"), _turn("B", 1.5, 4.0, "Thank you for calling, how can I help you?"),
             _turn("A", 4.5, 9.0, "My order did not arrive and I need it tomorrow")]
    decision = decide_roles(turns, ["A", "B"], "en-US", 10.0)
    assert decision.roles == {"A": CUSTOMER, "B": OPERATOR} and decision.sure
    kinds = {(e.kind, e.voice) for e in decision.evidence}
    assert ("phrase", "B") in kinds and ("first_speaker", "A") in kinds


def test_without_phrases_the_first_speaker_is_the_operator_with_modest_confidence() -> None:
    turns = [_turn("B", 0.5, 3.0, "one two three"), _turn("A", 3.5, 6.0, "four five six")]
    decision = decide_roles(turns, ["A", "B"], "en-US", 7.0)
    assert decision.operator_voice == "B"
    assert 0.6 < decision.confidence < 0.8


def test_the_company_name_and_a_japanese_greeting_count_for_the_operator() -> None:
    turns = [_turn("A", 0.5, 2.0, "もしもし"), _turn("B", 2.2, 6.0, "お電話ありがとうございます。サクラ電機の佐藤でございます。"),
             _turn("A", 6.5, 9.0, "注文した商品が届きません")]
    decision = decide_roles(turns, ["A", "B"], "ja-JP", 10.0, company_names=("サクラ電機",))
    assert decision.operator_voice == "B" and decision.confidence > 0.95
    assert {e.kind for e in decision.evidence if e.voice == "B"} >= {"phrase", "company_name"}


def test_an_organisations_own_form_decides_with_its_phrases() -> None:
    form = {"name": "acme", "language": "en-US", "items": [
        {"id": "hello", "kind": "required_phrase", "stage": "greeting", "phrases": ["acme support desk"]}]}
    turns = [_turn("A", 0.5, 3.0, "acme support desk speaking"), _turn("B", 3.5, 9.0, "hi there I have a question")]
    decision = decide_roles(turns, ["A", "B"], "en-US", 10.0, form=form)
    assert decision.operator_voice == "A"
    assert any(e.kind == "phrase" and "acme support desk" in e.detail for e in decision.evidence)


# ---- swapping roles ------------------------------------------------------------------------


def _diarized() -> Transcript:
    turns = [Turn(OPERATOR, 0.0, 2.0, "hello", (Word("hello", 0.0, 1.0, 0.9),), voice="A"),
             Turn(CUSTOMER, 2.5, 4.0, "hi", (Word("hi", 2.5, 3.0, 0.9),), voice="B")]
    speakers = {"method": "diarization", "separated": True, "operator_voice": "A", "source": "detected",
                "voices": [{"voice": "A", "role": OPERATOR}, {"voice": "B", "role": CUSTOMER}]}
    return Transcript("en-US", "whisper", "base", "diarized", 4.0, turns, meta={"speakers": speakers})


def test_a_swap_renames_turns_and_words_and_asking_again_changes_nothing() -> None:
    t = _diarized()
    assert swap_roles(t, "B") is True
    d = t.to_dict()
    assert [(x["speaker"], x["voice"]) for x in d["turns"]] == [(CUSTOMER, "A"), (OPERATOR, "B")]
    assert d["turns"][1]["words"][0]["speaker"] == OPERATOR
    assert d["meta"]["speakers"]["operator_voice"] == "B" and d["meta"]["speakers"]["source"] == "supervisor"
    again = Transcript.from_dict(d)
    assert swap_roles(again, "B") is False and again.to_dict()["turns"] == d["turns"]


def test_a_swap_is_refused_for_stereo_calls_and_unknown_voices() -> None:
    t = _diarized()
    with pytest.raises(RolesNotSwappable, match="no voice 'C'"):
        swap_roles(t, "C")
    t.meta["speakers"] = {"method": "channels", "separated": True}
    with pytest.raises(RolesNotSwappable, match="channels"):
        swap_roles(t, "B")


# ---- decoding ------------------------------------------------------------------------------


def test_decoding_removes_an_offset_and_slow_drift_and_keeps_the_voice_band() -> None:
    from callsight_worker.decode import remove_drift

    t = np.arange(16000 * 3) / 16000
    voice = 0.1 * np.sin(2 * np.pi * 200 * t)
    drift = 0.3 + 0.4 * np.sin(2 * np.pi * 2 * t)  # a 2 Hz wander around an offset, louder than the voice
    out = remove_drift((voice + drift).astype(np.float32))
    inner = slice(1600, -1600)
    assert np.sqrt(np.mean((out[inner] - voice[inner]) ** 2)) < 0.01
