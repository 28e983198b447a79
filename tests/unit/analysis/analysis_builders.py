"""Tiny builders for hand-made transcripts."""

from __future__ import annotations

from callsight_worker.engines.base import Word
from callsight_worker.transcript import Transcript, Turn


def turn(speaker: str, start: float, end: float, text: str = "x", words: bool = False) -> Turn:
    """A turn; with words=True, whitespace-separated words spread evenly over the turn."""
    ws: tuple[Word, ...] = ()
    if words:
        parts = text.split()
        step = (end - start) / max(1, len(parts))
        ws = tuple(
            Word(p if i == 0 else " " + p, start + i * step, start + (i + 1) * step, 0.9)
            for i, p in enumerate(parts)
        )
    return Turn(speaker=speaker, start=start, end=end, text=text, words=ws)


def call(
    turns: list[Turn], language: str = "en-US", duration: float | None = None, mode: str = "stereo"
) -> Transcript:
    return Transcript(
        language=language,
        engine="test",
        model="test",
        speaker_mode=mode,
        duration_s=duration if duration is not None else max((t.end for t in turns), default=0),
        turns=turns,
    )
