"""Hearing a channel never changes its samples: they are the call's audio, read again later
by the engine. faster-whisper's Silero wrapper zeroes the last 64 samples of the array it is
given, so `speech_probability` must hand it a copy, for the whole channel and for a second look."""

from __future__ import annotations

import numpy as np
import pytest

from callsight_worker.speech.activity import SILERO_FRAME, second_look, speech_probability

pytestmark = pytest.mark.unit


def _audio(samples: int) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(samples) * 0.05).astype(np.float32)


@pytest.mark.parametrize("samples", [SILERO_FRAME * 40, SILERO_FRAME * 1875 + 16000, SILERO_FRAME * 40 + 100])
def test_speech_probability_leaves_the_samples_as_they_were(samples: int) -> None:
    audio = _audio(samples)
    before = audio.copy()
    probability = speech_probability(audio)
    assert np.array_equal(audio, before)
    assert probability.size == samples // 160


def test_a_second_look_leaves_the_samples_as_they_were() -> None:
    audio = _audio(16000)
    before = audio.copy()
    # a sound of frames 20-42, heard again from 0.1 s before it: 32 frames, 10 Silero frames exactly
    second_look(audio, np.zeros(100, np.float32), [(20, 42)])
    assert np.array_equal(audio, before)
