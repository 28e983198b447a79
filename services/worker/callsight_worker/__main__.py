"""Entry point: `python -m callsight_worker` takes jobs until SIGTERM."""

from __future__ import annotations

import logging
import os
import sys
import threading

from callsight.health import Check, DependencyMonitor, postgres_probe
from callsight.logs import setup_logging
from callsight.ops_http import serve_ops
from callsight.settings import SettingsError
from callsight.telemetry import setup_tracing
from callsight_worker.reconciler import Reconciler
from callsight_worker.settings import WorkerSettings
from callsight_worker.wiring import build_worker

log = logging.getLogger("callsight_worker")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConnectionError(message)


def main() -> int:
    try:
        settings = WorkerSettings.from_env()
    except SettingsError as exc:
        print(f"callsight-worker: {exc}", file=sys.stderr)
        return 2
    setup_logging("worker", settings.log_format)
    setup_tracing(settings.otel_service_name or "callsight-worker", kind=settings.otel_traces_exporter)
    worker_id = settings.worker_id
    worker, engine = build_worker(settings)
    calls, queue, cache, engines = worker.calls, worker.queue, worker.cache, worker.engines
    worker.install_signal_handlers()
    model_ready = threading.Event()

    # what a job needs: its call row, the job queue, the recording; Redis only carries live status
    monitor = DependencyMonitor([
        Check("postgres", postgres_probe(engine)),
        Check("sqs", lambda: queue.depth()),
        Check("s3", worker.audio.ping),
        Check("redis", lambda: _require(cache.ping(), "redis does not answer"), required=False),
    ]).start()

    def ready() -> tuple[bool, dict[str, str]]:
        ok, checks = monitor.state()
        checks = {"model": "loaded" if model_ready.is_set() else "loading", **checks}
        return model_ready.is_set() and ok, checks

    serve_ops(settings.ops_port, ready, host=settings.bind_host)
    engines.get()  # load the default engine before taking jobs
    model_ready.set()

    def abandon_watch() -> None:
        # a second SIGTERM, or a job past CALLSIGHT_MAX_JOB_SECONDS: end now, whatever runs
        worker.abandon.wait()
        worker.release_current()
        os._exit(worker.exit_code)

    threading.Thread(target=abandon_watch, daemon=True).start()
    reconciler = Reconciler(settings, calls, queue, cache)
    threading.Thread(target=reconciler.run_forever, args=(worker.stopping,), daemon=True).start()
    log.info("worker %s ready", worker_id)
    worker.run()
    log.info("worker %s stopped", worker_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
