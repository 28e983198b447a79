"""The transcript of a call: its turns in time order, as stored and analysed.

A turn is one utterance of one speaker (speech between pauses, see
`callsight_worker.timeline`); turns of two speakers may overlap. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from callsight_worker.engines.base import Word

OPERATOR = "operator"
CUSTOMER = "customer"
# A mono recording has both voices on one track: we say so instead of guessing names.
MIXED = "mixed"


# transcripts whose turns say operator or customer (by channel, or by voice on one track)
SEPARATED_MODES = ("stereo", "diarized")

UTTERANCE = "utterance"
# a short reply ("yes", "はい") inside the other speaker's turn: it does not take the floor
BACKCHANNEL = "backchannel"


@dataclass(frozen=True)
class Turn:
    speaker: str  # "operator", "customer" or "mixed"
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    kind: str = UTTERANCE
    # which voice of a diarized mono track said it ("A", "B", ...); "" on stereo and mixed calls
    voice: str = ""


@dataclass
class Transcript:
    language: str
    engine: str
    model: str
    # "stereo": operator/customer by channel; "diarized": one track, operator/customer by voice;
    # "mono": one track whose voices were not told apart (every turn "mixed")
    speaker_mode: str
    duration_s: float
    turns: list[Turn] = field(default_factory=list)
    # how the timeline was built (thresholds, echo estimates) and what the guards dropped
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def speakers_separated(self) -> bool:
        return self.speaker_mode in SEPARATED_MODES

    @property
    def text(self) -> str:
        joiner = "" if self.language.startswith("ja") else " "
        return joiner.join(t.text for t in self.turns).strip()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        """The inverse of `to_dict` (a stored transcript read back for re-analysis)."""
        return cls(
            language=d["language"],
            engine=d.get("engine", ""),
            model=d.get("model", ""),
            speaker_mode=d.get("speaker_mode", "stereo"),
            duration_s=float(d.get("duration_s") or 0.0),
            turns=[
                Turn(
                    speaker=t["speaker"], start=float(t["start"]), end=float(t["end"]), text=t.get("text", ""),
                    words=tuple(Word(w["text"], float(w["start"]), float(w["end"]), float(w.get("confidence", 0.0)))
                                for w in t.get("words") or ()),
                    kind=t.get("kind") or UTTERANCE,
                    voice=t.get("voice") or "",
                )
                for t in d.get("turns") or ()
            ],
            meta=dict(d.get("meta") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "engine": self.engine,
            "model": self.model,
            "speaker_mode": self.speaker_mode,
            "duration_s": self.duration_s,
            "text": self.text,
            "turns": [
                {
                    "speaker": t.speaker,
                    "kind": t.kind,
                    "start": round(t.start, 3),
                    "end": round(t.end, 3),
                    "text": t.text,
                    **({"voice": t.voice} if t.voice else {}),
                    "words": [
                        {"speaker": t.speaker}
                        | {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(w).items()}
                        for w in t.words
                    ],
                }
                for t in self.turns
            ],
            "meta": self.meta,
        }
