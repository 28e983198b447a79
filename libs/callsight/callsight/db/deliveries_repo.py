"""DeliveryRepository: the webhook deliverer's side — take due deliveries, record attempts.

A due delivery is leased, not locked: taking it moves its `next_attempt_at` past the
attempt's timeout in one short transaction (SKIP LOCKED, so several deliverers share the
work), and the result is written when the attempt ends. A deliverer that dies mid-attempt
leaves the lease to run out, and the delivery is tried again — a receiver may see a
delivery twice, which is why every body carries its event id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, text, update

from callsight.db.records import FromRow
from callsight.db.schema import webhook_deliveries, webhooks


@dataclass(frozen=True)
class DueDelivery(FromRow):
    id: str
    webhook_id: str
    org_id: str
    event: str
    event_id: str
    call_uid: str
    call_id: str
    payload: str | None
    attempts: int
    created_at: dt.datetime
    url: str
    secret: str


class DeliveryRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def take_due(self, limit: int, lease_s: float) -> list[DueDelivery]:
        """Up to `limit` pending deliveries whose time has come, oldest first, leased for
        `lease_s` seconds, with their webhook's URL and secret."""
        if limit <= 0:
            return []
        due = (select(webhook_deliveries.c.id)
               .where(webhook_deliveries.c.state == "pending", webhook_deliveries.c.next_attempt_at <= func.now())
               .order_by(webhook_deliveries.c.next_attempt_at).limit(limit)
               .with_for_update(skip_locked=True))
        lease = func.now() + text(f"interval '{float(lease_s):.3f} seconds'")
        with self.engine.begin() as conn:
            ids = [r.id for r in conn.execute(
                update(webhook_deliveries).where(webhook_deliveries.c.id.in_(due.scalar_subquery()))
                .values(next_attempt_at=lease).returning(webhook_deliveries.c.id)).all()]
            if not ids:
                return []
            rows = conn.execute(
                select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
                .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
                .where(webhook_deliveries.c.id.in_(ids))
                .order_by(webhook_deliveries.c.created_at)
            ).all()
        return [DueDelivery.from_row(r) for r in rows]

    def freeze_payload(self, delivery_id: str, payload: str) -> str:
        """Keep the first body made for a delivery, so every attempt sends the same bytes."""
        with self.engine.begin() as conn:
            kept = conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.payload.is_(None))
                .values(payload=payload).returning(webhook_deliveries.c.payload)).scalar()
            if kept is None:
                kept = conn.execute(select(webhook_deliveries.c.payload)
                                    .where(webhook_deliveries.c.id == delivery_id)).scalar()
        return str(kept) if kept is not None else payload

    def record_attempt(self, delivery_id: str, *, status_code: int | None, latency_ms: int | None,
                       error: str | None, state: str, next_attempt_at: dt.datetime | None = None) -> None:
        """One attempt's result: `state` delivered, failed (given up) or pending (retry at
        `next_attempt_at`)."""
        values: dict[str, object] = {
            "attempts": webhook_deliveries.c.attempts + 1, "last_attempt_at": func.now(),
            "last_status_code": status_code, "last_latency_ms": latency_ms,
            "last_error": error[:2000] if error else None, "state": state,
        }
        if state == "delivered":
            values["delivered_at"] = func.now()
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.engine.begin() as conn:
            conn.execute(update(webhook_deliveries)
                         .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.state == "pending")
                         .values(**values))

    def cancel(self, delivery_id: str, reason: str) -> None:
        """Nothing to send (the call was deleted before the first attempt)."""
        with self.engine.begin() as conn:
            conn.execute(update(webhook_deliveries)
                         .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.state == "pending")
                         .values(state="cancelled", last_error=reason[:2000], payload=None))

    def pending_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(webhook_deliveries)
                                    .where(webhook_deliveries.c.state == "pending")).scalar_one())
