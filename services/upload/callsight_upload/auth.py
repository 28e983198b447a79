"""API-key authentication for the Ingest and REST APIs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from callsight.db.records import OrgRecord
from callsight_upload.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}


def services():  # type: ignore[no-untyped-def]
    return current_app.extensions["callsight"]


def require_api_key(view: F) -> F:
    """Sets `g.org` (the key's organisation) or answers 401."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        presented = request.headers.get("X-API-Key", "").strip()
        if not presented:
            raise ApiError(401, "missing_api_key", "send your API key in the X-API-Key header", UNAUTHORIZED_HEADERS)
        key = services().orgs.authenticate(presented)
        if key is None:
            raise ApiError(401, "invalid_api_key", "the API key is not valid or has been revoked", UNAUTHORIZED_HEADERS)
        org: OrgRecord | None = services().orgs.get(key.org_id)
        if org is None:
            raise ApiError(401, "invalid_api_key", "the API key's organisation no longer exists", UNAUTHORIZED_HEADERS)
        g.org = org
        g.api_key = key
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
