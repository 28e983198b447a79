"""The benchmark's call generator (bench/calls/script.py) never writes a truth no recording
can have: one speaker's placements never overlap each other (one voice, one channel)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.calls.script import Pools, generate
from bench.calls.sources import RATE, Clip

pytestmark = pytest.mark.unit


def _clip(key: str, seconds: float, voice: str, text: str = "a line of speech") -> Clip:
    # syllable-like bursts: the generator looks for stretches of speech inside a line
    t = np.arange(int(seconds * RATE)) / RATE
    samples = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > -0.6)).astype(np.float32)
    return Clip(key=key, samples=samples, text=text, language="en-US", voice=voice)


def _pools(seed: int) -> Pools:
    rng = np.random.default_rng(seed)
    return Pools(
        language="en-US",
        operator_lines=[_clip(f"op{k}", float(rng.uniform(2.5, 9)), "op") for k in range(8)],
        customer_lines=[_clip(f"cu{k}", float(rng.uniform(2.5, 9)), "cu") for k in range(8)],
        customer_backchannels=[_clip("cu-bc", 0.45, "cu", "alright")],
        operator_backchannels=[_clip("op-bc", 0.8, "op", "thank you")],
        customer_replies=[_clip("cu-reply", 1.2, "cu", "my account number")],
    )


@pytest.mark.parametrize("seed", range(40))
def test_no_speaker_overlaps_their_own_speech(seed: int) -> None:
    script = generate(f"s{seed}", _pools(seed), seed=seed, lines=16)
    for speaker in ("operator", "customer"):
        mine = sorted((p.start, p.end, p.kind) for p in script.placements if p.speaker == speaker)
        clashes = [(a, b) for a, b in zip(mine, mine[1:], strict=False) if b[0] < a[1]]
        assert not clashes, f"{speaker} speaks twice at once: {clashes}"
    assert any(p.kind == "backchannel" for p in script.placements)
    assert any(p.kind == "interruption" for p in script.placements)
