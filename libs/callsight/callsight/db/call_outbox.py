"""CallOutbox: the gateway's writes on calls, and nothing else.

The new call row written at ingest is the outbox of the job: the gateway inserts it
Queued, sends the job and marks it enqueued; when the send fails the reconciler finds
the row and sends it. A retry of a Failed call goes the same way. Reads of calls
are not here: the gateway reads them over gRPC from the status service.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from callsight.db.records import CallRecord
from callsight.db.schema import calls


class DuplicateCallId(Exception):
    """This organisation already has a call with this Call ID."""


class CallOutbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def call_id_taken(self, org_id: str, call_id: str) -> bool:
        """The early duplicate check of an upload (before its bytes are streamed); the
        unique index on (org, Call ID) still settles a race at `create`."""
        with self.engine.connect() as conn:
            q = select(calls.c.uid).where(calls.c.org_id == org_id, calls.c.call_id == call_id,
                                          calls.c.deleted_at.is_(None))
            return conn.execute(q).first() is not None

    def create(self, **values: Any) -> CallRecord:
        """Insert a new Queued call; the unique (org, Call ID) index settles races."""
        values.setdefault("uid", str(uuid.uuid4()))
        try:
            with self.engine.begin() as conn:
                row = conn.execute(calls.insert().values(**values).returning(*calls.c)).one()
        except IntegrityError as exc:
            if "uq_calls_org_call_id" in str(exc.orig):
                raise DuplicateCallId(values.get("call_id")) from exc
            raise
        return CallRecord.from_row(row)

    def mark_enqueued(self, uid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(calls).where(calls.c.uid == uid).values(enqueued_at=func.now()))

    def retry(self, org_id: str, call_id: str) -> CallRecord | None:
        """A Failed call starts over as a new generation; older jobs for it are ignored.
        None when the call does not exist, is not Failed, or its recording is gone (retention)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                update(calls)
                .where(calls.c.org_id == org_id, calls.c.call_id == call_id, calls.c.status == "Failed",
                       calls.c.deleted_at.is_(None), calls.c.audio_deleted_at.is_(None))
                .values(status="Queued", status_rank=0, error=None, generation=calls.c.generation + 1,
                        attempts=0, enqueued_at=None, heartbeat_at=None, finished_at=None,
                        progress=None, progress_step=None, progress_at=None, eta_at=None, updated_at=func.now())
                .returning(*calls.c)
            ).first()
        return CallRecord.from_row(row) if row else None
