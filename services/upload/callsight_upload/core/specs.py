"""What a client sends to make an API key, a webhook or the retention settings, checked
with messages a person understands; the API and the Settings page share these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import request

from callsight import webhook_targets
from callsight.apikeys import SCOPES
from callsight.db.schema import WEBHOOK_EVENTS
from callsight.retention import Retention, RetentionError, retention_from
from callsight_upload.core.errors import ApiError
from callsight_upload.core.validation import reject_nul_in_json

MAX_KEY_YEARS = 10


def json_object(code: str, example: str) -> dict[str, Any]:
    """The request's JSON body, which must be an object; 400 with an example otherwise."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, code, f"the body must be a JSON object such as {example}")
    reject_nul_in_json(body, code)
    return body


def _text(body: dict[str, Any], name: str, code: str, *, required: bool, limit: int) -> str:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ApiError(400, code, f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise ApiError(400, code, f"{name} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise ApiError(400, code, f"{name} is too long ({len(value)} characters; at most {limit})")
    if any(ord(ch) < 32 for ch in value):
        raise ApiError(400, code, f"{name} must not contain control characters")
    return value


def _choices(body: dict[str, Any], name: str, allowed: tuple[str, ...], code: str) -> list[str]:
    value = body.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ApiError(400, code, f"{name} must be a non-empty list of {', '.join(allowed)}")
    unknown = sorted({v for v in value if v not in allowed})
    if unknown:
        raise ApiError(400, code, f"{name} has unknown values {unknown}; allowed: {', '.join(allowed)}")
    return [v for v in allowed if v in value]


# ---- API keys ----------------------------------------------------------------------------

@dataclass(frozen=True)
class KeySpec:
    name: str
    scopes: list[str]
    expires_at: dt.datetime | None


def expiry(value: Any, now: dt.datetime | None = None) -> dt.datetime | None:
    """None (never), an ISO 8601 date-time (no offset = UTC) or a date (the key works through
    that day, UTC); it must be in the future and within ten years."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_api_key_request", "expires_at must be a date-time such as 2027-03-31T00:00:00Z, "
                                                       "a date, or null for a key that never expires")
    raw = value.strip()
    try:
        if len(raw) == 10:
            when = dt.datetime.combine(dt.date.fromisoformat(raw) + dt.timedelta(days=1), dt.time(), dt.UTC)
        else:
            when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise ApiError(400, "invalid_api_key_request",
                       f"expires_at must be a date-time such as 2027-03-31T00:00:00Z or a date (got {raw[:40]!r})") from None
    now = now or dt.datetime.now(dt.UTC)
    if when <= now:
        raise ApiError(400, "invalid_api_key_request", "expires_at must be in the future")
    if when > now + dt.timedelta(days=366 * MAX_KEY_YEARS):
        raise ApiError(400, "invalid_api_key_request",
                       f"expires_at must be within {MAX_KEY_YEARS} years; use null for a key that never expires")
    return when.astimezone(dt.UTC)


def key_spec(body: dict[str, Any]) -> KeySpec:
    unknown = sorted(set(body) - {"name", "scopes", "expires_at"})
    if unknown:
        raise ApiError(400, "invalid_api_key_request", f"unknown fields {unknown}; allowed: name, scopes, expires_at")
    return KeySpec(
        name=_text(body, "name", "invalid_api_key_request", required=True, limit=200),
        scopes=_choices(body, "scopes", SCOPES, "invalid_api_key_request"),
        expires_at=expiry(body.get("expires_at")),
    )


# ---- webhooks ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WebhookSpec:
    url: str
    events: list[str]
    description: str


def webhook_spec(body: dict[str, Any], allowed: tuple[webhook_targets.Network, ...]) -> WebhookSpec:
    unknown = sorted(set(body) - {"url", "events", "description"})
    if unknown:
        raise ApiError(400, "invalid_webhook", f"unknown fields {unknown}; allowed: url, events, description")
    url = _text(body, "url", "invalid_webhook", required=True, limit=webhook_targets.MAX_URL)
    events = _choices(body, "events", WEBHOOK_EVENTS, "invalid_webhook")
    description = _text(body, "description", "invalid_webhook", required=False, limit=500)
    try:
        webhook_targets.check(url, allowed)
    except webhook_targets.UnsafeTarget as exc:
        raise ApiError(400, "invalid_webhook_url", str(exc)) from None
    return WebhookSpec(url, events, description)


# ---- retention -----------------------------------------------------------------------------

def retention_spec(body: dict[str, Any]) -> Retention:
    unknown = sorted(set(body) - {"audio_days", "transcript_days"})
    if unknown:
        raise ApiError(400, "invalid_retention", f"unknown fields {unknown}; allowed: audio_days, transcript_days")
    if "audio_days" not in body or "transcript_days" not in body:
        raise ApiError(400, "invalid_retention", "send both audio_days and transcript_days (0 = keep forever)")
    try:
        return retention_from(body["audio_days"], body["transcript_days"])
    except RetentionError as exc:
        raise ApiError(400, "invalid_retention", str(exc)) from None
