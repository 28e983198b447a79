"""`Transcriber` on the AmiVoice API: one channel, sync for short audio, async v2 for long.

Per channel: the organisation's settings and the call language pick the engine; short
audio goes to the synchronous interface (no-log endpoint unless logging is allowed),
long audio to the asynchronous v2 interface (batch engine, `loggingOptOut=True` unless
logging is allowed). An async job's session id is kept in the call's job store as soon
as AmiVoice answers, so a worker that restarts, or a job that is delivered again, polls
the same job instead of paying for a second one. See docs/engines/amivoice.md.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import requests

from ..base import (
    SAMPLE_RATE,
    Audio,
    ChannelTranscript,
    EngineJobStore,
    PermanentTranscriptionError,
    TranscribeOptions,
    TransientTranscriptionError,
)
from . import results
from .audio import EncodedAudio, encode, is_telephone_band, mono
from .codes import Outcome, classify, classify_job_error
from .config import (
    ENV_APPKEY,
    AmiVoiceConfigError,
    AmiVoiceSettings,
    ChannelPlan,
    build_d,
    org_settings,
    plan_channel,
)
from .engines import engine_info
from .http import AmiVoiceHttp, JobNotFound, PollRefused
from .vocabulary import profile_words

log = logging.getLogger(__name__)

DIGITAL_SILENCE = 1e-4  # peak below -80 dBFS: nothing on the line at all, no request
PENDING = frozenset({"queued", "started", "processing"})


class AmiVoiceTranscriber:
    name = "amivoice"

    def __init__(self, settings: AmiVoiceSettings, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        if not self.settings.appkey.strip():
            raise AmiVoiceConfigError(f"AmiVoice engine: the APPKEY is empty (set {ENV_APPKEY})")
        self.http = AmiVoiceHttp(self.settings)
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        s = self.settings
        return f"AmiVoiceTranscriber(sync_base_url={s.sync_base_url!r}, async_url={s.async_url!r})"

    def transcribe(self, audio: Audio, language: str, options: TranscribeOptions = TranscribeOptions()) -> ChannelTranscript:
        samples = mono(audio)
        org = org_settings(options.engine_settings)
        long_audio = samples.size / SAMPLE_RATE > self.settings.sync_max_duration_s
        plan = plan_channel(self.settings, org, language, use_async=long_audio)
        empty = ChannelTranscript(language=language, engine=self.name, model=plan.engine)
        if samples.size == 0 or float(np.max(np.abs(samples))) < DIGITAL_SILENCE:
            return empty
        encoded = self._encode(samples, plan, options)
        if not plan.use_async and len(encoded.data) > self.settings.sync_max_bytes:
            plan = plan_channel(self.settings, org, language, use_async=True)
            encoded = self._encode(samples, plan, options)
        info = engine_info(plan.engine, self.settings.extra_8k_engines)
        words = profile_words(options.vocabulary, language=language, engine_takes_words=info.takes_words)
        d = build_d(plan.engine, self._options(plan, words.value))
        log.info("amivoice: %s request, engine=%s, %.1f s of audio as %s %d Hz, %d bytes, %d registered words, %s",
                 "async" if plan.use_async else "sync", plan.engine, encoded.duration_s, encoded.codec,
                 encoded.sample_rate, len(encoded.data), words.sent, "logging allowed" if plan.allow_logging else
                 "no logging")
        with requests.Session() as session:
            if plan.use_async:
                body = self._recognize_async(session, plan, d, encoded, options.job_store)
            else:
                body = self._recognize_sync(session, plan, d, encoded)
        if body is None:
            return empty
        return ChannelTranscript(language=language, engine=self.name, model=plan.engine,
                                 segments=results.parse(body, language))

    # ---- the request ----------------------------------------------------------------

    def _encode(self, samples: np.ndarray, plan: ChannelPlan, options: TranscribeOptions) -> EncodedAudio:
        info = engine_info(plan.engine, self.settings.extra_8k_engines)
        telephone = is_telephone_band(options.source_sample_rate) and info.takes_8k
        return encode(samples, telephone=telephone, codec=self.settings.telephone_codec, compress=plan.use_async)

    def _options(self, plan: ChannelPlan, words: str) -> list[tuple[str, str]]:
        options: list[tuple[str, str]] = []
        if words:
            options.append(("profileWords", words))
        if plan.use_async and not plan.allow_logging:
            # the asynchronous interface has one endpoint; no-log is this option (default False)
            options.append(("loggingOptOut", "True"))
        return [*options, *self.settings.d_options]

    # ---- synchronous ----------------------------------------------------------------

    def _recognize_sync(self, session: requests.Session, plan: ChannelPlan, d: str,
                        encoded: EncodedAudio) -> dict[str, Any] | None:
        body = self.http.recognize(session, plan.url(self.settings), d, encoded, "recognition request")
        return self._checked(body, "recognition request")

    # ---- asynchronous ---------------------------------------------------------------

    def _recognize_async(self, session: requests.Session, plan: ChannelPlan, d: str, encoded: EncodedAudio,
                         store: EngineJobStore | None) -> dict[str, Any] | None:
        key = job_key(plan.url(self.settings), d, encoded.data)
        deadline = self._clock() + self.settings.max_wait_s(encoded.duration_s)
        session_id = store.load(key) if store else None
        resumed = session_id is not None
        if resumed:
            log.info("amivoice: resuming async job %s instead of submitting the audio again", session_id)
        while True:
            if session_id is None:
                session_id = self._submit(session, plan, d, encoded)
                if session_id is None:
                    return None
                if store:
                    store.save(key, session_id)
            try:
                body = self._poll(session, session_id, deadline)
            except (JobNotFound, PollRefused) as exc:
                if store:
                    store.forget(key)
                if resumed:
                    # expired, or started under an APPKEY that has since been rotated: a new job
                    # settles it (a key that is really wrong is refused again, at submission)
                    log.warning("amivoice: stored job %s cannot be polled (%s); submitting the audio again",
                                session_id, type(exc).__name__)
                    session_id, resumed = None, False
                    continue
                if isinstance(exc, PollRefused):
                    raise
                raise TransientTranscriptionError(f"AmiVoice does not know job {session_id} it has just created") \
                    from None
            except (PermanentTranscriptionError, _JobFailed):
                # a job that failed is gone for good: the next attempt must submit again
                if store:
                    store.forget(key)
                raise
            return body

    def _submit(self, session: requests.Session, plan: ChannelPlan, d: str, encoded: EncodedAudio) -> str | None:
        body = self.http.recognize(session, plan.url(self.settings), d, encoded, "job creation")
        session_id = body.get("sessionid")
        if isinstance(session_id, str) and session_id:
            log.info("amivoice: async job %s created (engine %s)", session_id, plan.engine)
            return session_id
        verdict = classify(str(body.get("code") or ""), self.http.scrub(str(body.get("message") or "")),
                           "job creation")
        if verdict.outcome is Outcome.NOTHING_RECOGNISED:
            log.info("amivoice: %s", verdict.reason)
            return None
        if verdict.outcome is Outcome.PERMANENT:
            raise PermanentTranscriptionError(verdict.reason)
        raise TransientTranscriptionError(verdict.reason or "AmiVoice job creation: no sessionid in the answer")

    def _poll(self, session: requests.Session, session_id: str, deadline: float) -> dict[str, Any] | None:
        s = self.settings
        interval = s.poll_min_interval_s
        failures = 0
        status = "not polled yet"
        while True:
            try:
                body = self.http.job(session, session_id)
                failures = 0
            except TransientTranscriptionError as exc:
                failures += 1
                if failures > s.poll_error_tolerance:
                    raise TransientTranscriptionError(f"{exc} ({failures} failed polls in a row; job {session_id} "
                                                      "is kept and the next attempt resumes it)") from None
                log.warning("amivoice: polling job %s failed: %s", session_id, exc)
                body = None
            if body is not None:
                status = str(body.get("status", ""))
                if status == "completed":
                    return self._checked(body, f"job {session_id}")
                if status == "error":
                    self._job_failed(session_id, body)
                    return None
                if status not in PENDING:
                    log.warning("amivoice: job %s has an undocumented status %r; waiting on", session_id, status)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise TransientTranscriptionError(
                    f"AmiVoice job {session_id} is still {status!r} after this attempt's wait; the job is kept and "
                    "the next attempt resumes it")
            self._sleep(min(interval, remaining))
            interval = min(s.poll_interval_s, interval * 1.5)

    def _job_failed(self, session_id: str, body: dict[str, Any]) -> None:
        """Returns when the job recognised nothing (`o`); raises for every other failure."""
        message = self.http.scrub(str(body.get("error_message") or body.get("message") or "no error message"))
        verdict = classify_job_error(message)
        if verdict.outcome is Outcome.NOTHING_RECOGNISED:
            log.info("amivoice: job %s: %s", session_id, verdict.reason)
            return
        if verdict.outcome is Outcome.PERMANENT:
            raise _PermanentJobFailure(f"job {session_id}: {verdict.reason}")
        raise _JobFailed(f"job {session_id}: {verdict.reason}")

    def _checked(self, body: dict[str, Any], what: str) -> dict[str, Any] | None:
        """The body if it carries a result; None when nothing was recognised; raises on failure."""
        code = body.get("code")
        message = self.http.scrub(str(body.get("message") or ""))
        verdict = classify("" if code is None else str(code), message, what)
        if verdict.outcome is Outcome.OK:
            return body
        if verdict.outcome is Outcome.NOTHING_RECOGNISED:
            log.info("amivoice: %s", verdict.reason)
            return None
        if verdict.outcome is Outcome.PERMANENT:
            raise PermanentTranscriptionError(verdict.reason)
        raise TransientTranscriptionError(verdict.reason)


class _JobFailed(TransientTranscriptionError):
    """The job ended in `error` at AmiVoice for a reason that may pass: submit again."""


class _PermanentJobFailure(PermanentTranscriptionError):
    """The job ended in `error` for a reason that will not pass."""


def job_key(url: str, d: str, audio: bytes) -> str:
    """Names the request (endpoint, options, audio): the same request resumes the same job."""
    digest = hashlib.sha256()
    for part in (url.encode(), b"\n", d.encode(), b"\n", audio):
        digest.update(part)
    return f"amivoice:{digest.hexdigest()[:40]}"
