"""How far over the noise floor a sound must be: 12 dB, or 6 dB over a steady background
(arithmetic on frame levels; the evidence on real speech is bench/timeline.py's noisy calls)."""

from __future__ import annotations

import numpy as np
import pytest

from callsight_worker.speech.activity import sound_threshold_db

pytestmark = pytest.mark.unit


def _channel(noise_db: float, speech_db: float, speech_share: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 6000
    levels = (noise_db + rng.normal(0, 1.0, n)).astype(np.float32)
    talking = rng.random(n) < speech_share
    levels[talking] = speech_db + rng.normal(0, 4.0, int(talking.sum()))
    probability = np.where(talking, 0.9, 0.02).astype(np.float32)
    return levels, probability


def _with_bursts(levels: np.ndarray, probability: np.ndarray, db: float) -> np.ndarray:
    """A fifth of the voiceless frames raised to `db` (breaths, clicks, the other side's echo); their indexes."""
    rng = np.random.default_rng(4)
    quiet = np.flatnonzero(probability < 0.5)
    bursts = rng.choice(quiet, quiet.size // 5, replace=False)
    levels[bursts] = db + rng.normal(0, 3.0, bursts.size)
    return bursts


def test_a_line_whose_voiceless_frames_are_not_steady_keeps_twelve_db() -> None:
    levels, probability = _channel(-69, -25)
    _with_bursts(levels, probability, -49)  # breaths and clicks, 20 dB up
    assert sound_threshold_db(levels, probability) == 12.0


def test_the_other_sides_echo_is_not_background() -> None:
    levels, probability = _channel(-69, -25)
    echo = _with_bursts(levels, probability, -50)  # the other side, 25 dB down
    other_talking = np.zeros(levels.size, dtype=bool)
    other_talking[echo] = True
    assert sound_threshold_db(levels, probability) == 12.0
    assert sound_threshold_db(levels, probability, other_talking=other_talking) == 6.0


def test_a_noisy_line_asks_less_but_stays_clear_of_its_noise() -> None:
    levels, probability = _channel(-42, -26)  # the voice 16 dB over stationary noise
    threshold = sound_threshold_db(levels, probability)
    assert threshold == 6.0
    noise = levels[probability < 0.5]
    floor = float(np.percentile(levels, 10))
    assert np.mean(noise >= floor + threshold) < 0.01  # the noise itself does not become sound


def test_too_little_without_a_voice_to_judge_keeps_twelve_db() -> None:
    levels, _ = _channel(-50, -50, 0.0)
    assert sound_threshold_db(levels, np.full_like(levels, 0.9)) == 12.0
