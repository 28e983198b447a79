"""Nothing lost, nothing stuck: re-enqueue calls whose job never reached SQS or was lost,
and fail calls whose processing kept dying, with a reason.

Every worker runs this loop; row locks (SKIP LOCKED) keep two from sending the same
job twice, and a duplicate job would be harmless anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from callsight.convert import STATUS_TO_PROTO, call_to_proto
from callsight.db.calls_repo import CallRepository
from callsight.enqueue import enqueue_call
from callsight.jobqueue import JobQueue, QueueUnavailable
from callsight.status_cache import StatusCache
from callsight.v1 import job_pb2
from callsight_worker.settings import WorkerSettings

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, settings: WorkerSettings, calls: CallRepository, queue: JobQueue[job_pb2.TranscriptionJob], cache: StatusCache) -> None:
        self.settings = settings
        self.calls = calls
        self.queue = queue
        self.cache = cache

    @property
    def stale_after_s(self) -> int:
        # longer than one visibility timeout, so SQS redelivery gets the first chance
        return 2 * self.settings.visibility_timeout_s + 30

    def queue_created_at(self) -> dt.datetime | None:
        """When the queue was (re)created: jobs sent before then are gone (e.g. an
        in-memory SQS restarted)."""
        created = self.queue.depth().get("CreatedTimestamp")
        return dt.datetime.fromtimestamp(created, dt.UTC) if created else None

    def run_once(self) -> dict[str, int]:
        counts = {"enqueued": 0, "requeued_processing": 0, "failed": 0}
        try:
            lost_before = self.queue_created_at()
        except QueueUnavailable as exc:
            log.info("reconciler: queue unavailable (%s); will retry", exc)
            return counts
        for conn, call in self.calls.claim_unqueued(self.settings.requeue_after_s, lost_before):
            try:
                enqueue_call(self.queue, call)
            except QueueUnavailable:
                log.info("reconciler: queue unavailable; will retry")
                break
            self.calls.touch_requeued(conn, call.uid)
            counts["enqueued"] += 1
        for call in self.calls.stale_processing(self.stale_after_s, lost_before):
            if call.attempts >= self.settings.max_attempts:
                reason = (f"Processing stopped without finishing {call.attempts} times (the worker crashed or "
                          "was killed each time); the job is in the dead-letter queue")
                failed = self.calls.fail(call.uid, call.generation, reason)
                if failed is not None:
                    self.cache.publish(call_to_proto(failed), STATUS_TO_PROTO["Processing"])
                    counts["failed"] += 1
                continue
            try:
                enqueue_call(self.queue, call)
            except QueueUnavailable:
                break
            self.calls.mark_requeued_processing(call.uid, call.generation)
            counts["requeued_processing"] += 1
        if any(counts.values()):
            log.info("reconciler: %s", counts)
        return counts

    def run_forever(self, stop: threading.Event, interval_s: float = 5.0) -> None:
        while not stop.wait(interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("reconciler pass failed")
