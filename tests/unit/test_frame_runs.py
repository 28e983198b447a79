"""Runs of frames: sounds joined across short dips, and the longest pause between two words."""

from __future__ import annotations

import numpy as np
import pytest

from callsight_worker.speech.activity import noise_floor, runs, sounds
from callsight_worker.speech.channels import ChannelSpeech
from callsight_worker.timeline.utterances import _silent_run

pytestmark = pytest.mark.unit


def _levels(pattern: list[tuple[bool, int]]) -> np.ndarray:
    """Frames at -30 dB (loud) or -70 dB (quiet), in runs; quiet frames make up the floor."""
    return np.concatenate([np.full(n, -30.0 if loud else -70.0, np.float32) for loud, n in pattern])


def test_runs_are_the_stretches_of_true() -> None:
    starts, ends = runs(np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], bool))
    assert starts.tolist() == [0, 4, 6] and ends.tolist() == [2, 5, 9]
    assert runs(np.zeros(4, bool))[0].size == 0 and runs(np.zeros(0, bool))[0].size == 0


def test_a_sound_goes_on_across_dips_up_to_join_s_and_no_further() -> None:
    levels = _levels([(False, 100), (True, 30), (False, 20), (True, 10), (False, 21), (True, 5), (False, 100)])
    assert noise_floor(levels) == -70.0
    # the 20-frame dip (0.2 s) is joined, the 21-frame one is not
    assert sounds(levels, 12.0, join_s=0.2) == [(100, 160), (181, 186)]
    assert sounds(levels, 12.0, join_s=0.21) == [(100, 186)]
    assert sounds(levels, 12.0, join_s=0.0) == [(100, 130), (150, 160), (181, 186)]
    assert sounds(_levels([(False, 50)]), 12.0) == []


def test_the_pause_between_two_words_is_the_longest_stretch_without_own_speech() -> None:
    own = np.zeros(300, bool)
    own[0:50] = own[80:90] = own[150:300] = True  # silences of 0.3 s and 0.6 s between 0.5 and 2.0 s
    speech = ChannelSpeech(heard=own, own=own, noise_floor_db=-70.0)
    assert _silent_run(speech, 0.2, 2.0) == pytest.approx(0.6)
    assert _silent_run(speech, 0.2, 1.0) == pytest.approx(0.3)
    assert _silent_run(speech, 1.6, 2.5) == 0.0
    assert _silent_run(speech, 2.0, 1.0) == 0.0
