"""Enqueues re-runs: the calls of each pending re-run, ten jobs a request, at a drip rate.

Not in the HTTP request that asked (10,000 calls would be 10,000 sends there), and not
faster than the analysis workers should take them: the producer waits while the
analysis queue already holds `max_queued` jobs, so one call's re-run never waits behind
a whole department's. Pending re-runs take turns batch by batch. Jobs whose call still
has no new analysis long after they were sent (a lost message, an SQS restart) are sent
again: nothing is lost, and a second analysis of a call is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

from prometheus_client import Counter

from callsight.db.reruns_repo import RerunRepository
from callsight.enqueue import analysis_job
from callsight.jobqueue import BATCH, JobQueue, QueueUnavailable
from callsight.v1 import job_pb2

log = logging.getLogger(__name__)
ENQUEUED = Counter("callsight_rerun_jobs_enqueued_total", "Analysis jobs enqueued for re-runs", ["kind"])


class RerunProducer:
    def __init__(self, reruns: RerunRepository, queue: JobQueue[job_pb2.AnalysisJob], drip_per_s: float,
                 max_queued: int, resend_after_s: int) -> None:
        self.reruns = reruns
        self.queue = queue
        self.drip_per_s = drip_per_s
        self.max_queued = max_queued
        self.resend_after_s = resend_after_s

    def queue_full(self) -> bool:
        return self.queue.depth().get("ApproximateNumberOfMessages", 0) >= self.max_queued

    def run_once(self) -> int:
        """Send the next batch of the next pending re-run; the number of jobs sent (0 when
        there is nothing to send, the queue is full or SQS is away)."""
        try:
            if self.queue_full():
                return 0
        except QueueUnavailable as exc:
            log.info("producer: analysis queue unavailable (%s); will retry", exc)
            return 0
        with self.reruns.next_batch(BATCH) as batch:
            if batch is None:
                return 0
            jobs = [analysis_job(c.uid, c.org_id, batch.rerun.id) for c in batch.calls]
            try:
                self.queue.send_batch(jobs)
            except QueueUnavailable as exc:
                log.info("producer: could not send re-run %s's next batch (%s); will retry", batch.rerun.id, exc)
                self.reruns.postpone(batch)
                return 0
            self.reruns.advance(batch)
        ENQUEUED.labels("first").inc(len(jobs))
        if batch.last:
            log.info("re-run %s fully enqueued (%d calls)", batch.rerun.id, batch.rerun.enqueued + len(jobs))
        return len(jobs)

    def resend_lost(self) -> int:
        """Send again the jobs whose call has had no new analysis for `resend_after_s`."""
        lost = self.reruns.unfinished_calls(self.resend_after_s)
        by_rerun: dict[str, list[job_pb2.AnalysisJob]] = defaultdict(list)
        for rerun_id, call in lost:
            by_rerun[rerun_id].append(analysis_job(call.uid, call.org_id, rerun_id))
        sent = 0
        for rerun_id, jobs in by_rerun.items():
            for i in range(0, len(jobs), BATCH):
                chunk = jobs[i:i + BATCH]
                self.queue.send_batch(chunk)
                self.reruns.mark_resent(rerun_id, [j.call_uid for j in chunk])
                sent += len(chunk)
        if sent:
            ENQUEUED.labels("resent").inc(sent)
            log.warning("producer: sent %d re-run jobs again (no analysis %d s after they were sent)",
                        sent, self.resend_after_s)
        return sent

    def run_forever(self, stop: threading.Event, idle_s: float = 1.0) -> None:
        next_resend = time.monotonic() + min(60.0, self.resend_after_s)
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("producer step failed")
                sent = 0
            if time.monotonic() >= next_resend:
                next_resend = time.monotonic() + min(60.0, self.resend_after_s)
                try:
                    self.resend_lost()
                except Exception:
                    log.exception("resending lost re-run jobs failed")
            # the drip: a batch of n jobs is followed by n / rate seconds
            stop.wait(sent / self.drip_per_s if sent else idle_s)
