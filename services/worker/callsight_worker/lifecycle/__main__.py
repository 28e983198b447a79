"""Entry point: `python -m callsight_worker.lifecycle` finishes deletions and runs the
retention reaper until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from callsight.aws import s3_client
from callsight.db.deletions_repo import DeletionRepository
from callsight.db.engine import make_engine
from callsight.db.retention_repo import RetentionRepository
from callsight.health import Check, DependencyMonitor, postgres_probe
from callsight.logs import setup_logging
from callsight.ops_http import serve_ops
from callsight.settings import SettingsError
from callsight.status_cache import StatusCache
from callsight.storage import AudioStore
from callsight.telemetry import setup_tracing
from callsight_worker.lifecycle.deletions import DeletionFinisher
from callsight_worker.lifecycle.retention import RetentionReaper
from callsight_worker.lifecycle.settings import LifecycleSettings

log = logging.getLogger("callsight_worker.lifecycle")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConnectionError(message)


def readiness_checks(engine: Engine, store: AudioStore, cache: StatusCache) -> list[Check]:
    """Ready = it can finish a deletion: PostgreSQL (the tombstones and rows) and S3 (the
    recordings it deletes). Redis only holds cached statuses it evicts: degraded without it."""
    return [
        Check("postgres", postgres_probe(engine)),
        Check("s3", store.ping),
        Check("redis", lambda: _require(cache.ping(), "redis does not answer"), required=False),
    ]


def every(interval_s: float, stop: threading.Event, work: Callable[[], object], name: str) -> None:
    """Run `work` now and then every `interval_s` until `stop`; a failed run is logged and retried."""
    while not stop.is_set():
        try:
            work()
        except Exception:  # the loop outlives any one failure (PostgreSQL restarting, ...)
            log.exception("%s pass failed; trying again in %.0f s", name, interval_s)
        stop.wait(interval_s)


def main() -> int:
    try:
        settings = LifecycleSettings.from_env()
    except SettingsError as exc:
        print(f"callsight-lifecycle: {exc}", file=sys.stderr)
        return 2
    setup_logging("lifecycle", settings.log_format)
    setup_tracing(settings.otel_service_name or "callsight-lifecycle", kind=settings.otel_traces_exporter)
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=2)
    store = AudioStore(s3_client(settings.s3_endpoint_url, settings.aws_region), settings.s3_bucket)
    cache = StatusCache(settings.redis_url.get_secret_value())
    finisher = DeletionFinisher(DeletionRepository(engine), store, cache)
    reaper = RetentionReaper(RetentionRepository(engine), store, finisher, settings.retention_batch)
    stop = threading.Event()

    # checked in the background like every other service's, never on the probe's request
    monitor = DependencyMonitor(readiness_checks(engine, store, cache)).start()

    def on_signal(signum: int, frame: object) -> None:
        log.info("signal %d: stopping after the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serve_ops(settings.ops_port, monitor.state, host=settings.bind_host)
    reaping = threading.Thread(target=every, args=(settings.retention_interval_s, stop, reaper.run_once, "retention"),
                               name="retention", daemon=True)
    reaping.start()
    log.info("lifecycle worker ready: deletions every %.0f s, retention every %.0f s", settings.deletion_interval_s,
             settings.retention_interval_s)
    every(settings.deletion_interval_s, stop, lambda: finisher.run_once(settings.deletion_batch), "deletion")
    reaping.join(timeout=30)
    log.info("lifecycle worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
