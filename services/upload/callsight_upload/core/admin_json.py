"""The JSON shape of the administrators' records in the public API: API keys, webhooks and
their deliveries, audit entries. Secrets never appear here (a key and a webhook's secret
are shown once, by the view that made them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from callsight.db.audit_repo import AuditEntry
from callsight.db.records import ApiKeyRecord
from callsight.db.webhooks_repo import DeliveryRecord, WebhookRecord


def when(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def key_json(key: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "expires_at": when(key.expires_at),
        "created_at": when(key.created_at),
        "created_by": key.created_by,
        "last_used_at": when(key.last_used_at),
        "revoked_at": when(key.revoked_at),
        "status": "revoked" if key.revoked_at else "expired" if key.expired() else "active",
    }


def webhook_json(webhook: WebhookRecord) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "description": webhook.description,
        "created_at": when(webhook.created_at),
        "created_by": webhook.created_by,
    }


def delivery_json(delivery: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event": delivery.event,
        "event_id": delivery.event_id,
        "call_id": delivery.call_id,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "status_code": delivery.last_status_code,
        "latency_ms": delivery.last_latency_ms,
        "error": delivery.last_error,
        "created_at": when(delivery.created_at),
        "last_attempt_at": when(delivery.last_attempt_at),
        "next_attempt_at": when(delivery.next_attempt_at) if delivery.state == "pending" else None,
        "delivered_at": when(delivery.delivered_at),
        "redelivery_of": delivery.redelivery_of,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": when(entry.at),
        "actor": {"type": entry.actor_type, "id": entry.actor_id, "name": entry.actor_name},
        "action": entry.action,
        "call_id": entry.call_id,
        "detail": entry.detail,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
    }
