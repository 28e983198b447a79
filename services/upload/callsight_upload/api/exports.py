"""Transcript exports (plain text, SubRip, WebVTT): pure functions of the transcript JSON."""

from __future__ import annotations

from typing import Any

SPEAKER_LABELS = {"operator": "Operator", "customer": "Customer", "mixed": "Speaker"}


def _clock(seconds: float, sep: str) -> str:
    ms = int(round(max(0.0, seconds) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _label(turn: dict[str, Any]) -> str:
    return SPEAKER_LABELS.get(turn["speaker"], turn["speaker"].title())


def to_txt(transcript: dict[str, Any]) -> str:
    lines = [f"[{_clock(t['start'], '.')[:8]}] {_label(t)}: {t['text']}" for t in transcript["turns"]]
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(transcript: dict[str, Any]) -> str:
    blocks = [
        f"{i}\n{_clock(t['start'], ',')} --> {_clock(t['end'], ',')}\n{_label(t)}: {t['text']}\n"
        for i, t in enumerate(transcript["turns"], start=1)
    ]
    return "\n".join(blocks)


def to_vtt(transcript: dict[str, Any]) -> str:
    blocks = ["WEBVTT\n"]
    for t in transcript["turns"]:
        blocks.append(f"{_clock(t['start'], '.')} --> {_clock(t['end'], '.')}\n<v {_label(t)}>{t['text']}\n")
    return "\n".join(blocks)
