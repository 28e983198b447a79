"""DeletionRequests: the gateway's write when a call is to be deleted, and nothing else.

One transaction hides the call from every reader and every worker (`calls.deleted_at`),
frees its Call ID (the unique index covers live calls only) and writes the tombstone
(`call_deletions`): the outbox of the deletion. The gateway deletes nothing it does not
own; the lifecycle worker removes the recording, the transcript, the analysis and the
row, and stamps the tombstone finished, however often it is interrupted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, update

from callsight.db.audit_repo import Actor
from callsight.db.schema import audit_log, call_deletions, calls


class Deletion(enum.Enum):
    REQUESTED = "requested"  # the call was live and is now being deleted
    ALREADY = "already"  # a deletion of this Call ID was asked for before
    NOT_FOUND = "not_found"  # no such call, now or before


@dataclass(frozen=True)
class DeletionResult:
    outcome: Deletion
    call_uid: str | None = None


class DeletionRequests:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def request(self, org_id: str, call_id: str, actor: Actor, ip: str | None = None,
                user_agent: str | None = None) -> DeletionResult:
        """Hide the call, record its tombstone and the audit entry, in one transaction.
        Asking again for a Call ID already deleted is no error (the answer is the same);
        two requests at once serialise on the call's row."""
        with self.engine.begin() as conn:
            row = conn.execute(
                update(calls)
                .where(calls.c.org_id == org_id, calls.c.call_id == call_id, calls.c.deleted_at.is_(None))
                .values(deleted_at=func.now(), updated_at=func.now())
                .returning(calls.c.uid, calls.c.audio_key)
            ).first()
            if row is not None:
                conn.execute(call_deletions.insert().values(
                    call_uid=row.uid, org_id=org_id, call_id=call_id, audio_key=row.audio_key, reason="request",
                    requested_by=f"{actor.type}:{actor.name}"[:400],
                ))
                conn.execute(audit_log.insert().values(
                    org_id=org_id, actor_type=actor.type, actor_id=actor.id, actor_name=actor.name[:320],
                    action="deleted", call_id=call_id, call_uid=row.uid, ip=(ip or None) and ip[:64],
                    user_agent=(user_agent or None) and user_agent[:300],
                ))
                return DeletionResult(Deletion.REQUESTED, row.uid)
            before = conn.execute(
                select(call_deletions.c.call_uid)
                .where(call_deletions.c.org_id == org_id, call_deletions.c.call_id == call_id)
                .order_by(call_deletions.c.requested_at.desc())
                .limit(1)
            ).first()
        if before is not None:
            return DeletionResult(Deletion.ALREADY, before.call_uid)
        return DeletionResult(Deletion.NOT_FOUND)
