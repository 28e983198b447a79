"""RetentionRepository: what an organisation's retention says must go, in batches.

Ages count from the upload (`calls.created_at`: how long Callsight has held the data).
A call whose transcript has expired goes whole, through the same tombstone as a deletion
asked for by a person (reason `retention`, an audit entry by `system`); a recording that
has expired goes alone, and the call keeps its transcript and analysis
(`calls.audio_deleted_at`). Rows are locked with SKIP LOCKED, so several lifecycle
workers share the work without doing any of it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, func, or_, select, text, update

from callsight.db.deletions_repo import Claimed
from callsight.db.schema import audit_log, call_deletions, calls, organizations


@dataclass(frozen=True)
class RetentionPolicy:
    org_id: str
    audio_days: int  # 0 = forever
    transcript_days: int  # 0 = forever


@dataclass(frozen=True)
class ExpiredRecording:
    call_uid: str
    org_id: str
    call_id: str
    audio_key: str
    created_at: dt.datetime


def _older_than(days: int) -> ColumnElement[bool]:
    return calls.c.created_at < func.now() - text(f"interval '{int(days)} days'")


class RetentionRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def policies(self) -> list[RetentionPolicy]:
        """The organisations that keep something for a limited time."""
        q = (select(organizations.c.id, organizations.c.audio_retention_days, organizations.c.transcript_retention_days)
             .where(or_(organizations.c.audio_retention_days > 0, organizations.c.transcript_retention_days > 0))
             .order_by(organizations.c.id))
        with self.engine.connect() as conn:
            return [RetentionPolicy(r.id, r.audio_retention_days, r.transcript_retention_days)
                    for r in conn.execute(q).all()]

    def expire_calls(self, org_id: str, days: int, limit: int) -> list[str]:
        """Tombstone up to `limit` of the organisation's calls uploaded more than `days` ago,
        oldest first; their uids (the caller finishes them like any deletion)."""
        chosen = (select(calls.c.uid).where(calls.c.org_id == org_id, calls.c.deleted_at.is_(None), _older_than(days))
                  .order_by(calls.c.created_at).limit(limit).with_for_update(skip_locked=True))
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(calls).where(calls.c.uid.in_(chosen.scalar_subquery()))
                .values(deleted_at=func.now(), updated_at=func.now())
                .returning(calls.c.uid, calls.c.call_id, calls.c.audio_key)
            ).all()
            if not rows:
                return []
            conn.execute(call_deletions.insert(), [
                {"call_uid": r.uid, "org_id": org_id, "call_id": r.call_id, "audio_key": r.audio_key,
                 "reason": "retention", "requested_by": "retention"} for r in rows])
            conn.execute(audit_log.insert(), [
                {"org_id": org_id, "actor_type": "system", "actor_name": "retention", "action": "deleted",
                 "call_id": r.call_id, "call_uid": r.uid, "detail": f"transcript retention {days} days"}
                for r in rows])
        return [r.uid for r in rows]

    @contextmanager
    def claim_expired_recordings(self, org_id: str, days: int, limit: int) -> Iterator[tuple[Claimed, list[ExpiredRecording]]]:
        """Finished calls whose recording is older than `days`, locked until the block ends.
        A call still Queued or Processing keeps its recording: the worker needs it."""
        q = (select(calls.c.uid, calls.c.org_id, calls.c.call_id, calls.c.audio_key, calls.c.created_at)
             .where(calls.c.org_id == org_id, calls.c.deleted_at.is_(None), calls.c.audio_deleted_at.is_(None),
                    calls.c.status_rank == 2, _older_than(days))
             .order_by(calls.c.created_at).limit(limit).with_for_update(skip_locked=True))
        with self.engine.begin() as conn:
            found = [ExpiredRecording(r.uid, r.org_id, r.call_id, r.audio_key, r.created_at)
                     for r in conn.execute(q).all()]
            yield Claimed(conn, []), found

    def mark_recordings_deleted(self, claimed: Claimed, uids: list[str]) -> None:
        if uids:
            claimed.conn.execute(update(calls).where(calls.c.uid.in_(uids))
                                 .values(audio_deleted_at=func.now(), updated_at=func.now()))
