"""Authentication and scopes for the Ingest and REST APIs.

A request with an X-API-Key header is judged by the key alone: it must be active, not
expired, and hold the scope the endpoint needs (`ingest`, `read` or `admin`), else 403
naming that scope. The web app calls the same endpoints with its sign-in session instead
of a key: a request without the header is accepted when it carries a live session (and,
for writes, the session's CSRF token in X-CSRF-Token); there the `admin` scope means the
administrator role, and any signed-in user has the others.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import g, request
from flask.typing import ResponseReturnValue

from callsight.apikeys import SCOPES
from callsight.db.audit_repo import Actor
from callsight.db.orgs_repo import ApiKeyExpired
from callsight.db.records import ApiKeyRecord, OrgRecord
from callsight_upload.core import sessions
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.validation import reject_nul

P = ParamSpec("P")

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
WHAT_SCOPES_ALLOW = {
    "ingest": "uploading recordings, retrying failed calls and correcting who the operator is",
    "read": "reading calls, transcripts, analyses and figures",
    "admin": "the organisation's settings, API keys, webhooks, the audit log, re-analysis and deletion",
}


def current_org() -> OrgRecord:
    """The organisation of a view behind `require_scope`."""
    org: OrgRecord = g.org
    return org


def current_actor() -> Actor:
    """Who is asking, for the audit log: the signed-in user or the API key."""
    actor: Actor = g.actor
    return actor


def _use_web_session(scope: str) -> bool:
    """Sets `g.org` from a signed-in web user; False when there is no live session."""
    user = sessions.current_user()
    if user is None:
        return False
    if request.method not in sessions.SAFE_METHODS:
        try:
            sessions.check_csrf(allow_form=False)
        except sessions.CsrfError:
            raise ApiError(403, "csrf_failed", "send the page's CSRF token in the X-CSRF-Token header") from None
    if scope == "admin" and not user.is_admin:
        raise ApiError(403, "admin_only", f"only administrators can do this ({WHAT_SCOPES_ALLOW['admin']})")
    org = connections().orgs.get(user.org_id)
    if org is None:
        return False
    g.org = org
    g.api_key = None
    g.actor = Actor("user", user.id, user.email)
    return True


def _authenticated_key(presented: str) -> ApiKeyRecord:
    try:
        key = connections().orgs.authenticate(presented)
    except ApiKeyExpired as exc:
        expired = exc.key.expires_at.isoformat(timespec="seconds") if exc.key.expires_at else "?"
        raise ApiError(401, "expired_api_key", f"the API key expired on {expired}; ask an administrator for a new one",
                       UNAUTHORIZED_HEADERS) from None
    if key is None:
        raise ApiError(401, "invalid_api_key", "the API key is not valid or has been revoked", UNAUTHORIZED_HEADERS)
    return key


def require_scope(scope: str) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, ResponseReturnValue]]:
    """Sets `g.org`, `g.api_key` and `g.actor`, or answers 401 (who?) or 403 (not allowed)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")

    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            presented = request.headers.get("X-API-Key", "").strip()
            if not presented and _use_web_session(scope):
                reject_nul()
                return view(*args, **kwargs)
            if not presented:
                raise ApiError(401, "missing_api_key", "send your API key in the X-API-Key header", UNAUTHORIZED_HEADERS)
            found = connections()
            key = _authenticated_key(presented)
            org = found.orgs.get(key.org_id)
            if org is None:
                raise ApiError(401, "invalid_api_key", "the API key's organisation no longer exists", UNAUTHORIZED_HEADERS)
            found.rate_limiter.check(key.id)
            if scope not in key.scopes:
                raise ApiError(403, "insufficient_scope",
                               f"this API key does not have the '{scope}' scope, which {WHAT_SCOPES_ALLOW[scope]} "
                               f"needs (the key has: {', '.join(key.scopes)})")
            g.org = org
            g.api_key = key
            g.actor = Actor("api_key", key.id, f"{key.name} ({key.prefix})")
            reject_nul()
            return view(*args, **kwargs)

        return wrapper

    return decorate
