"""API-key authentication for the Ingest and REST APIs.

The web app calls the same endpoints with its sign-in session instead of a key: a
request without an X-API-Key header is accepted when it carries a live session (and,
for writes, the session's CSRF token in X-CSRF-Token). A request with a key is judged
by the key alone, exactly as before."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import g, request
from flask.typing import ResponseReturnValue

from callsight.db.records import OrgRecord
from callsight_upload.core import sessions
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.validation import reject_nul

P = ParamSpec("P")

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}


def current_org() -> OrgRecord:
    """The organisation of a view behind `require_api_key`."""
    org: OrgRecord = g.org
    return org


def _use_web_session() -> bool:
    """Sets `g.org` from a signed-in web user; False when there is no live session."""
    user = sessions.current_user()
    if user is None:
        return False
    if request.method not in sessions.SAFE_METHODS:
        try:
            sessions.check_csrf(allow_form=False)
        except sessions.CsrfError:
            raise ApiError(403, "csrf_failed", "send the page's CSRF token in the X-CSRF-Token header") from None
    if request.path.startswith("/api/settings") and not user.is_admin:
        raise ApiError(403, "admin_only", "only administrators can change the organisation's settings")
    org = connections().orgs.get(user.org_id)
    if org is None:
        return False
    g.org = org
    g.api_key = None
    return True


def require_api_key(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Sets `g.org` (the key's organisation) or answers 401."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        presented = request.headers.get("X-API-Key", "").strip()
        if not presented and _use_web_session():
            reject_nul()
            return view(*args, **kwargs)
        if not presented:
            raise ApiError(401, "missing_api_key", "send your API key in the X-API-Key header", UNAUTHORIZED_HEADERS)
        found = connections()
        key = found.orgs.authenticate(presented)
        if key is None:
            raise ApiError(401, "invalid_api_key", "the API key is not valid or has been revoked", UNAUTHORIZED_HEADERS)
        org = found.orgs.get(key.org_id)
        if org is None:
            raise ApiError(401, "invalid_api_key", "the API key's organisation no longer exists", UNAUTHORIZED_HEADERS)
        found.rate_limiter.check(key.id)
        g.org = org
        g.api_key = key
        reject_nul()
        return view(*args, **kwargs)

    return wrapper
