"""The delivery loop: take due deliveries, send each on a thread of its own, record the
outcome (delivered; retry at the next backoff step; failed after 24 h; cancelled when
the call is gone)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from prometheus_client import Counter, Gauge, Histogram

from callsight import webhook_signing
from callsight.db.deliveries_repo import DeliveryRepository, DueDelivery
from callsight.webhook_targets import Network
from callsight_webhooks.backoff import Backoff
from callsight_webhooks.payloads import CallGone, PayloadBuilder
from callsight_webhooks.sender import Attempt, post

log = logging.getLogger(__name__)

ATTEMPTS = Counter("callsight_webhook_attempts_total", "Delivery attempts by event and outcome",
                   ["event", "outcome"])
LATENCY = Histogram("callsight_webhook_latency_seconds", "Time a receiver took to answer a delivery",
                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
IN_FLIGHT = Gauge("callsight_webhook_in_flight", "Deliveries being sent right now")
PENDING = Gauge("callsight_webhook_pending", "Deliveries waiting for an attempt (due or backing off)")


class Deliverer:
    def __init__(self, deliveries: DeliveryRepository, payloads: PayloadBuilder, backoff: Backoff,
                 allowed: tuple[Network, ...], timeout_s: float, concurrency: int) -> None:
        self.deliveries = deliveries
        self.payloads = payloads
        self.backoff = backoff
        self.allowed = allowed
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="deliver")
        self.in_flight: set[Future[None]] = set()
        self.lock = threading.Lock()

    def deliver(self, delivery: DueDelivery) -> Attempt | None:
        """One attempt of one delivery, recorded; None when there was nothing to send."""
        try:
            payload = delivery.payload or self.deliveries.freeze_payload(delivery.id, self.payloads.build(delivery))
        except CallGone:
            self.deliveries.cancel(delivery.id, "the call was deleted before it could be delivered")
            ATTEMPTS.labels(delivery.event, "cancelled").inc()
            return None
        body = payload.encode()
        headers = {
            webhook_signing.SIGNATURE_HEADER: webhook_signing.sign(delivery.secret, body),
            webhook_signing.EVENT_HEADER: delivery.event,
            webhook_signing.DELIVERY_HEADER: delivery.id,
        }
        attempt = post(delivery.url, body, headers, self.allowed, self.timeout_s)
        LATENCY.observe(attempt.latency_ms / 1000)
        attempts = delivery.attempts + 1
        if attempt.delivered:
            self.deliveries.record_attempt(delivery.id, status_code=attempt.status_code,
                                           latency_ms=attempt.latency_ms, error=None, state="delivered")
            ATTEMPTS.labels(delivery.event, "delivered").inc()
            return attempt
        retry_at = self.backoff.next_attempt(delivery.created_at, attempts, dt.datetime.now(dt.UTC))
        state = "pending" if retry_at else "failed"
        self.deliveries.record_attempt(delivery.id, status_code=attempt.status_code, latency_ms=attempt.latency_ms,
                                       error=attempt.error, state=state, next_attempt_at=retry_at)
        ATTEMPTS.labels(delivery.event, "retry" if retry_at else "failed").inc()
        log.info("delivery %s of %s to webhook %s: %s (attempt %d; %s)", delivery.id, delivery.event,
                 delivery.webhook_id, attempt.error, attempts,
                 f"next at {retry_at.isoformat(timespec='seconds')}" if retry_at else "given up",
                 extra={"fields": {"call_id": delivery.call_id, "org": delivery.org_id, "delivery_id": delivery.id}})
        return attempt

    def _run(self, delivery: DueDelivery) -> None:
        IN_FLIGHT.inc()
        try:
            self.deliver(delivery)
        except Exception:  # the delivery's lease runs out and it is tried again
            log.exception("delivery %s failed unexpectedly", delivery.id)
        finally:
            IN_FLIGHT.dec()

    def dispatch_once(self) -> int:
        """Take as many due deliveries as there are free threads; how many were taken."""
        with self.lock:
            self.in_flight = {f for f in self.in_flight if not f.done()}
            free = self.concurrency - len(self.in_flight)
        # a lease longer than any attempt: connect + answer, plus time to record it
        taken = self.deliveries.take_due(free, lease_s=self.timeout_s * 2 + 30)
        for delivery in taken:
            future = self.pool.submit(self._run, delivery)
            with self.lock:
                self.in_flight.add(future)
        return len(taken)

    def run(self, stop: threading.Event, poll_s: float) -> None:
        last_count = 0.0
        while not stop.is_set():
            try:
                taken = self.dispatch_once()
                if time.monotonic() - last_count > 15:
                    PENDING.set(self.deliveries.pending_count())
                    last_count = time.monotonic()
            except Exception:  # PostgreSQL restarting: wait and look again
                log.exception("looking for due deliveries failed")
                taken = 0
            if not taken:
                stop.wait(poll_s)
            else:
                # something was taken: look again soon, but let the threads start
                stop.wait(0.05)
        self.pool.shutdown(wait=True, cancel_futures=False)
