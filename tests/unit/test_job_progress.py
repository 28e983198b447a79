"""A job's fraction and finish time from what the pipeline reports (hand-made clocks)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from callsight_worker.progress import JobProgress, ProgressReporter, SpeedHistory

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_fraction_rises_through_the_steps_and_never_falls() -> None:
    job = JobProgress(SpeedHistory(), Clock())
    seen = []
    for step, fraction in [("download", 0), ("decode", 0), ("speech_activity", 0), ("language", 0),
                           ("transcribe", 0.0), ("transcribe", 0.5), ("transcribe", 0.3), ("transcribe", 1.0),
                           ("analyse", 0), ("store", 0)]:
        job.report(step, fraction)
        seen.append(job.snapshot()[1])
    assert seen == sorted(seen)
    assert seen[5] == pytest.approx(0.2 + 0.75 * 0.5, abs=1e-3)
    assert seen[6] == seen[5]  # a re-decoded region does not move it back


def test_eta_comes_from_the_measured_speed_of_the_transcription() -> None:
    clock = Clock()
    job = JobProgress(SpeedHistory(), clock)
    job.report("transcribe", 0.0)
    assert job.remaining_s() is None  # nothing measured yet, and no history: no guess
    clock.now += 10
    job.report("transcribe", 0.25)
    assert job.remaining_s() == pytest.approx(30.0)  # 10 s for a quarter: 30 s for the rest
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert job.eta(now) == now + dt.timedelta(seconds=30)


def test_before_transcribing_the_workers_past_speed_gives_the_eta() -> None:
    history = SpeedHistory()
    history.record(job_s=30, audio_s=60, tail_s=2)  # half a second of work per second of audio
    clock = Clock()
    job = JobProgress(history, clock)
    job.report("decode", 0.0)
    assert job.remaining_s() is None  # the audio's length is not known yet
    clock.now += 4
    job.report("speech_activity", 0.0, audio_s=100.0)
    assert job.remaining_s() == pytest.approx(50 - 4)
    job.report("analyse", 0.0)
    assert job.remaining_s() == pytest.approx(2.0)


def test_the_reporter_sends_at_most_once_per_interval_and_stops_when_refused() -> None:
    job = JobProgress(SpeedHistory())
    sent: list[tuple[str, float]] = []
    refused = threading.Event()

    def send(step: str, fraction: float, eta: dt.datetime | None) -> bool:
        sent.append((step, fraction))
        if len(sent) == 2:
            refused.set()
            return False
        return True

    reporter = ProgressReporter(job, send, interval_s=0.05).start()
    for i in range(200):
        job.report("transcribe", i / 200)
        if refused.wait(0.001):
            break
    assert refused.wait(2)
    count = len(sent)
    job.report("analyse", 0.0)
    threading.Event().wait(0.2)
    reporter.stop()
    assert count == len(sent) == 2  # nothing after the refusal, and far fewer than the 200 reports
