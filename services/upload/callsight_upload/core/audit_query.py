"""The audit log's filters from a query string (the API and the audit page share them),
checked with clear messages."""

from __future__ import annotations

import datetime as dt

from flask import request

from callsight.db.audit_repo import AuditFilter
from callsight.db.schema import AUDIT_ACTIONS, AUDIT_ACTORS
from callsight_upload.core.errors import ApiError


def moment(name: str, end_of_day: bool = False) -> dt.datetime | None:
    """A date-time (no offset = UTC) or a date from the query string: a date means its
    start (UTC), or with `end_of_day` its end, so `until=2026-04-01` includes that day."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw) + dt.timedelta(days=1 if end_of_day else 0)
            return dt.datetime.combine(day, dt.time(), dt.UTC)
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid_request", f"{name} must be a date or a date-time such as 2026-04-01T09:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def audit_filter() -> AuditFilter:
    actions = [a.strip() for raw in request.args.getlist("action") for a in raw.split(",") if a.strip()]
    unknown = sorted(set(actions) - set(AUDIT_ACTIONS))
    if unknown:
        raise ApiError(400, "invalid_request", f"action must be among {', '.join(AUDIT_ACTIONS)} (got {unknown})")
    actor_type = request.args.get("actor_type", "").strip() or None
    if actor_type is not None and actor_type not in AUDIT_ACTORS:
        raise ApiError(400, "invalid_request", f"actor_type must be one of {', '.join(AUDIT_ACTORS)}")
    since, until = moment("since"), moment("until", end_of_day=True)
    if since and until and since >= until:
        raise ApiError(400, "invalid_request", "since must be before until")
    return AuditFilter(call_id=request.args.get("call_id", "").strip()[:255] or None,
                       actor=request.args.get("actor", "").strip()[:320] or None, actor_type=actor_type,
                       actions=actions, since=since, until=until)


def before_id() -> int | None:
    raw = request.args.get("before_id", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "invalid_request", "before_id must be an entry id from a previous page")
    return int(raw)
