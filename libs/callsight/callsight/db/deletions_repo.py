"""DeletionRepository: the lifecycle worker's side of a deletion — finishing tombstones.

A tombstone (`call_deletions`, written with `calls.deleted_at` by the gateway or by the
retention reaper) is finished in one transaction that holds its row lock (SKIP LOCKED: two
lifecycle workers never take the same one): the caller removes the call's S3 objects, then
`finish` deletes the call's row — its transcript, analysis and re-run entries go with it
(ON DELETE CASCADE) — empties the bodies of its webhook deliveries and stamps the
tombstone. If anything fails, `record_failure` keeps the tombstone open with the reason,
and the next pass tries again: every step can be done twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, case, delete, func, select, update

from callsight.db.records import FromRow
from callsight.db.schema import call_deletions, calls, webhook_deliveries


@dataclass(frozen=True)
class Tombstone(FromRow):
    call_uid: str
    org_id: str
    call_id: str
    audio_key: str
    reason: str
    requested_by: str | None
    requested_at: dt.datetime
    attempts: int


@dataclass
class Claimed:
    """Tombstones locked in an open transaction until the caller's `with` block ends."""

    conn: Any
    tombstones: list[Tombstone]


class DeletionRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def claim(self, limit: int = 100, uids: list[str] | None = None) -> Iterator[Claimed]:
        """Open tombstones, oldest first (or exactly `uids`), locked until the block ends;
        the block's `finish` / `record_failure` commit with it."""
        q = select(call_deletions).where(call_deletions.c.finished_at.is_(None))
        if uids is not None:
            q = q.where(call_deletions.c.call_uid.in_(uids))
        q = q.order_by(call_deletions.c.requested_at).limit(limit).with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            yield Claimed(conn, [Tombstone.from_row(r) for r in conn.execute(q).all()])

    def finish(self, claimed: Claimed, uids: list[str]) -> None:
        """The S3 objects of these calls are gone: remove their rows and close the tombstones."""
        if not uids:
            return
        conn = claimed.conn
        conn.execute(delete(calls).where(calls.c.uid.in_(uids), calls.c.deleted_at.is_not(None)))
        # a delivery's body holds the call (and its transcript): nothing of it may stay behind
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.call_uid.in_(uids))
            .values(payload=None,
                    state=case((webhook_deliveries.c.state == "pending", "cancelled"),
                               else_=webhook_deliveries.c.state),
                    last_error=case((webhook_deliveries.c.state == "pending", "the call was deleted"),
                                    else_=webhook_deliveries.c.last_error))
        )
        conn.execute(
            update(call_deletions)
            .where(call_deletions.c.call_uid.in_(uids))
            .values(finished_at=func.now(), attempts=call_deletions.c.attempts + 1, last_error=None)
        )

    def record_failure(self, claimed: Claimed, uids: list[str], error: str) -> None:
        """Keep these tombstones open, with why: the next pass tries again."""
        if not uids:
            return
        claimed.conn.execute(
            update(call_deletions)
            .where(call_deletions.c.call_uid.in_(uids))
            .values(attempts=call_deletions.c.attempts + 1, last_error=error[:2000])
        )

    def pending_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(call_deletions)
                                    .where(call_deletions.c.finished_at.is_(None))).scalar_one())

    def get(self, call_uid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(call_deletions).where(call_deletions.c.call_uid == call_uid)).first()
        return dict(row._mapping) if row else None
