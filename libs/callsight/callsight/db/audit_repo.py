"""AuditLog: who viewed, played, exported, re-analysed, retried or deleted which call.

Append-only: this class only inserts and reads, and the database itself refuses any
UPDATE, DELETE or TRUNCATE of `audit_log` (a trigger, migration 0009), so not even a bug
or a hand-typed statement can rewrite what happened. The gateway writes what people and
keys do; the lifecycle worker writes the retention's deletions (actor `system`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from callsight.db.records import FromRow
from callsight.db.schema import AUDIT_ACTIONS, audit_log


@dataclass(frozen=True)
class Actor:
    """Who did it: a signed-in user or an API key (`id` is the user's or the key's id)."""

    type: str  # "user" | "api_key" | "system"
    id: str | None
    name: str  # the user's e-mail, or "<key name> (<prefix>)"


@dataclass(frozen=True)
class AuditEntry(FromRow):
    id: int
    org_id: str
    at: dt.datetime
    actor_type: str
    actor_id: str | None
    actor_name: str
    action: str
    call_id: str
    call_uid: str | None
    detail: str | None
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class AuditFilter:
    call_id: str | None = None
    actor: str | None = None  # an actor's id, or a part of its name (e-mail, key name)
    actor_type: str | None = None
    actions: list[str] = field(default_factory=list)
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before_id: int | None  # pass as `before_id` for the next (older) page


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, org_id: str, actor: Actor, action: str, call_id: str, *, call_uid: str | None = None,
               detail: str | None = None, ip: str | None = None, user_agent: str | None = None) -> None:
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"action must be one of {AUDIT_ACTIONS}")
        with self.engine.begin() as conn:
            conn.execute(audit_log.insert().values(
                org_id=org_id, actor_type=actor.type, actor_id=actor.id, actor_name=actor.name[:320],
                action=action, call_id=call_id[:255], call_uid=call_uid, detail=(detail or None) and detail[:200],
                ip=(ip or None) and ip[:64], user_agent=(user_agent or None) and user_agent[:300],
            ))

    def list(self, org_id: str, filters: AuditFilter, limit: int = 50, before_id: int | None = None) -> AuditPage:
        """Newest first; `before_id` continues after the last entry of the previous page."""
        q = select(audit_log).where(audit_log.c.org_id == org_id)
        if filters.call_id:
            q = q.where(audit_log.c.call_id == filters.call_id)
        if filters.actor:
            pattern = f"%{_escape_like(filters.actor.lower())}%"
            q = q.where((audit_log.c.actor_id == filters.actor)
                        | func.lower(audit_log.c.actor_name).like(pattern, escape="\\"))
        if filters.actor_type:
            q = q.where(audit_log.c.actor_type == filters.actor_type)
        if filters.actions:
            q = q.where(audit_log.c.action.in_(filters.actions))
        if filters.since:
            q = q.where(audit_log.c.at >= filters.since)
        if filters.until:
            q = q.where(audit_log.c.at < filters.until)
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        q = q.order_by(audit_log.c.id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        entries = [AuditEntry.from_row(r) for r in rows[:limit]]
        return AuditPage(entries, entries[-1].id if len(rows) > limit else None)
