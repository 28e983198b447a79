"""Query-string arguments shared by the API and the pages, checked with clear messages."""

from __future__ import annotations

import datetime as dt

from flask import request

from callsight_upload.core.errors import ApiError


def date_arg(*names: str) -> str:
    """The first of `names` that is set, as YYYY-MM-DD; "" when none is."""
    for name in names:
        value = request.args.get(name, "").strip()
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise ApiError(400, "invalid_date", f"{name} must be a date as YYYY-MM-DD") from None
            return value
    return ""


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_request", f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_request", f"{name} must be between {low} and {high}")
    return value
