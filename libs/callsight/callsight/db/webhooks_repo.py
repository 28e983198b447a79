"""WebhookRepository: the gateway's webhooks — create, list, remove — and their delivery log.

The gateway owns the webhooks. Deliveries are made by the database itself (triggers on
`calls` and `analyses`, in the transaction of the change) and sent by the webhook
deliverer; the gateway reads their log and asks for a redelivery by adding a new
delivery of the same event (same body and event id, a new delivery id).
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select

from callsight import webhook_signing
from callsight.db.records import FromRow
from callsight.db.schema import WEBHOOK_EVENTS, webhook_deliveries, webhooks


@dataclass(frozen=True)
class WebhookRecord(FromRow):
    id: str
    org_id: str
    url: str
    events: list[str]
    description: str
    created_by: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class DeliveryRecord(FromRow):
    id: str
    webhook_id: str
    event: str
    event_id: str
    call_id: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    redelivery_of: str | None
    created_at: dt.datetime


class NotRedeliverable(Exception):
    """The delivery's body is gone (its call was deleted) or was never made."""


class WebhookRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, org_id: str, url: str, events: list[str], description: str,
               created_by: str | None) -> tuple[WebhookRecord, str]:
        """The stored webhook and its signing secret (returned once; the caller shows it once)."""
        if not events or set(events) - set(WEBHOOK_EVENTS):
            raise ValueError(f"events must be a non-empty subset of {WEBHOOK_EVENTS}")
        secret = webhook_signing.new_secret()
        ordered = [e for e in WEBHOOK_EVENTS if e in events]
        with self.engine.begin() as conn:
            row = conn.execute(webhooks.insert().values(
                id=str(uuid.uuid4()), org_id=org_id, url=url, events=ordered, description=description,
                secret=secret, created_by=created_by,
            ).returning(*webhooks.c)).one()
        return WebhookRecord.from_row(row), secret

    def list(self, org_id: str) -> list[WebhookRecord]:
        q = select(webhooks).where(webhooks.c.org_id == org_id).order_by(webhooks.c.created_at, webhooks.c.id)
        with self.engine.connect() as conn:
            return [WebhookRecord.from_row(r) for r in conn.execute(q).all()]

    def get(self, org_id: str, webhook_id: str) -> WebhookRecord | None:
        q = select(webhooks).where(webhooks.c.org_id == org_id, webhooks.c.id == webhook_id)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return WebhookRecord.from_row(row) if row else None

    def delete(self, org_id: str, webhook_id: str) -> bool:
        """Remove the webhook and its delivery log; nothing more is sent to it."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(webhooks).where(webhooks.c.org_id == org_id, webhooks.c.id == webhook_id))
        return bool(result.rowcount)

    def deliveries(self, org_id: str, webhook_id: str, limit: int = 50,
                   before: dt.datetime | None = None) -> builtins.list[DeliveryRecord]:
        """The webhook's delivery log, newest first."""
        q = select(webhook_deliveries).where(webhook_deliveries.c.org_id == org_id,
                                             webhook_deliveries.c.webhook_id == webhook_id)
        if before is not None:
            q = q.where(webhook_deliveries.c.created_at < before)
        q = q.order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [DeliveryRecord.from_row(r) for r in conn.execute(q).all()]

    def redeliver(self, org_id: str, webhook_id: str, delivery_id: str) -> DeliveryRecord | None:
        """A new delivery of the same event and body, sent as soon as the deliverer takes it;
        None when there is no such delivery."""
        with self.engine.begin() as conn:
            original = conn.execute(select(webhook_deliveries).where(
                webhook_deliveries.c.org_id == org_id, webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.id == delivery_id)).first()
            if original is None:
                return None
            if original.payload is None and original.state in ("cancelled", "delivered", "failed"):
                raise NotRedeliverable(delivery_id)
            values: dict[str, Any] = {
                "id": str(uuid.uuid4()), "webhook_id": webhook_id, "org_id": org_id, "event": original.event,
                "event_id": original.event_id, "call_uid": original.call_uid, "call_id": original.call_id,
                "payload": original.payload, "redelivery_of": original.redelivery_of or original.id,
            }
            row = conn.execute(webhook_deliveries.insert().values(**values).returning(*webhook_deliveries.c)).one()
        return DeliveryRecord.from_row(row)
