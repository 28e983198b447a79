"""Entry point: `python -m callsight_webhooks` sends webhook deliveries until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.deliveries_repo import DeliveryRepository
from callsight.db.engine import make_engine
from callsight.health import Check, DependencyMonitor, postgres_probe
from callsight.logs import setup_logging
from callsight.ops_http import serve_ops
from callsight.settings import SettingsError
from callsight.telemetry import setup_tracing
from callsight_webhooks.backoff import Backoff
from callsight_webhooks.deliverer import Deliverer
from callsight_webhooks.payloads import PayloadBuilder
from callsight_webhooks.settings import DelivererSettings

log = logging.getLogger("callsight_webhooks")


def main() -> int:
    try:
        settings = DelivererSettings.from_env()
    except SettingsError as exc:
        print(f"callsight-webhooks: {exc}", file=sys.stderr)
        return 2
    setup_logging("webhooks", settings.log_format)
    setup_tracing(settings.otel_service_name or "callsight-webhooks", kind=settings.otel_traces_exporter)
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=min(settings.webhook_concurrency + 2, 20))
    deliverer = Deliverer(
        DeliveryRepository(engine),
        PayloadBuilder(CallRepository(engine), AnalysisRepository(engine)),
        Backoff(settings.webhook_retry_base_s, settings.webhook_retry_max_delay_s, settings.webhook_retry_for_s),
        settings.webhook_networks,
        settings.webhook_timeout_s,
        settings.webhook_concurrency,
    )
    stop = threading.Event()

    # checked in the background like every other service's, never on the probe's request
    monitor = DependencyMonitor([Check("postgres", postgres_probe(engine))]).start()

    def on_signal(signum: int, frame: object) -> None:
        log.info("signal %d: finishing the deliveries in flight, taking no new ones", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serve_ops(settings.ops_port, monitor.state, host=settings.bind_host)
    allowed = ", ".join(str(n) for n in settings.webhook_networks) or "none"
    log.info("webhook deliverer ready (%d at once; private networks allowed: %s)", settings.webhook_concurrency, allowed)
    deliverer.run(stop, settings.webhook_poll_s)
    log.info("webhook deliverer stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
