"""Validation of the upload fields, with messages a person understands."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from flask import request

from callsight_upload.core.errors import ApiError

LANGUAGES = {"ja-jp": "ja-JP", "en-us": "en-US", "ja_jp": "ja-JP", "en_us": "en-US"}
TEXT_FIELDS = ("call_id", "operator_id", "customer_id", "department")
KNOWN_FIELDS = {"call_id", "language", "operator_id", "customer_id", "department", "call_date", "file"}
MAX_TEXT = 255


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value)


def clean_text(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        return None
    if len(value) > MAX_TEXT:
        raise ApiError(400, "invalid_field", f"{name} is too long ({len(value)} characters; at most {MAX_TEXT})")
    if _has_control(value):
        raise ApiError(400, "invalid_field", f"{name} must not contain control or invisible formatting characters")
    if name == "call_id" and ("/" in value or "\\" in value):
        raise ApiError(400, "invalid_field", "call_id must not contain '/' or '\\'")
    return value


def language(value: str | None, default: str) -> str:
    if value is None or not value.strip():
        return default
    canonical = LANGUAGES.get(value.strip().lower())
    if canonical is None:
        raise ApiError(400, "invalid_language", f"language must be ja-JP or en-US (got {value.strip()[:40]!r})")
    return canonical


def call_date(value: str | None, today: dt.date) -> dt.date:
    if value is None or not value.strip():
        return today
    raw = value.strip()
    try:
        parsed = dt.date.fromisoformat(raw[:10]) if len(raw) > 10 and raw[10] in "T " else dt.date.fromisoformat(raw)
        if len(raw) > 10:
            dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid_call_date", f"call_date must be a date as YYYY-MM-DD (got {raw[:40]!r})") from None
    if parsed.year < 1970:
        raise ApiError(400, "invalid_call_date", "call_date is before 1970")
    if parsed > today + dt.timedelta(days=1):
        raise ApiError(400, "invalid_call_date", f"call_date {parsed.isoformat()} is in the future")
    return parsed


def file_name(raw: str | None) -> str | None:
    """The client's file name, reduced to its last path component; kept for display only."""
    if not raw:
        return None
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if not _has_control(ch)).strip()
    return name[:MAX_TEXT] or None


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def reject_nul() -> None:
    """PostgreSQL text cannot hold NUL, and no stored ID or name has one: a path or query parameter with
    U+0000 is a bad request (400), not a database error (500/502). Reads no body."""
    if _has_nul(request.view_args or {}) or _has_nul([part for kv in request.args.items(multi=True) for part in kv]):
        raise ApiError(400, "invalid_request", "the URL must not contain NUL (U+0000) characters")


def reject_nul_in_json(body: Any, code: str = "invalid_request") -> None:
    """The same for a parsed JSON body (strings and keys at any depth)."""
    if _has_nul(body):
        raise ApiError(400, code, "the JSON body must not contain NUL (U+0000) characters")
