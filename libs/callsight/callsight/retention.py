"""An organisation's retention: how many days recordings, and transcripts with their
analyses, are kept after upload. 0 keeps them forever.

A call goes whole when its transcript expires (the call record exists to carry its
transcript and analysis, and its metadata is personal data too), so a recording can never
be kept longer than its transcript: that combination is refused with the rule, rather than
silently shortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_DAYS = 36_500  # a hundred years: longer is "forever", which is 0


class RetentionError(ValueError):
    """Settings that cannot be kept; the message says which rule, for a person."""


@dataclass(frozen=True)
class Retention:
    audio_days: int = 0
    transcript_days: int = 0

    def to_json(self) -> dict[str, int]:
        return {"audio_days": self.audio_days, "transcript_days": self.transcript_days}


def _days(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        else:
            raise RetentionError(f"{name} must be a whole number of days (0 = keep forever)")
    if value < 0 or value > MAX_DAYS:
        raise RetentionError(f"{name} must be between 0 (keep forever) and {MAX_DAYS} days")
    return int(value)


def retention_from(audio_days: Any, transcript_days: Any) -> Retention:
    audio = _days(audio_days, "audio_days")
    transcript = _days(transcript_days, "transcript_days")
    if transcript and (audio == 0 or audio > transcript):
        raise RetentionError(
            f"audio_days must be between 1 and transcript_days ({transcript}): a call is deleted whole, recording "
            "included, when its transcript expires, so a recording cannot be kept longer than its transcript")
    return Retention(audio, transcript)
