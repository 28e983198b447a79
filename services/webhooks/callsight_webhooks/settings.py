"""The webhook deliverer's settings: its one configuration object, read once at start."""

from __future__ import annotations

from callsight.settings import ServiceSettings, WebhookTargetSettings, env


class DelivererSettings(ServiceSettings, WebhookTargetSettings):
    ops_port: int = env("OPS_PORT", 9090, "HTTP port of /healthz, /readyz and /metrics")
    webhook_concurrency: int = env("CALLSIGHT_WEBHOOK_CONCURRENCY", 8,
                                   "Deliveries in flight at once (one slow receiver holds one of them)", gt=0, le=64)
    webhook_poll_s: float = env("CALLSIGHT_WEBHOOK_POLL_S", 1.0,
                                "Seconds between two looks for due deliveries when there is nothing to send", gt=0)
    webhook_timeout_s: float = env("CALLSIGHT_WEBHOOK_TIMEOUT_S", 10.0, (
        "Seconds a receiver has to answer one delivery (connecting and answering); past it the attempt failed"), gt=0)
    webhook_retry_base_s: float = env("CALLSIGHT_WEBHOOK_RETRY_BASE_S", 30.0, (
        "Wait before the first retry; each next one waits twice as long (with ±10% jitter)"), gt=0)
    webhook_retry_max_delay_s: float = env("CALLSIGHT_WEBHOOK_RETRY_MAX_DELAY_S", 3600.0,
                                           "The longest wait between two attempts", gt=0)
    webhook_retry_for_s: float = env("CALLSIGHT_WEBHOOK_RETRY_FOR_S", 86400.0, (
        "How long a delivery is retried after it was made (24 h); then it is failed and can be redelivered by hand"),
        gt=0)
