"""How far a job is, and when it will finish, from what the pipeline reports.

The pipeline tells each step as it starts and how far the transcription is (audio
seconds the engine has decoded). `JobProgress` turns that into one fraction of the
job and an estimated finish time; `ProgressReporter` sends the latest of it at most
every `interval_s` (never more often), so a fast engine cannot flood the bus.

The finish time comes from measured speed: during transcription, from the speed of
this very transcription; before it, from this worker's own speed on its previous
jobs (seconds of work per second of audio); after it, from how long the last steps
took before. Without a measurement there is no estimate (None), never a guess.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# each step's share of the job's fraction: transcription dominates the work (docs/reliability.md)
SPANS: dict[str, tuple[float, float]] = {
    "download": (0.00, 0.02),
    "decode": (0.02, 0.05),
    "speech_activity": (0.05, 0.15),
    "language": (0.15, 0.20),
    "transcribe": (0.20, 0.95),
    "analyse": (0.95, 0.98),
    "store": (0.98, 1.00),
}
MIN_MEASURED_S = 1.0  # a speed from less than this is noise
MIN_MEASURED_FRACTION = 0.02


@dataclass
class SpeedHistory:
    """This worker's measured speed on its previous jobs (exponentially weighted)."""

    seconds_per_audio_s: float | None = None  # whole job, download to store
    tail_s: float | None = None  # analyse + store
    weight: float = 0.3

    def record(self, job_s: float, audio_s: float, tail_s: float) -> None:
        if audio_s <= 0:
            return
        rate = job_s / audio_s
        self.seconds_per_audio_s = rate if self.seconds_per_audio_s is None else (
            (1 - self.weight) * self.seconds_per_audio_s + self.weight * rate)
        self.tail_s = tail_s if self.tail_s is None else (1 - self.weight) * self.tail_s + self.weight * tail_s


class JobProgress:
    """The state of one job: step, fraction of the step, audio length once decoded."""

    def __init__(self, history: SpeedHistory, clock: Callable[[], float] = time.monotonic) -> None:
        self.history = history
        self.clock = clock
        self.started = clock()
        self.step = "download"
        self.step_fraction = 0.0
        self.step_started = self.started
        self.audio_s: float | None = None
        self.tail_started: float | None = None
        self._lock = threading.Lock()

    def report(self, step: str, fraction: float, *, audio_s: float | None = None) -> None:
        """The pipeline's callback: `step` is running, `fraction` of it is done."""
        with self._lock:
            if audio_s is not None:
                self.audio_s = audio_s
            if step != self.step:
                self.step, self.step_started, self.step_fraction = step, self.clock(), 0.0
                if step in ("analyse", "store") and self.tail_started is None:
                    self.tail_started = self.step_started
            self.step_fraction = max(self.step_fraction, min(1.0, max(0.0, fraction)))

    def fraction(self) -> float:
        low, high = SPANS.get(self.step, (0.0, 0.0))
        return low + (high - low) * self.step_fraction

    def remaining_s(self) -> float | None:
        """Seconds of work left, from measured speed; None when nothing has been measured."""
        with self._lock:
            now = self.clock()
            tail = self.history.tail_s
            if self.step == "transcribe":
                elapsed = now - self.step_started
                if elapsed >= MIN_MEASURED_S and self.step_fraction >= MIN_MEASURED_FRACTION:
                    left = elapsed * (1 - self.step_fraction) / self.step_fraction
                    return left + (tail if tail is not None else 0.0)
            elif self.step in ("analyse", "store") and tail is not None:
                return max(0.0, tail - (now - (self.tail_started or now)))
            rate = self.history.seconds_per_audio_s
            if rate is not None and self.audio_s:
                return max(0.0, rate * self.audio_s - (now - self.started))
            return None

    def eta(self, wall_now: dt.datetime | None = None) -> dt.datetime | None:
        left = self.remaining_s()
        if left is None:
            return None
        return (wall_now or dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=left)

    def snapshot(self) -> tuple[str, float]:
        with self._lock:
            return self.step, round(self.fraction(), 3)


class ProgressReporter:
    """Sends a job's progress through `send(step, fraction, eta)` at most every `interval_s`,
    only when it moved; stops when told or when `send` says the job is no longer ours."""

    def __init__(self, progress: JobProgress, send: Callable[[str, float, dt.datetime | None], bool],
                 interval_s: float = 2.0) -> None:
        self.progress = progress
        self.send = send
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._last: tuple[str, float] | None = None

    def start(self) -> ProgressReporter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            state = self.progress.snapshot()
            if state == self._last:
                continue
            try:
                if not self.send(state[0], state[1], self.progress.eta()):
                    return  # finished, retried or taken over: nothing more to say about it
            except Exception as exc:  # a missed report is superseded by the next one
                log.warning("progress report failed: %s", exc)
                continue
            self._last = state
