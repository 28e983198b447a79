"""The transcript of a call: channel results merged by time into speaker turns.

Pure functions only: two channel results in, one list of turns out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from callsight_worker.engines.base import ChannelTranscript, Segment, Word

OPERATOR = "operator"
CUSTOMER = "customer"
# A mono recording has both voices on one track: we say so instead of guessing names.
MIXED = "mixed"


@dataclass(frozen=True)
class Turn:
    speaker: str  # "operator", "customer" or "mixed"
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass
class Transcript:
    language: str
    engine: str
    model: str
    speaker_mode: str  # "stereo" (operator/customer by channel) or "mono"
    duration_s: float
    turns: list[Turn] = field(default_factory=list)

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
                )
                for t in d.get("turns") or ()
            ],
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
                    "start": round(t.start, 3),
                    "end": round(t.end, 3),
                    "text": t.text,
                    "words": [
                        {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(w).items()}
                        for w in t.words
                    ],
                }
                for t in self.turns
            ],
        }


def _turn_from_segments(speaker: str, segments: list[Segment], joiner: str) -> Turn:
    words = tuple(w for s in segments for w in s.words)
    return Turn(
        speaker=speaker,
        start=segments[0].start,
        end=segments[-1].end,
        text=joiner.join(s.text.strip() for s in segments).strip(),
        words=words,
    )


def merge_channels(
    channels: list[tuple[str, ChannelTranscript]], duration_s: float, max_gap_s: float = 1.0
) -> Transcript:
    """Merge per-speaker channel results into time-ordered turns.

    Consecutive segments of one speaker become one turn unless the other speaker
    starts talking in between or the pause exceeds `max_gap_s`.
    """
    if not channels:
        raise ValueError("at least one channel is needed")
    first = channels[0][1]
    joiner = "" if first.language.startswith("ja") else " "
    tagged = sorted(
        ((seg, speaker) for speaker, ct in channels for seg in ct.segments if seg.text.strip()),
        key=lambda item: (item[0].start, item[0].end),
    )
    turns: list[Turn] = []
    run: list[Segment] = []
    run_speaker = ""
    for seg, speaker in tagged:
        if run and (speaker != run_speaker or seg.start - run[-1].end > max_gap_s):
            turns.append(_turn_from_segments(run_speaker, run, joiner))
            run = []
        run_speaker = speaker
        run.append(seg)
    if run:
        turns.append(_turn_from_segments(run_speaker, run, joiner))
    return Transcript(
        language=first.language,
        engine=first.engine,
        model=first.model,
        speaker_mode="stereo" if len(channels) > 1 else "mono",
        duration_s=duration_s,
        turns=turns,
    )
