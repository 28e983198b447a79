"""Entry point: `python -m callsight_worker.analysis_worker` takes analysis jobs and
enqueues re-runs until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from callsight.aws import sqs_client
from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.engine import make_engine
from callsight.db.orgs_repo import OrgRepository
from callsight.db.reruns_repo import RerunRepository
from callsight.health import Check, DependencyMonitor, postgres_probe
from callsight.jobqueue import JobQueue
from callsight.logs import setup_logging
from callsight.ops_http import serve_ops
from callsight.settings import SettingsError
from callsight.status_cache import StatusCache
from callsight.telemetry import setup_tracing
from callsight.v1 import job_pb2
from callsight_worker.analysis import configured_summarizer
from callsight_worker.analysis_worker.consumer import AnalysisConsumer
from callsight_worker.analysis_worker.producer import RerunProducer
from callsight_worker.analysis_worker.settings import AnalysisWorkerSettings
from callsight_worker.analysis_worker.warmup import warm_up
from callsight_worker.call_analyser import CallAnalyser

log = logging.getLogger("callsight_worker.analysis_worker")


def main() -> int:
    try:
        settings = AnalysisWorkerSettings.from_env()
    except SettingsError as exc:
        print(f"callsight-analysis-worker: {exc}", file=sys.stderr)
        return 2
    setup_logging("analysis-worker", settings.log_format)
    setup_tracing(settings.otel_service_name or "callsight-analysis-worker", kind=settings.otel_traces_exporter)
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=3)
    reruns = RerunRepository(engine)
    analyser = CallAnalyser(CallRepository(engine), OrgRepository(engine), AnalysisRepository(engine),
                            configured_summarizer(settings), StatusCache(settings.redis_url.get_secret_value()))
    queue = JobQueue(sqs_client(settings.sqs_endpoint_url, settings.aws_region, read_timeout=30),
                     settings.analysis_queue_url, settings.analysis_dlq_url, job_pb2.AnalysisJob)
    consumer = AnalysisConsumer(queue, analyser, reruns, settings.max_attempts)
    producer = RerunProducer(reruns, queue, settings.rerun_drip_per_s, settings.rerun_max_queued,
                             settings.requeue_after_s)
    warmed = threading.Event()

    monitor = DependencyMonitor([Check("postgres", postgres_probe(engine)), Check("sqs", lambda: queue.depth())]).start()

    def ready() -> tuple[bool, dict[str, str]]:
        ok, checks = monitor.state()
        checks = {"analysis": "ready" if warmed.is_set() else "warming up", **checks}
        return warmed.is_set() and ok, checks

    def on_signal(signum: int, frame: object) -> None:
        log.info("signal %d: finishing the current job, taking no new ones", signum)
        consumer.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serve_ops(settings.ops_port, ready, host=settings.bind_host)
    warm_up()  # the dictionaries and lexicons load once, before the first job waits for them
    warmed.set()
    threading.Thread(target=producer.run_forever, args=(consumer.stopping,), name="rerun-producer",
                     daemon=True).start()
    log.info("analysis worker %s ready", settings.worker_id)
    consumer.run()
    log.info("analysis worker %s stopped", settings.worker_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
