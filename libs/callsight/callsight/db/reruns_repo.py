"""RerunRepository: re-runs of the analysis over many calls, after the gateway asked.

The analysis workers' producer takes the next batch of a pending re-run (row lock,
SKIP LOCKED: several producers never send the same batch), sends it and advances the
cursor in the same transaction; every call it sent is recorded, so progress is a count
of recorded calls whose analysis is newer than the request, exact whatever SQS delivers
twice. The status deployment reads re-runs and their progress from here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from callsight.db.schema import analyses, analysis_rerun_calls, analysis_reruns, calls


@dataclass(frozen=True)
class RerunRecord:
    id: str
    org_id: str
    department: str | None
    operator_id: str | None
    date_from: dt.date | None
    date_to: dt.date | None
    requested_at: dt.datetime
    state: str
    total: int
    enqueued: int
    error: str | None
    updated_at: dt.datetime
    enqueued_at: dt.datetime | None
    analysed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def status(self) -> str:
        """queued | running | done | failed, as people see it."""
        if self.state == "failed":
            return "failed"
        if self.state == "enqueued" and self.analysed + self.failed + self.skipped >= self.total:
            return "done"
        if self.state == "queued":
            return "queued"
        return "running"


@dataclass(frozen=True)
class RerunCall:
    uid: str
    org_id: str
    created_at: dt.datetime


@dataclass
class Batch:
    """The next calls of one re-run, inside the transaction that holds its row."""

    rerun: RerunRecord
    calls: list[RerunCall]
    conn: Connection
    last: bool  # no calls after these: the re-run is fully enqueued once they are sent


def _record(row: Any, counts: Any = None) -> RerunRecord:
    values = {k: v for k, v in row._mapping.items() if k in RerunRecord.__dataclass_fields__}
    if counts is not None:
        values.update(analysed=int(counts.analysed or 0), failed=int(counts.failed or 0),
                      skipped=int(counts.skipped or 0))
    return RerunRecord(**values)


def _matching_calls(rerun: RerunRecord) -> list[Any]:
    """The re-run's calls: Done when it was requested, in its filters."""
    conditions: list[Any] = [
        calls.c.org_id == rerun.org_id,
        calls.c.status == "Done",
        calls.c.deleted_at.is_(None),
        func.coalesce(calls.c.finished_at, calls.c.created_at) <= rerun.requested_at,
    ]
    if rerun.department:
        conditions.append(calls.c.department == rerun.department)
    if rerun.operator_id:
        conditions.append(calls.c.operator_id == rerun.operator_id)
    if rerun.date_from:
        conditions.append(calls.c.call_date >= rerun.date_from)
    if rerun.date_to:
        conditions.append(calls.c.call_date <= rerun.date_to)
    return conditions


class RerunRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- the producer (analysis workers) ---------------------------------------------

    @contextlib.contextmanager
    def next_batch(self, limit: int) -> Iterator[Batch | None]:
        """The least recently advanced pending re-run's next calls, its row locked until
        the block ends; None when nothing is pending. Call `advance` after sending."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(analysis_reruns)
                .where(analysis_reruns.c.state.in_(("queued", "enqueueing")))
                .order_by(analysis_reruns.c.updated_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                yield None
                return
            rerun = _record(row)
            q = select(calls.c.uid, calls.c.org_id, calls.c.created_at).where(*_matching_calls(rerun))
            if row.cursor_created_at is not None:
                q = q.where(or_(calls.c.created_at > row.cursor_created_at,
                                and_(calls.c.created_at == row.cursor_created_at, calls.c.uid > row.cursor_uid)))
            found = conn.execute(q.order_by(calls.c.created_at, calls.c.uid).limit(limit + 1)).all()
            batch = [RerunCall(r.uid, r.org_id, r.created_at) for r in found[:limit]]
            yield Batch(rerun, batch, conn, last=len(found) <= limit)

    def advance(self, batch: Batch) -> None:
        """The batch's calls were sent: record them and move the cursor (same transaction)."""
        conn, rerun = batch.conn, batch.rerun
        if batch.calls:
            conn.execute(pg_insert(analysis_rerun_calls).values(
                [{"rerun_id": rerun.id, "call_uid": c.uid} for c in batch.calls]).on_conflict_do_nothing())
        values: dict[str, Any] = {"updated_at": func.now(),
                                  "enqueued": analysis_reruns.c.enqueued + len(batch.calls)}
        if batch.calls:
            values.update(cursor_created_at=batch.calls[-1].created_at, cursor_uid=batch.calls[-1].uid)
        if batch.last:
            values.update(state="enqueued", enqueued_at=func.now(), total=rerun.enqueued + len(batch.calls))
        else:
            values["state"] = "enqueueing"
        conn.execute(update(analysis_reruns).where(analysis_reruns.c.id == rerun.id).values(**values))

    def postpone(self, batch: Batch) -> None:
        """Sending failed: let the other pending re-runs go first next time."""
        batch.conn.execute(update(analysis_reruns).where(analysis_reruns.c.id == batch.rerun.id)
                           .values(updated_at=func.now()))

    def mark_skipped(self, rerun_id: str, call_uid: str) -> None:
        """The analysis worker dropped this call's job: it counts as finished for progress."""
        with self.engine.begin() as conn:
            conn.execute(update(analysis_rerun_calls)
                         .where(analysis_rerun_calls.c.rerun_id == rerun_id,
                                analysis_rerun_calls.c.call_uid == call_uid)
                         .values(skipped=True))

    def unfinished_calls(self, stalled_after_s: int, limit: int = 100) -> list[tuple[str, RerunCall]]:
        """(rerun id, call) sent longer ago than `stalled_after_s` whose analysis is still
        older than the request and that were not skipped: their job was lost."""
        q = (
            select(analysis_rerun_calls.c.rerun_id, calls.c.uid, calls.c.org_id, calls.c.created_at)
            .join(analysis_reruns, analysis_reruns.c.id == analysis_rerun_calls.c.rerun_id)
            .join(calls, calls.c.uid == analysis_rerun_calls.c.call_uid)
            .outerjoin(analyses, analyses.c.call_uid == analysis_rerun_calls.c.call_uid)
            .where(
                analysis_rerun_calls.c.skipped.is_(False),
                analysis_rerun_calls.c.sent_at < func.now() - text(f"interval '{int(stalled_after_s)} seconds'"),
                or_(analyses.c.updated_at.is_(None), analyses.c.updated_at < analysis_reruns.c.requested_at),
            )
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(r.rerun_id, RerunCall(r.uid, r.org_id, r.created_at)) for r in conn.execute(q).all()]

    def mark_resent(self, rerun_id: str, call_uids: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(analysis_rerun_calls)
                         .where(analysis_rerun_calls.c.rerun_id == rerun_id,
                                analysis_rerun_calls.c.call_uid.in_(call_uids))
                         .values(sent_at=func.now()))

    # ---- reads (the status deployment) -------------------------------------------------

    def _progress(self, conn: Connection, rerun_ids: list[str]) -> dict[str, Any]:
        q = (
            select(
                analysis_rerun_calls.c.rerun_id,
                func.count().filter(and_(analyses.c.updated_at >= analysis_reruns.c.requested_at,
                                         analyses.c.error.is_(None),
                                         analysis_rerun_calls.c.skipped.is_(False))).label("analysed"),
                func.count().filter(and_(analyses.c.updated_at >= analysis_reruns.c.requested_at,
                                         analyses.c.error.is_not(None),
                                         analysis_rerun_calls.c.skipped.is_(False))).label("failed"),
                func.count().filter(analysis_rerun_calls.c.skipped).label("skipped"),
            )
            .join(analysis_reruns, analysis_reruns.c.id == analysis_rerun_calls.c.rerun_id)
            .outerjoin(analyses, analyses.c.call_uid == analysis_rerun_calls.c.call_uid)
            .where(analysis_rerun_calls.c.rerun_id.in_(rerun_ids))
            .group_by(analysis_rerun_calls.c.rerun_id)
        )
        return {r.rerun_id: r for r in conn.execute(q).all()}

    def get(self, org_id: str, rerun_id: str) -> RerunRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(analysis_reruns).where(analysis_reruns.c.org_id == org_id,
                                                             analysis_reruns.c.id == rerun_id)).first()
            if row is None:
                return None
            return _record(row, self._progress(conn, [rerun_id]).get(rerun_id))

    def list(self, org_id: str, limit: int = 20) -> list[RerunRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(analysis_reruns).where(analysis_reruns.c.org_id == org_id)
                                .order_by(analysis_reruns.c.requested_at.desc()).limit(limit)).all()
            progress = self._progress(conn, [r.id for r in rows]) if rows else {}
        return [_record(r, progress.get(r.id)) for r in rows]
