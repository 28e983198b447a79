"""AmiVoice API (Advanced Media) speech recognition over HTTP.

One channel at a time, as the `Transcriber` protocol asks: the float32 samples
become a 16 kHz, 16-bit, mono PCM WAV, sent either to the synchronous interface
(`POST /v1/recognize`, short audio) or to the asynchronous one
(`POST /v1/recognitions`, then `GET /v1/recognitions/{sessionid}` until the job
is `completed` or `error`). See docs/engines/amivoice.md for the mapping.

The APPKEY is a secret: it is sent only in the `u` multipart part and the
`Authorization: Bearer` header, and never written to logs, exception messages
or reprs.
"""

from __future__ import annotations

import io
import logging
import math
import os
import time
import unicodedata
import urllib.parse
import wave
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import requests

from .base import (
    SAMPLE_RATE,
    Audio,
    ChannelTranscript,
    PermanentTranscriptionError,
    Segment,
    TranscribeOptions,
    TranscriptionError,
    TransientTranscriptionError,
    Word,
)

log = logging.getLogger(__name__)

DEFAULT_SYNC_URL = "https://acp-api.amivoice.com/v1/recognize"
DEFAULT_ASYNC_URL = "https://acp-api-async.amivoice.com/v1/recognitions"
DEFAULT_ENGINE_JA = "-a-general"
DEFAULT_ENGINE_EN = "-a-general-en"
# Documented limit of the synchronous interface for the audio part.
SYNC_MAX_BYTES = 16_777_215

AUTH_MESSAGE = "received illegal service authorization"

# Result codes of the HTTP interfaces (top-level `code`; "" means success).
# "-" (authorization) is confirmed in AmiVoice's docs; the meaning of the other
# one-character codes could not be confirmed from the published table, so they
# are classified by where the fault most plausibly lies: in the request (same
# request fails again -> permanent) or in AmiVoice's back end (transient).
# Codes not listed here are treated as transient.
PERMANENT_CODES: Mapping[str, str] = {
    "-": "authorization rejected (APPKEY invalid, expired or not allowed)",
    "+": "audio format not supported",
    "o": "audio rejected (too large, or no usable recognition)",
    "#": "request parameters rejected",
    "$": "request parameters rejected",
    "%": "request parameters rejected",
    "^": "request parameters rejected",
}
TRANSIENT_CODES: Mapping[str, str] = {
    "!": "could not connect to the recognizer server",
    ">": "could not send audio to the recognizer server",
    "<": "could not receive the result from the recognizer server",
    "b": "recognizer server busy or processing interrupted",
    "?": "recognizer server error",
}
# Messages that say "this request can never succeed", wherever they show up
# (for instance inside an async job's `error_message`).
PERMANENT_MESSAGES = (AUTH_MESSAGE, "received unsupported audio format")

ASYNC_PENDING = frozenset({"queued", "started", "processing"})
ENV_APPKEY = "CALLSIGHT_AMIVOICE_APPKEY"


class AmiVoiceConfigError(PermanentTranscriptionError, ValueError):
    """The engine is not configured (missing APPKEY, a malformed setting)."""


