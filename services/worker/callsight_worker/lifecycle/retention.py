"""The retention reaper: what each organisation's retention says must go, in batches.

For every organisation with a limit, oldest first: recordings older than its audio days
are deleted from S3 and the call marked (`audio_deleted_at`; transcript and analysis
stay); calls older than its transcript days are tombstoned (reason `retention`, an audit
entry by `system`) and finished at once like any deletion. Each batch is one log line and
moves `callsight_retention_deleted_total`; a pass runs batches until nothing is left.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Histogram

from callsight.db.retention_repo import RetentionPolicy, RetentionRepository
from callsight.storage import AudioStore, StorageUnavailable
from callsight_worker.lifecycle.deletions import DeletionFinisher

log = logging.getLogger(__name__)

RETENTION_DELETED = Counter("callsight_retention_deleted_total",
                            "What the retention reaper deleted: recordings (audio) or whole calls (transcript)",
                            ["kind"])
RETENTION_BATCHES = Counter("callsight_retention_batches_total", "Batches the retention reaper ran", ["kind"])
RETENTION_PASS_SECONDS = Histogram("callsight_retention_pass_seconds", "Time of one pass over every organisation",
                                   buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900))
RETENTION_ERRORS = Counter("callsight_retention_errors_total", "Retention batches that failed (tried next pass)",
                           ["kind"])


class RetentionReaper:
    def __init__(self, retention: RetentionRepository, store: AudioStore, finisher: DeletionFinisher,
                 batch: int) -> None:
        self.retention = retention
        self.store = store
        self.finisher = finisher
        self.batch = batch

    def _log_batch(self, kind: str, policy: RetentionPolicy, days: int, count: int, seconds: float) -> None:
        RETENTION_DELETED.labels(kind).inc(count)
        RETENTION_BATCHES.labels(kind).inc()
        what = "recordings" if kind == "audio" else "calls"
        log.info("retention: deleted %d %s of %s older than %d days in %.2f s", count, what, policy.org_id, days,
                 seconds, extra={"fields": {"org": policy.org_id, "kind": kind, "deleted": count, "days": days,
                                            "seconds": round(seconds, 3)}})

    def reap_recordings(self, policy: RetentionPolicy) -> int:
        """One batch of expired recordings; how many were deleted."""
        started = time.perf_counter()
        with self.retention.claim_expired_recordings(policy.org_id, policy.audio_days, self.batch) as (claimed, found):
            if not found:
                return 0
            self.store.delete_keys(sorted({r.audio_key for r in found}))
            self.retention.mark_recordings_deleted(claimed, [r.call_uid for r in found])
        for r in found:  # the cached status still says the recording is there: read it afresh
            self.finisher.cache.forget(r.org_id, r.call_id)
        self._log_batch("audio", policy, policy.audio_days, len(found), time.perf_counter() - started)
        return len(found)

    def reap_calls(self, policy: RetentionPolicy) -> int:
        """One batch of calls whose transcript expired, deleted whole; how many."""
        started = time.perf_counter()
        uids = self.retention.expire_calls(policy.org_id, policy.transcript_days, self.batch)
        if not uids:
            return 0
        # finished here, in the same pass; if S3 fails the tombstones wait for the deletion loop
        self.finisher.finish_batch(len(uids), uids)
        self._log_batch("transcript", policy, policy.transcript_days, len(uids), time.perf_counter() - started)
        return len(uids)

    def run_once(self) -> dict[str, int]:
        """One pass over every organisation with a limit."""
        started = time.perf_counter()
        totals = {"audio": 0, "transcript": 0}
        for policy in self.retention.policies():
            if policy.transcript_days:
                totals["transcript"] += self._drain("transcript", policy)
            if policy.audio_days:
                totals["audio"] += self._drain("audio", policy)
        RETENTION_PASS_SECONDS.observe(time.perf_counter() - started)
        return totals

    def _drain(self, kind: str, policy: RetentionPolicy) -> int:
        reap = self.reap_calls if kind == "transcript" else self.reap_recordings
        total = 0
        while True:
            try:
                n = reap(policy)
            except StorageUnavailable as exc:
                RETENTION_ERRORS.labels(kind).inc()
                log.warning("retention: %s of %s waits for S3 (%s); next pass", kind, policy.org_id, exc)
                return total
            total += n
            if n < self.batch:
                return total
