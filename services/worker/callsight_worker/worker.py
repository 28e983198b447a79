"""The worker loop: one job at a time, idempotent, with heartbeats and clean shutdown.

A job delivered twice gives one result: the claim, the result and the final status
are all guarded by the call's generation and status rank in PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge, Histogram

from callsight.convert import STATUS_TO_PROTO, call_to_proto
from callsight.db.calls_repo import CallRepository
from callsight.db.orgs_repo import OrgRepository
from callsight.db.records import CallRecord, OrgRecord
from callsight.enqueue import analysis_job
from callsight.jobqueue import JobQueue, QueueUnavailable, ReceivedJob
from callsight.logs import log_context
from callsight.status_cache import StatusCache
from callsight.storage import AudioStore, StorageUnavailable
from callsight.telemetry import attached, tracer
from callsight.v1 import job_pb2
from callsight_worker.call_analyser import CallAnalyser
from callsight_worker.call_analysis import AnalysedCall
from callsight_worker.decode import UndecodableAudio
from callsight_worker.engine_jobs import CallEngineJobs
from callsight_worker.engines.base import TranscribeOptions, TranscriptionError
from callsight_worker.engines.factory import EngineRegistry
from callsight_worker.pipeline import CallRequest, transcribe_file
from callsight_worker.progress import JobProgress, ProgressReporter, SpeedHistory
from callsight_worker.settings import WorkerSettings
from callsight_worker.transcript import Transcript

log = logging.getLogger(__name__)

JOBS = Counter("callsight_worker_jobs_total", "Jobs handled by outcome", ["outcome"])
JOB_SECONDS = Histogram("callsight_worker_job_seconds", "Wall time per job", buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600))
STEP_SECONDS = Histogram("callsight_worker_step_seconds", "Wall time per pipeline step", ["step"])
AUDIO_SECONDS = Counter("callsight_worker_audio_seconds_total", "Seconds of audio processed")
BUSY = Gauge("callsight_worker_busy", "1 while a job is in progress")
_tracer = tracer("callsight.worker")


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """One step of a job: a child span and a duration metric."""
    started = time.perf_counter()
    with _tracer.start_as_current_span(name):
        yield
    STEP_SECONDS.labels(name).observe(time.perf_counter() - started)


class Worker:
    def __init__(
        self, settings: WorkerSettings, calls: CallRepository, orgs: OrgRepository, audio: AudioStore,
        queue: JobQueue[job_pb2.TranscriptionJob], cache: StatusCache, engines: EngineRegistry,
        analyser: CallAnalyser, analysis_queue: JobQueue[job_pb2.AnalysisJob] | None = None,
    ) -> None:
        self.settings = settings
        self.worker_id = settings.worker_id
        self.calls = calls
        self.orgs = orgs
        self.audio = audio
        self.queue = queue
        self.cache = cache
        self.engines = engines
        self.analyser = analyser
        self.analysis_queue = analysis_queue
        self.stopping = threading.Event()  # stop taking new jobs
        self.abandon = threading.Event()  # give the current job back now
        self.current: ReceivedJob[job_pb2.TranscriptionJob] | None = None
        self.speed = SpeedHistory()  # this worker's measured speed: the ETA before a job measures its own
        self.exit_code = 0  # non-zero once a job overran CALLSIGHT_MAX_JOB_SECONDS

    # ---- lifecycle ---------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, frame: object) -> None:
            if self.stopping.is_set() or signum == signal.SIGINT:
                self.abandon.set()
            self.stopping.set()
            log.info("signal %d: finishing the current job, taking no new ones", signum)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                received = self.queue.receive(wait_s=5)
            except QueueUnavailable as exc:
                log.warning("job queue unavailable: %s", exc)
                self.stopping.wait(2)
                continue
            if received is not None:
                self.handle(received)

    # ---- one job -------------------------------------------------------------------

    def handle(self, received: ReceivedJob[job_pb2.TranscriptionJob]) -> None:
        """One job, traced as a continuation of the upload that sent it."""
        with attached(received.trace_context), _tracer.start_as_current_span("job", kind=SpanKind.CONSUMER) as span:
            span.set_attribute("callsight.call_uid", received.job.call_uid)
            span.set_attribute("messaging.message.id", received.message_id)
            span.set_attribute("callsight.receive_count", received.receive_count)
            self._handle(received)

    def _handle(self, received: ReceivedJob[job_pb2.TranscriptionJob]) -> None:
        job = received.job
        token = log_context.set({"call_uid": job.call_uid, "org": job.org_id})
        try:
            if not job.call_uid:
                log.error("dropping an unreadable job message %s", received.message_id)
                self._delete(received)
                JOBS.labels("unreadable").inc()
                return
            if job.kind == "analyse":
                self._forward_analysis(received)
                return
            call = self.calls.claim(job.call_uid, job.generation, self.worker_id)
            if call is None:
                # finished already, or superseded by a retry: a duplicate delivery
                self._delete(received)
                JOBS.labels("duplicate").inc()
                return
            log_context.set({"call_uid": call.uid, "call_id": call.call_id, "org": call.org_id})
            self._publish(call, "Queued")
            self._process(received, call)
        finally:
            log_context.reset(token)

    def _process(self, received: ReceivedJob[job_pb2.TranscriptionJob], call: CallRecord) -> None:
        self.current = received
        BUSY.set(1)
        done = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(received, call, done), daemon=True)
        heartbeat.start()
        started = time.perf_counter()
        progress = JobProgress(self.speed)
        reporter = ProgressReporter(progress, self._progress_sender(call), self.settings.progress_interval_s).start()
        try:
            with tempfile.TemporaryDirectory(prefix="callsight-job-") as tmp:
                self._transcribe(call, Path(tmp) / "audio", progress, reporter)
            self._delete(received)
            JOBS.labels("done").inc()
        except UndecodableAudio as exc:
            self._fail(received, call, f"The recording could not be decoded: {exc}", permanent=True)
        except TranscriptionError as exc:
            self._fail(received, call, f"Transcription failed: {exc}", permanent=exc.permanent)
        except StorageUnavailable as exc:
            log.warning("storage error: %s", exc)
            self._fail(received, call, "The recording or its results could not be read from or written to storage",
                       permanent=False)
        except Exception as exc:
            log.exception("job failed")
            self._fail(received, call, f"{type(exc).__name__}: {exc}", permanent=False)
        finally:
            reporter.stop()
            done.set()
            heartbeat.join(timeout=5)
            JOB_SECONDS.observe(time.perf_counter() - started)
            BUSY.set(0)
            self.current = None

    def _transcribe(self, call: CallRecord, path: Path, progress: JobProgress, reporter: ProgressReporter) -> None:
        t0 = time.perf_counter()
        progress.report("download", 0.0)
        with step("download"):
            self.audio.download_to(call.audio_key, path)
        org = self.orgs.get(call.org_id)
        request = CallRequest(
            # without a language on the upload, the audio decides; call.language holds the org default then
            language=call.language if call.language_source == "request" else None,
            default_language=call.language if call.language_source != "request" else (
                org.default_language if org else call.language),
            operator_channel=call.operator_channel or (org.operator_channel if org else "left"),
            vocabulary=tuple(org.vocabulary) if org else (),
            qa_form=org.qa_form if org else None,
            company_names=(org.name,) if org and org.name else (),
        )
        engine = self.engines.get(org.engine if org and org.engine else None)
        options = TranscribeOptions(
            job_store=CallEngineJobs(self.calls, call.uid),
            engine_settings=((org.engine_settings or {}) if org else {}).get(engine.name) or {},
        )
        result = transcribe_file(path, call.audio_format, engine, request, detector=self.engines.language_detector(),
                                 options=options, progress=progress.report,
                                 speaker_encoder=self.engines.speaker_encoder())
        for name, seconds in result.timings.items():
            STEP_SECONDS.labels(name).observe(seconds)
        AUDIO_SECONDS.inc(result.audio.duration_s)
        self.calls.set_media_info(call.uid, result.audio.duration_s, result.audio.source_channels,
                                  result.audio.source_sample_rate)
        tail_started = time.perf_counter()
        progress.report("analyse", 0.0)
        with step("analyse"):
            analysed = self._analyse(result.transcript, org, analyse=bool(org and org.auto_generate_analytics))
        transcript = analysed.transcript.to_dict()
        progress.report("store", 0.0)
        with step("store"):
            # the analysis is stored before Done, so every Done call of the organisation carries it
            self.analyser.store(call, analysed)
            # PostgreSQL holds the one transcript (and the analysis): no copy in S3 that nothing reads
            finished = self.calls.complete(call.uid, call.generation, transcript, None,
                                           language=result.language, warnings=result.warnings,
                                           speakers=result.speakers)
            reporter.stop()  # nothing about this attempt may follow its Done
        if finished is not None:
            self._publish(finished, "Processing")
            elapsed = time.perf_counter() - t0
            self.speed.record(elapsed, result.audio.duration_s, time.perf_counter() - tail_started)
            log.info("call done: %.1f s of audio in %.1f s", result.audio.duration_s, elapsed)

    # ---- analysis -------------------------------------------------------------------

    def _analyse(self, transcript: Transcript, org: OrgRecord | None, analyse: bool) -> AnalysedCall:
        return self.analyser.analyse(transcript, org, analyse)

    def _forward_analysis(self, received: ReceivedJob[job_pb2.TranscriptionJob]) -> None:
        """An analysis job from a gateway older than the analysis queue: it belongs there."""
        job = received.job
        if self.analysis_queue is None:
            log.warning("an analysis job on the transcription queue and no analysis queue configured: dropped")
        else:
            try:
                self.analysis_queue.send(analysis_job(job.call_uid, job.org_id, trace_context=dict(job.trace_context)))
            except QueueUnavailable as exc:
                log.warning("could not move an analysis job to the analysis queue (%s); will retry", exc)
                return
        self._delete(received)
        JOBS.labels("analysis_forwarded").inc()

    def _fail(self, received: ReceivedJob[job_pb2.TranscriptionJob], call: CallRecord, reason: str, permanent: bool) -> None:
        attempts = max(received.receive_count, call.attempts)
        if permanent or attempts >= self.settings.max_attempts:
            if not permanent:
                reason = f"{reason} (gave up after {attempts} attempts; the job is in the dead-letter queue)"
            failed = self.calls.fail(call.uid, call.generation, reason)
            if failed is not None:
                self._publish(failed, "Processing")
            log.warning("call failed: %s", reason)
            JOBS.labels("failed").inc()
            if permanent:
                self._delete(received)
            # a transient give-up stays on the queue: its next receive moves it to the DLQ
            return
        JOBS.labels("retry").inc()
        log.warning("attempt %d failed, will retry: %s", attempts, reason)
        try:
            self.queue.extend(received.receipt_handle, min(300, 10 * attempts))
        except QueueUnavailable:
            pass

    # ---- helpers --------------------------------------------------------------------

    def _heartbeat(self, received: ReceivedJob[job_pb2.TranscriptionJob], call: CallRecord, done: threading.Event) -> None:
        """Keeps the job invisible and the call alive while it runs, and enforces
        CALLSIGHT_MAX_JOB_SECONDS: a job past it is failed (see `_overran`)."""
        interval = max(1.0, self.settings.visibility_timeout_s / 3)
        deadline = time.monotonic() + self.settings.max_job_seconds
        while not done.wait(max(0.2, min(interval, deadline - time.monotonic()))):
            if self.abandon.is_set():
                break
            if time.monotonic() >= deadline:
                self._overran(received, call)
                break
            try:
                self.queue.extend(received.receipt_handle, self.settings.visibility_timeout_s)
                self.calls.heartbeat(call.uid, call.generation)
            except Exception as exc:  # a missed beat is retried next interval
                log.warning("heartbeat failed: %s", exc)

    def _overran(self, received: ReceivedJob[job_pb2.TranscriptionJob], call: CallRecord) -> None:
        """The job ran past CALLSIGHT_MAX_JOB_SECONDS: the call is Failed with that reason
        (another try would take as long), its job deleted, and this process ends: the
        transcription in progress cannot be interrupted from here, and the supervisor
        (Kubernetes, or the local launcher) starts a fresh worker."""
        limit = self.settings.max_job_seconds
        reason = (f"Processing took longer than the limit of {limit} s (CALLSIGHT_MAX_JOB_SECONDS); "
                  "split the recording, or raise the limit")
        log.error("job overran its limit of %d s: failing the call and restarting this worker", limit)
        try:
            failed = self.calls.fail(call.uid, call.generation, reason)
            if failed is not None:
                self._publish(failed, "Processing")
        except Exception:  # PostgreSQL away: the reconciler fails it once its heartbeats stop
            log.exception("could not mark the overrunning call Failed")
        self._delete(received)
        JOBS.labels("overran").inc()
        self.exit_code = 3
        self.stopping.set()
        self.abandon.set()

    def _delete(self, received: ReceivedJob[job_pb2.TranscriptionJob]) -> None:
        try:
            self.queue.delete(received.receipt_handle)
        except QueueUnavailable as exc:
            # the result is stored; a redelivery will be recognised as a duplicate
            log.warning("could not delete the finished job message: %s", exc)

    def _progress_sender(self, call: CallRecord) -> Callable[[str, float, dt.datetime | None], bool]:
        """Progress goes to PostgreSQL first, guarded by this attempt: a worker that lost the
        call (redelivered to another, retried, finished) is refused there and says nothing."""
        def send(step_name: str, fraction: float, eta: dt.datetime | None) -> bool:
            current = self.calls.set_progress(call.uid, call.generation, call.attempts, fraction, step_name, eta)
            if current is None:
                return False
            self._publish(current, "Processing")
            return True

        return send

    def _publish(self, call: CallRecord, previous: str) -> None:
        self.cache.publish(call_to_proto(call), STATUS_TO_PROTO[previous])

    def release_current(self) -> None:
        """Hand the in-flight job back so another worker takes it at once."""
        if self.current is not None:
            try:
                self.queue.release(self.current.receipt_handle)
            except QueueUnavailable:
                pass
