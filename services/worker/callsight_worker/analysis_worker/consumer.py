"""Takes analysis jobs one at a time: analyse the call's stored transcript again.

A job delivered twice gives one result (the analysis is upserted). A call that is gone
or no longer Done is dropped, and counted as skipped in its re-run; a job that fails on
every attempt is counted as skipped too and left for the dead-letter queue."""

from __future__ import annotations

import logging
import threading

from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from callsight.db.reruns_repo import RerunRepository
from callsight.jobqueue import JobQueue, QueueUnavailable, ReceivedJob
from callsight.logs import log_context
from callsight.telemetry import attached, tracer
from callsight.v1 import job_pb2
from callsight_worker.call_analyser import CallAnalyser

log = logging.getLogger(__name__)
JOBS = Counter("callsight_analysis_jobs_total", "Analysis jobs handled by outcome", ["outcome"])
JOB_SECONDS = Histogram("callsight_analysis_job_seconds", "Wall time per analysis job",
                        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
_tracer = tracer("callsight.analysis_worker")


class AnalysisConsumer:
    def __init__(self, queue: JobQueue[job_pb2.AnalysisJob], analyser: CallAnalyser, reruns: RerunRepository,
                 max_attempts: int) -> None:
        self.queue = queue
        self.analyser = analyser
        self.reruns = reruns
        self.max_attempts = max_attempts
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                received = self.queue.receive(wait_s=5)
            except QueueUnavailable as exc:
                log.warning("analysis queue unavailable: %s", exc)
                self.stopping.wait(2)
                continue
            if received is not None:
                self.handle(received)

    def handle(self, received: ReceivedJob[job_pb2.AnalysisJob]) -> None:
        job = received.job
        token = log_context.set({"call_uid": job.call_uid, "org": job.org_id})
        try:
            with attached(received.trace_context), JOB_SECONDS.time(), \
                    _tracer.start_as_current_span("analysis job", kind=SpanKind.CONSUMER) as span:
                span.set_attribute("callsight.call_uid", job.call_uid)
                span.set_attribute("callsight.rerun_id", job.rerun_id)
                self._handle(received)
        finally:
            log_context.reset(token)

    def _handle(self, received: ReceivedJob[job_pb2.AnalysisJob]) -> None:
        job = received.job
        if not job.call_uid:
            log.error("dropping an unreadable analysis job %s", received.message_id)
            self._delete(received)
            JOBS.labels("unreadable").inc()
            return
        try:
            if job.operator_voice:
                self.analyser.set_operator_voice(job.call_uid, job.operator_voice, job.requested_by)
            analysed = self.analyser.analyse_again(job.call_uid)
        except Exception:
            # PostgreSQL trouble: the job comes back after its visibility timeout
            log.exception("re-analysis failed (attempt %d of %d)", received.receive_count, self.max_attempts)
            if received.receive_count >= self.max_attempts:
                # its next receive moves it to the dead-letter queue; the re-run goes on without it
                self._skip(job)
                JOBS.labels("gave_up").inc()
            else:
                JOBS.labels("retry").inc()
            return
        if not analysed:
            log.info("analysis job for a call that is gone or not Done: dropped")
            self._skip(job)
        JOBS.labels("analysed" if analysed else "dropped").inc()
        self._delete(received)

    def _skip(self, job: job_pb2.AnalysisJob) -> None:
        if job.rerun_id:
            try:
                self.reruns.mark_skipped(job.rerun_id, job.call_uid)
            except Exception:
                log.exception("could not count a skipped call in its re-run")

    def _delete(self, received: ReceivedJob[job_pb2.AnalysisJob]) -> None:
        try:
            self.queue.delete(received.receipt_handle)
        except QueueUnavailable as exc:
            # the analysis is stored; a redelivery analyses it again, harmlessly
            log.warning("could not delete the finished analysis job: %s", exc)
