"""The thresholds of the turn timeline, in one place (stored with every transcript)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TimelineConfig:
    # A pause of at least this long ends an utterance. 0.6 s: longer than the gaps between
    # words and the breaths inside a sentence, shorter than a turn-taking gap.
    pause_s: float = 0.6
    # A word is the side's own speech when at least this share of its frames (widened by
    # `word_slack_s` each side, for loose word timings) is own speech of that channel.
    min_own_fraction: float = 0.25
    word_slack_s: float = 0.1
    # Utterance bounds come from speech activity, but never further than this from its words.
    edge_slack_s: float = 1.0
    # A backchannel is a short utterance ("yes", "はい", "uh-huh") that does not take the floor:
    # inside the other's utterance, or a continuer in the other's pause (see timeline.turns).
    backchannel_max_s: float = 1.0
    backchannel_max_pause_s: float = 1.5
    backchannel_max_words: int = 3  # English words
    backchannel_max_chars: int = 8  # Japanese characters, punctuation excluded
    # Repetition loops: a unit of up to `loop_max_unit` words said `loop_min_repeats`+ times
    # in a row (single words need one more repeat: "no no no" is real speech).
    loop_max_unit: int = 8
    loop_min_repeats: int = 3
    # A stock phrase Whisper emits on non-speech is kept only with this much speech evidence.
    stock_min_own_fraction: float = 0.5
    stock_min_probability: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
