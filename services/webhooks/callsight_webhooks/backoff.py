"""When to try a failed delivery again: exponential backoff with jitter, for a limited time."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_s: float  # wait after the first failed attempt
    max_delay_s: float  # never longer than this between two attempts
    retry_for_s: float  # give up this long after the delivery was made

    def delay_s(self, attempts: int, rng: random.Random | None = None) -> float:
        """Wait after the `attempts`-th failed attempt: base, 2×base, 4×base… capped, ±10%."""
        raw = min(self.max_delay_s, self.base_s * 2 ** max(0, min(attempts - 1, 40)))
        return raw * (rng or random).uniform(0.9, 1.1)

    def next_attempt(self, created_at: dt.datetime, attempts: int, now: dt.datetime,
                     rng: random.Random | None = None) -> dt.datetime | None:
        """When to try again after `attempts` failed attempts; None = give up (past the window)."""
        at = now + dt.timedelta(seconds=self.delay_s(attempts, rng))
        if at > created_at + dt.timedelta(seconds=self.retry_for_s):
            return None
        return at
