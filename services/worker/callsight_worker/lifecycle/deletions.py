"""Finishing deletions: the tombstones of calls hidden by the gateway (DELETE) or by the
retention, made real.

For each open tombstone, in one transaction holding its row lock: every S3 object under
the call's prefix (and its recording's key) is deleted, then the call's row — with its
transcript, analysis and re-run entries (ON DELETE CASCADE) — and the bodies of its
webhook deliveries; the tombstone is stamped finished and the cached status dropped. A
crash anywhere leaves the tombstone open and the next pass does it again: deleting what
is already gone is no error. S3 trouble keeps the tombstones open with the reason.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Gauge, Histogram

from callsight.db.deletions_repo import Claimed, DeletionRepository, Tombstone
from callsight.status_cache import StatusCache
from callsight.storage import AudioStore, StorageUnavailable, call_prefix
from callsight.v1 import calls_pb2

log = logging.getLogger(__name__)

DELETIONS = Counter("callsight_deletions_total", "Deletions finished or failed, by reason (request, retention)",
                    ["reason", "outcome"])
DELETION_SECONDS = Histogram("callsight_deletion_batch_seconds", "Time to finish one batch of deletions",
                             buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PENDING = Gauge("callsight_deletions_pending", "Tombstones not finished yet")


class DeletionFinisher:
    def __init__(self, deletions: DeletionRepository, store: AudioStore, cache: StatusCache) -> None:
        self.deletions = deletions
        self.store = store
        self.cache = cache

    def _objects(self, tombstones: list[Tombstone]) -> list[str]:
        keys: set[str] = set()
        for t in tombstones:
            keys.update(self.store.keys_under(call_prefix(t.org_id, t.call_uid)))
            keys.add(t.audio_key)  # also when it lies outside the prefix (an older key scheme)
        return sorted(keys)

    def finish_batch(self, limit: int, uids: list[str] | None = None) -> int:
        """Finish up to `limit` open tombstones (or exactly `uids`); how many were finished."""
        started = time.perf_counter()
        with self.deletions.claim(limit, uids) as claimed:
            if not claimed.tombstones:
                return 0
            done = self._finish(claimed)
        DELETION_SECONDS.observe(time.perf_counter() - started)
        for t in claimed.tombstones:
            if t.call_uid in done:
                self.cache.publish_deleted(calls_pb2.Call(org_id=t.org_id, call_id=t.call_id, uid=t.call_uid))
        return len(done)

    def _finish(self, claimed: Claimed) -> set[str]:
        uids = [t.call_uid for t in claimed.tombstones]
        try:
            keys = self._objects(claimed.tombstones)
            self.store.delete_keys(keys)
        except StorageUnavailable as exc:
            log.warning("deletions: %d calls wait for S3 (%s); the next pass tries again", len(uids), exc)
            self.deletions.record_failure(claimed, uids, f"S3: {exc}")
            for t in claimed.tombstones:
                DELETIONS.labels(t.reason, "retry").inc()
            return set()
        self.deletions.finish(claimed, uids)
        for t in claimed.tombstones:
            DELETIONS.labels(t.reason, "finished").inc()
            log.info("deletion of call %s finished (%s)", t.call_id, t.reason,
                     extra={"fields": {"call_id": t.call_id, "org": t.org_id, "reason": t.reason,
                                       "attempt": t.attempts + 1}})
        return set(uids)

    def run_once(self, batch: int) -> int:
        finished = 0
        while True:
            n = self.finish_batch(batch)
            finished += n
            if n < batch:
                break
        PENDING.set(self.deletions.pending_count())
        return finished
