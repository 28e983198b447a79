"""Writing the audit log from a request: who (the user or the API key), from where (the
client's address and user agent), did what to which call.

An entry is written before the answer is sent; if it cannot be written the request fails,
so nothing is ever served without its trace. Repeating the same read within a short
window is one access, not many: an integration polling a call's status every second, or
a player fetching a recording in ranges, leaves one entry per window (`once_per_s`;
remembered in Redis — without Redis every request is written).
"""

from __future__ import annotations

import redis
from flask import g, request

from callsight.db.audit_repo import Actor
from callsight_upload.core import sessions
from callsight_upload.core.connections import connections


def _actor_and_org() -> tuple[Actor, str]:
    actor: Actor | None = g.get("actor")
    org = g.get("org")
    if actor is not None and org is not None:
        return actor, org.id
    user = sessions.current_user()
    if user is None:
        raise RuntimeError("audit outside an authenticated request")
    return Actor("user", user.id, user.email), user.org_id


def current_actor() -> Actor:
    return _actor_and_org()[0]


def origin() -> tuple[str | None, str | None]:
    """Where the request came from: the client's address (the connection's, or the one the
    trusted proxies in front of the gateway report) and its user agent."""
    return request.remote_addr, request.headers.get("User-Agent")


VIEW_WINDOW_S = 60
PLAYBACK_WINDOW_S = 600


def _repeated(org_id: str, actor: Actor, action: str, call_id: str, detail: str | None, window_s: int) -> bool:
    key = f"cs:audit:{org_id}:{actor.type}:{actor.id}:{action}:{detail or ''}:{call_id}"
    try:
        return not connections().cache.client.set(key, b"1", nx=True, ex=window_s)
    except redis.RedisError:
        return False


def record(action: str, call_id: str, call_uid: str | None = None, detail: str | None = None,
           once_per_s: int | None = None) -> None:
    actor, org_id = _actor_and_org()
    if once_per_s and _repeated(org_id, actor, action, call_id, detail, once_per_s):
        return
    ip, user_agent = origin()
    connections().audit.record(org_id, actor, action, call_id, call_uid=call_uid or None, detail=detail,
                               ip=ip, user_agent=user_agent)