@dataclass(frozen=True)
class AmiVoiceSettings:
    """Where and how to reach AmiVoice. `appkey` is kept out of the repr."""

    appkey: str = field(repr=False)
    sync_url: str = DEFAULT_SYNC_URL
    async_url: str = DEFAULT_ASYNC_URL
    engine_ja: str = DEFAULT_ENGINE_JA
    engine_en: str = DEFAULT_ENGINE_EN
    connect_timeout_s: float = 10.0
    # A sync request holds the connection while AmiVoice recognises the audio.
    read_timeout_s: float = 300.0
    poll_interval_s: float = 10.0
    max_wait_s: float = 7200.0
    sync_max_bytes: int = SYNC_MAX_BYTES
    # Audio longer than this goes to the async interface even when it would fit.
    sync_max_duration_s: float = 120.0
    # Extra `d` options ("key=value" pairs), e.g. (("keepFillerToken", "1"),).
    d_options: tuple[tuple[str, str], ...] = ()
    # Consecutive transient failures tolerated while polling an async job.
    poll_error_tolerance: int = 3

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AmiVoiceSettings:
        env = os.environ if environ is None else environ
        appkey = env.get(ENV_APPKEY, "").strip()
        if not appkey:
            raise AmiVoiceConfigError(
                f"AmiVoice engine: {ENV_APPKEY} is not set; put the APPKEY from the "
                "AmiVoice MyPage in that environment variable"
            )
        return cls(
            appkey=appkey,
            sync_url=env.get("CALLSIGHT_AMIVOICE_SYNC_URL") or DEFAULT_SYNC_URL,
            async_url=env.get("CALLSIGHT_AMIVOICE_ASYNC_URL") or DEFAULT_ASYNC_URL,
            engine_ja=env.get("CALLSIGHT_AMIVOICE_ENGINE_JA") or DEFAULT_ENGINE_JA,
            engine_en=env.get("CALLSIGHT_AMIVOICE_ENGINE_EN") or DEFAULT_ENGINE_EN,
            poll_interval_s=_env_float(env, "CALLSIGHT_AMIVOICE_POLL_INTERVAL_S", 10.0),
            max_wait_s=_env_float(env, "CALLSIGHT_AMIVOICE_MAX_WAIT_S", 7200.0),
            sync_max_duration_s=_env_float(env, "CALLSIGHT_AMIVOICE_SYNC_MAX_S", 120.0),
            d_options=_parse_d_options(env.get("CALLSIGHT_AMIVOICE_D_OPTIONS", "")),
        )


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise AmiVoiceConfigError(
            f"AmiVoice engine: {name}={raw!r} is not a number"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise AmiVoiceConfigError(f"AmiVoice engine: {name} must be a positive number")
    return value


def _parse_d_options(raw: str) -> tuple[tuple[str, str], ...]:
    options = []
    for item in raw.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise AmiVoiceConfigError(
                "AmiVoice engine: CALLSIGHT_AMIVOICE_D_OPTIONS item "
                f"{item!r} is not key=value"
            )
        options.append((key, urllib.parse.unquote(value)))
    return tuple(options)


def build_d(engine: str, options: Sequence[tuple[str, str]] = ()) -> str:
    """The `d` part: space separated key=value pairs, values URL-encoded."""
    pairs = [("grammarFileNames", engine), *options]
    return " ".join(f"{k}={urllib.parse.quote(v, safe='-_.~')}" for k, v in pairs)


def to_wav(audio: Audio) -> bytes:
    """Float samples in [-1, 1] -> 16 kHz 16-bit little-endian PCM mono WAV."""
    samples = np.nan_to_num(np.asarray(audio, dtype=np.float32), nan=0.0)
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def needs_async(wav_bytes: int, duration_s: float, settings: AmiVoiceSettings) -> bool:
    """Whether a request must (too big) or should (too long) use the async API."""
    return (
        wav_bytes > settings.sync_max_bytes or duration_s > settings.sync_max_duration_s
    )


class AmiVoiceTranscriber:
    """`Transcriber` on the AmiVoice HTTP APIs (sync; async for long audio)."""

    name = "amivoice"

    def __init__(
        self,
        settings: AmiVoiceSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = AmiVoiceSettings.from_env() if settings is None else settings
        if not self.settings.appkey.strip():
            raise AmiVoiceConfigError(
                f"AmiVoice engine: the APPKEY is empty (set {ENV_APPKEY})"
            )
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"AmiVoiceTranscriber(sync_url={s.sync_url!r}, async_url={s.async_url!r}, "
            f"engine_ja={s.engine_ja!r}, engine_en={s.engine_en!r})"
        )

    # -- the protocol -------------------------------------------------------

    def transcribe(self, audio: Audio, language: str, options: TranscribeOptions = TranscribeOptions()) -> ChannelTranscript:
        engine = self.engine_for(language)
        samples = _mono(audio)
        if samples.size == 0:
            return ChannelTranscript(language=language, engine=self.name, model=engine)
        wav = to_wav(samples)
        duration = samples.size / SAMPLE_RATE
        use_async = needs_async(len(wav), duration, self.settings)
        log.info(
            "amivoice: %s request, engine=%s, %.1f s, %d bytes",
            "async" if use_async else "sync",
            engine,
            duration,
            len(wav),
        )
        with requests.Session() as session:
            if use_async:
                body = self._recognize_async(session, wav, engine)
            else:
                body = self._recognize_sync(session, wav, engine)
        segments = parse_segments(body, language)
        return ChannelTranscript(
            language=language, engine=self.name, model=engine, segments=segments
        )

    def engine_for(self, language: str) -> str:
        lang = language.lower()
        if lang.startswith("ja"):
            return self.settings.engine_ja
        if lang.startswith("en"):
            return self.settings.engine_en
        raise PermanentTranscriptionError(
            f"AmiVoice engine: no engine configured for language {language!r}"
        )

    # -- sync ---------------------------------------------------------------

    def _recognize_sync(
        self, session: requests.Session, wav: bytes, engine: str
    ) -> dict[str, Any]:
        d = build_d(engine, self.settings.d_options)
        resp = self._send(
            session, "POST", self.settings.sync_url, files=self._parts(d, wav)
        )
        body = self._json(resp, "recognition request")
        self._raise_for_code(body, "recognition request")
        return body

    # -- async --------------------------------------------------------------

    def _recognize_async(
        self, session: requests.Session, wav: bytes, engine: str
    ) -> dict[str, Any]:
        options = [("compatibleWithSync", "True"), *self.settings.d_options]
        d = build_d(engine, options)
        resp = self._send(
            session, "POST", self.settings.async_url, files=self._parts(d, wav)
        )
        body = self._json(resp, "job creation")
        sessionid = body.get("sessionid")
        if not isinstance(sessionid, str) or not sessionid:
            self._raise_for_code(body, "job creation")
            raise TransientTranscriptionError(
                "AmiVoice job creation: no sessionid in the response"
            )
        log.info("amivoice: async job %s created", sessionid)
        return self._poll(session, sessionid)

    def _poll(self, session: requests.Session, sessionid: str) -> dict[str, Any]:
        s = self.settings
        url = f"{s.async_url.rstrip('/')}/{urllib.parse.quote(sessionid, safe='')}"
        headers = {"Authorization": f"Bearer {s.appkey}"}
        started = self._clock()
        deadline = started + s.max_wait_s
        status = "not polled yet"
        failures = 0
        while True:
            body: dict[str, Any] | None = None
            try:
                resp = self._send(session, "GET", url, headers=headers)
                body = self._json(resp, f"job {sessionid} status")
                failures = 0
            except TransientTranscriptionError as exc:
                # A long job should not be lost to one failed poll.
                failures += 1
                if failures > s.poll_error_tolerance:
                    raise
                log.warning("amivoice: polling job %s failed: %s", sessionid, exc)
            if body is not None:
                status = str(body.get("status", ""))
                if status == "completed":
                    log.info(
                        "amivoice: async job %s completed after %.1f s",
                        sessionid,
                        self._clock() - started,
                    )
                    self._raise_for_code(body, f"job {sessionid}")
                    return body
                if status == "error":
                    raise self._job_error(sessionid, body)
                if status not in ASYNC_PENDING:
                    log.warning(
                        "amivoice: async job %s has unknown status %r",
                        sessionid,
                        status,
                    )
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise TransientTranscriptionError(
                    f"AmiVoice job {sessionid}: not finished after {s.max_wait_s:g} s "
                    f"(last status {status!r}); gave up waiting"
                )
            self._sleep(min(s.poll_interval_s, remaining))

    def _job_error(self, sessionid: str, body: Mapping[str, Any]) -> TranscriptionError:
        detail = self._scrub(
            str(body.get("error_message") or body.get("message") or "no error message")
        )
        text = f"AmiVoice job {sessionid} ended in error: {detail}"
        if any(m in detail for m in PERMANENT_MESSAGES):
            return PermanentTranscriptionError(text)
        return TransientTranscriptionError(text)

    # -- HTTP plumbing ------------------------------------------------------

    def _parts(self, d: str, wav: bytes) -> list[tuple[str, tuple[Any, ...]]]:
        # Order matters: AmiVoice ignores every part after `a`, the audio.
        return [
            ("u", (None, self.settings.appkey)),
            ("d", (None, d)),
            ("a", ("audio.wav", wav, "audio/wav")),
        ]

    def _send(
        self, session: requests.Session, method: str, url: str, **kwargs: Any
    ) -> requests.Response:
        what = f"{method} {url}"
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        try:
            resp = session.request(method, url, timeout=timeout, **kwargs)
        except requests.Timeout:
            raise TransientTranscriptionError(f"AmiVoice {what}: timed out") from None
        except requests.ConnectionError as exc:
            raise TransientTranscriptionError(
                f"AmiVoice {what}: connection failed ({type(exc).__name__})"
            ) from None
        except requests.RequestException as exc:
            raise TransientTranscriptionError(
                f"AmiVoice {what}: request failed ({type(exc).__name__})"
            ) from None
        status = resp.status_code
        if status < 400:
            return resp
        snippet = self._scrub(resp.text[:200].strip())
        text = f"AmiVoice {what}: HTTP {status}" + (f": {snippet}" if snippet else "")
        if status in (408, 425, 429) or status >= 500:
            raise TransientTranscriptionError(text)
        if status in (401, 403):
            raise PermanentTranscriptionError(f"{text} (the APPKEY was not accepted)")
        raise PermanentTranscriptionError(text)

    def _json(self, resp: requests.Response, what: str) -> dict[str, Any]:
        try:
            body = resp.json()
        except ValueError:
            raise TransientTranscriptionError(
                f"AmiVoice {what}: response is not JSON (HTTP {resp.status_code})"
            ) from None
        if not isinstance(body, dict):
            raise TransientTranscriptionError(
                f"AmiVoice {what}: response is not a JSON object"
            )
        return body

    def _raise_for_code(self, body: Mapping[str, Any], what: str) -> None:
        raw_code = body.get("code")
        message = self._scrub(str(body.get("message") or ""))
        # Success: `code` and `message` are empty strings (or absent).
        if raw_code == "" or (raw_code is None and not message):
            return
        code = "" if raw_code is None else str(raw_code)
        if code == "-" or AUTH_MESSAGE in message:
            raise PermanentTranscriptionError(
                f"AmiVoice {what}: authentication failed (code {code!r}: {message!r}); "
                f"check {ENV_APPKEY}"
            )
        detail = f"AmiVoice {what}: code {code!r}, message {message!r}"
        if code in PERMANENT_CODES or any(m in message for m in PERMANENT_MESSAGES):
            reason = PERMANENT_CODES.get(code, "request rejected")
            raise PermanentTranscriptionError(f"{detail} ({reason})")
        reason = TRANSIENT_CODES.get(code, "unrecognised result code")
        raise TransientTranscriptionError(f"{detail} ({reason})")

    def _scrub(self, text: str) -> str:
        key = self.settings.appkey
        return text.replace(key, "***") if key else text


# -- audio and result mapping -----------------------------------------------


def _mono(audio: Audio) -> np.ndarray:
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim == 2 and 1 in samples.shape:
        samples = samples.reshape(-1)
    if samples.ndim != 1:
        raise PermanentTranscriptionError(
            "AmiVoice engine: expected mono audio, "
            f"got an array of shape {samples.shape}"
        )
    return samples


def _is_punct(text: str) -> bool:
    return bool(text) and all(unicodedata.category(ch)[0] == "P" for ch in text)


def _is_opening(text: str) -> bool:
    return all(unicodedata.category(ch) in ("Ps", "Pi") for ch in text)


def _ms(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) / 1000.0


def _confidence(value: Any, fallback: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isnan(value)
    ):
        return fallback
    return min(1.0, max(0.0, float(value)))


def _written(token: Mapping[str, Any]) -> str:
    text = str(token.get("written") or "").strip()
    # With keepFillerToken=1 AmiVoice marks fillers as %えー%.
    if len(text) > 2 and text.startswith("%") and text.endswith("%"):
        text = text[1:-1]
    return text


def _words(
    tokens: Sequence[Mapping[str, Any]], seg_start: float | None, fallback_conf: float
) -> list[Word]:
    """Tokens -> words; punctuation is attached to the neighbouring word."""
    words: list[Word] = []
    prefix = ""
    cursor = seg_start or 0.0
    for token in tokens:
        text = _written(token)
        if not text:
            continue
        if _is_punct(text):
            if _is_opening(text):
                prefix += text
            elif words:
                last = words[-1]
                words[-1] = Word(
                    last.text + text, last.start, last.end, last.confidence
                )
            continue
        start = _ms(token.get("starttime"))
        end = _ms(token.get("endtime"))
        start = cursor if start is None else start
        end = start if end is None else max(end, start)
        cursor = end
        conf = _confidence(token.get("confidence"), fallback_conf)
        words.append(Word(prefix + text, start, end, conf))
        prefix = ""
    return words


def _result_list(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    segments = body.get("segments")
    if isinstance(segments, list) and segments:
        # Async format without compatibleWithSync: one entry per utterance.
        found: list[Mapping[str, Any]] = []
        for seg in segments:
            if isinstance(seg, Mapping):
                found.extend(
                    r for r in seg.get("results") or [] if isinstance(r, Mapping)
                )
        return found
    results = body.get("results")
    return (
        [r for r in results if isinstance(r, Mapping)]
        if isinstance(results, list)
        else []
    )


def parse_segments(body: Mapping[str, Any], language: str) -> list[Segment]:
    """AmiVoice result JSON -> one Segment per result (utterance), times in seconds."""
    joiner = "" if language.lower().startswith("ja") else " "
    out: list[Segment] = []
    for result in _result_list(body):
        tokens = [t for t in result.get("tokens") or [] if isinstance(t, Mapping)]
        seg_start = _ms(result.get("starttime"))
        seg_end = _ms(result.get("endtime"))
        conf = _confidence(result.get("confidence"), 0.0)
        words = _words(tokens, seg_start, conf)
        text = (
            joiner.join(w.text for w in words)
            if words
            else str(result.get("text") or "")
        )
        text = text.strip()
        if not text:
            continue
        start = (
            seg_start if seg_start is not None else (words[0].start if words else 0.0)
        )
        end = seg_end if seg_end is not None else (words[-1].end if words else start)
        if words:
            start = min(start, words[0].start)
            end = max(end, words[-1].end)
        out.append(
            Segment(start=start, end=max(end, start), text=text, words=tuple(words))
        )
    out.sort(key=lambda s: s.start)
    return out
