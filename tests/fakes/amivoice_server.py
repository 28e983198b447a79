"""A fake AmiVoice API that behaves like its documentation, for tests on loopback.

Shapes and meanings come from docs.amivoice.com and Advanced Media's official sample
clients (acp-javascript-sample-applications, acp-csharp-sample-applications,
amivoice-api-client-library), not from our client:

* `POST /v1/recognize` and `/v1/nolog/recognize` (synchronous): multipart `u`
  (APPKEY), `d` (space separated key=value, values URL-encoded, `grammarFileNames`
  required), `a` (audio) which must be the last part, parts after it are ignored.
  Answers HTTP 200. Success: ONE `results` entry holding every token of the whole
  audio (no per-utterance timing), `utteranceid`, `text`, `code` = `message` = "".
  Failure: the documented body `{"results":[{"tokens":[],"tags":[],"rulename":"",
  "text":""}],"text":"","code":"-","message":"received illegal service authorization"}`.
* `POST /v2/recognitions` (asynchronous v2): the same request, `{"sessionid": ...,
  "text": "..."}` on success, the failure body above otherwise. `GET
  /v2/recognitions/{id}` with `Authorization: Bearer APPKEY`: `status` queued ->
  started -> processing -> completed | error, as time passes; completed carries
  `segments[]`, one per utterance, each `{"results": [one entry with tokens], "text"}`
  (`compatibleWithSync=True`: the synchronous shape instead); error carries
  `error_message`, e.g. the documented "ERROR: Failed to transcribe in recognition
  process - amineth_result=0, amineth_code='o', amineth_message='recognition result
  is rejected because confidence is below the threshold'".
* Codes: `-` bad APPKEY; `o` nothing recognised (sounding audio no voice matched; on
  async also a job that recognised nothing); `+` audio in a format AmiVoice does not
  take (or a rate the engine does not take); `%` malformed `d`/profile words; `>`
  synchronous audio over 16,777,215 bytes.
* Audio: whatever AmiVoice documents (16-bit PCM WAV at 8-48 kHz, mu-law/A-law WAV at
  8 kHz, FLAC/Ogg/MP3, headerless PCM per `c`), 1 or 2 channels (the first is used).

What it "hears" is in `amivoice_recognizer`. docs/engines/amivoice.md lists every way
this fake still differs from the real service.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

from tests.fakes.amivoice_recognizer import (
    Decoded,
    Heard,
    Token,
    UnsupportedAudio,
    Voice,
    decode,
    hiragana,
    pitch,
    recognise,
)

__all__ = ["FakeAmiVoice", "Token", "Voice"]

SYNC_MAX_BYTES = 16_777_215
EMPTY_RESULT = {"tokens": [], "tags": [], "rulename": "", "text": ""}
AUTH = ("-", "received illegal service authorization")
NOTHING = ("o", "recognition result is rejected because confidence is below the threshold")
UNSUPPORTED = ("+", "received unsupported audio format")
ILLEGAL_PARAMETER = ("%", "received illegal parameter")
TOO_LARGE = (">", "received too large audio data")
# engines and the sampling rates they take (docs: 音声認識エンジン); words: take registered words
ENGINES: dict[str, tuple[frozenset[int], bool]] = {
    "-a-general": (frozenset({8000, 16000}), True),
    "-a-general-en": (frozenset({16000}), False),
    "-a2-ja-general": (frozenset({8000, 16000}), True),
    "-a2-multi-general": (frozenset({8000, 16000}), True),
    "-a2b-ja-general": (frozenset({8000, 16000}), True),
    "-a2b-multi-general": (frozenset({8000, 16000}), True),
}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    part_names: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)  # `d`, decoded
    audio: bytes | None = None
    decoded: Decoded | None = None


@dataclass
class Job:
    session_id: str
    created: float
    processing_s: float
    body: dict[str, Any]  # the completed (or error) answer, ready when the time comes
    audio_md5: str
    audio_size: int
    content_id: str | None
    polls: int = 0


@dataclass(frozen=True)
class _Fault:
    path: str
    status: int = 0
    delay: float = 0.0
    body: dict[str, Any] | None = None


class FakeAmiVoice:
    """The fake service, served by werkzeug on 127.0.0.1 at a free port, in a thread."""

    def __init__(self, appkeys: Iterable[str] = ("test-appkey-0123456789",), *,
                 processing_s: float | Callable[[float], float] = 0.3,
                 engines: dict[str, tuple[frozenset[int], bool]] | None = None) -> None:
        self.appkeys = set(appkeys)
        self.processing_s = processing_s
        self.engines = dict(ENGINES if engines is None else engines)
        self.voices: list[Voice] = []
        self.requests: list[Recorded] = []
        self.jobs: dict[str, Job] = {}
        self.job_errors: list[str] = []  # the next jobs end in `error` with these messages
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # ---- test controls -----------------------------------------------------------

    def voice(self, tone_hz: float, utterances: Iterable[Iterable[Token]]) -> Voice:
        """A speaker: sound at `tone_hz` is heard as these utterances, in order."""
        v = Voice(tone_hz, tuple(tuple(u) for u in utterances))
        self.voices.append(v)
        return v

    def real_voice(self, sample: np.ndarray, rate: int, utterances: Iterable[Iterable[Token]]) -> Voice:
        """A real speaker, known by the pitch of `sample`: their speech is heard as these utterances."""
        v = Voice(0.0, tuple(tuple(u) for u in utterances), pitch_hz=pitch(sample, rate))
        self.voices.append(v)
        return v

    def fail_next(self, status: int = 503, *, path: str = "/", times: int = 1) -> None:
        with self._lock:
            self._faults.extend([_Fault(path, status=status)] * times)

    def delay_next(self, seconds: float, *, path: str = "/", times: int = 1) -> None:
        with self._lock:
            self._faults.extend([_Fault(path, delay=seconds)] * times)

    def reply_next(self, body: dict[str, Any], *, status: int = 200, path: str = "/") -> None:
        with self._lock:
            self._faults.append(_Fault(path, status=status, body=body))

    def created_jobs(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/v2/recognitions"]

    def polls(self, session_id: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET" and
                (session_id is None or r.path.endswith(f"/{session_id}"))]

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def sync_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def async_url(self) -> str:
        return f"{self.base_url}/v2/recognitions"

    def start(self) -> FakeAmiVoice:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per poll drowns the test output
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeAmiVoice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the service -------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("fake_amivoice")

        @app.before_request
        def _fault() -> Response | None:
            with self._lock:
                hit = next((f for f in self._faults if request.path.startswith(f.path)), None)
                if hit is not None:
                    self._faults.remove(hit)
            if hit is None:
                return None
            if hit.delay:
                self._stopping.wait(hit.delay)
            if hit.body is not None:
                self._record()
                return _json(hit.body, hit.status or 200)
            if hit.status:
                self._record()
                return Response("<html>upstream error</html>", status=hit.status)
            return None

        @app.post("/v1/recognize")
        @app.post("/v1/nolog/recognize")
        def recognize() -> Response:
            rec, failure = self._read_request(sync=True)
            if failure is not None:
                return _json(_failure(*failure))
            assert rec.decoded is not None
            heard, rejected = self._hear(rec)
            if not heard and rejected:
                return _json(_failure(*NOTHING))
            engine = rec.options["grammarFileNames"]
            entry = _result_entry([t for h in heard for t in h.tokens], heard, engine) if heard else EMPTY_RESULT
            return _json({"results": [entry], "utteranceid": self._utterance_id(), "text": entry["text"],
                          "code": "", "message": ""})

        @app.post("/v2/recognitions")
        def create_job() -> Response:
            rec, failure = self._read_request(sync=False)
            if failure is not None:
                return _json(_failure(*failure))
            assert rec.decoded is not None and rec.audio is not None
            session_id = f"{int(time.time() * 1000):x}{next(self._ids):012x}"
            job = Job(session_id=session_id, created=time.monotonic(),
                      processing_s=self._processing_s(rec.decoded.duration_s),
                      body=self._job_outcome(rec, session_id), audio_md5=hashlib.md5(rec.audio).hexdigest(),
                      audio_size=len(rec.audio), content_id=rec.options.get("contentId"))
            with self._lock:
                self.jobs[session_id] = job
            return _json({"sessionid": session_id, "text": "..."})

        @app.get("/v2/recognitions/<session_id>")
        def job_status(session_id: str) -> Response:
            rec = self._record()
            scheme, _, key = rec.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or key not in self.appkeys:
                return _json({"code": AUTH[0], "message": AUTH[1]}, 401)
            with self._lock:
                job = self.jobs.get(session_id)
                if job is not None:
                    job.polls += 1
            if job is None:
                return _json({"code": "?", "message": "session not found"}, 404)
            return _json(self._job_state(job))

        return app

    def _record(self) -> Recorded:
        rec = Recorded(method=request.method, path=request.path,
                       headers={k.lower(): v for k, v in request.headers.items()})
        with self._lock:
            self.requests.append(rec)
        return rec

    def _read_request(self, *, sync: bool) -> tuple[Recorded, tuple[str, str] | None]:
        rec = self._record()
        parts = _multipart(request.get_data(), request.content_type or "")
        seen_audio = False
        for name, content in parts:
            rec.part_names.append(name)
            if seen_audio:
                continue  # documented: parameters after the audio are ignored
            if name == "a":
                rec.audio, seen_audio = content, True
            else:
                rec.fields[name] = content.decode("utf-8", "replace")
        for name in ("u", "d", "c"):  # non-audio parameters may also come in the query string
            if name not in rec.fields and name in request.args:
                rec.fields[name] = request.args[name]
        if rec.fields.get("u") not in self.appkeys:
            return rec, AUTH
        try:
            rec.options = parse_d(rec.fields.get("d", ""))
        except ValueError:
            return rec, ILLEGAL_PARAMETER
        engine = rec.options.get("grammarFileNames", "")
        if not engine or not _profile_words_ok(rec.options.get("profileWords", "")):
            return rec, ILLEGAL_PARAMETER
        if rec.audio is None:
            return rec, UNSUPPORTED
        if sync and len(rec.audio) > SYNC_MAX_BYTES:
            return rec, TOO_LARGE
        try:
            rec.decoded = decode(rec.audio, rec.fields.get("c", ""))
        except UnsupportedAudio:
            return rec, UNSUPPORTED
        known = self.engines.get(engine)
        if known is not None and _engine_rate(rec.decoded.rate) not in known[0]:
            return rec, UNSUPPORTED
        return rec, None

    def _hear(self, rec: Recorded) -> tuple[list[Heard], int]:
        assert rec.decoded is not None
        known = self.engines.get(rec.options["grammarFileNames"])
        if known is None:
            # an engine name AmiVoice does not have gives an empty result, not an error
            return [], 0
        words = _registered(rec.options.get("profileWords", "")) if known[1] else {}
        return recognise(rec.decoded, self.voices, words)

    def _job_outcome(self, rec: Recorded, session_id: str) -> dict[str, Any]:
        with self._lock:
            forced = self.job_errors.pop(0) if self.job_errors else None
        if forced is not None:
            return {"status": "error", "error_message": forced}
        heard, _rejected = self._hear(rec)
        if not heard:
            return {"status": "error", "error_message":
                    "ERROR: Failed to transcribe in recognition process - amineth_result=0, "
                    f"amineth_code='{NOTHING[0]}', amineth_message='{NOTHING[1]}'"}
        engine = rec.options["grammarFileNames"]
        entries = [_result_entry(h.tokens, [h], engine) for h in heard]
        text = _joiner(engine).join(e["text"] for e in entries)
        body: dict[str, Any] = {"status": "completed", "utteranceid": self._utterance_id(), "text": text,
                                "code": "", "message": ""}
        if rec.options.get("compatibleWithSync", "").lower() == "true":
            body["results"] = [_result_entry([t for h in heard for t in h.tokens], heard, engine)]
        else:
            body["segments"] = [{"results": [e], "text": e["text"]} for e in entries]
        return body

    def _job_state(self, job: Job) -> dict[str, Any]:
        base: dict[str, Any] = {"audio_md5": job.audio_md5, "audio_size": job.audio_size,
                                "service_id": "fake-service", "session_id": job.session_id}
        if job.content_id is not None:
            base["content_id"] = job.content_id
        elapsed = time.monotonic() - job.created
        if elapsed < job.processing_s * 0.1:
            return {**base, "status": "queued"}
        if elapsed < job.processing_s * 0.2:
            return {**base, "status": "started"}
        if elapsed < job.processing_s:
            return {**base, "status": "processing"}
        return {**base, **job.body}

    def _processing_s(self, duration_s: float) -> float:
        p = self.processing_s
        return float(p(duration_s) if callable(p) else p)

    def _utterance_id(self) -> str:
        return time.strftime("%Y%m%d/%H/") + f"{next(self._ids):024x}_{time.strftime('%Y%m%d_%H%M%S')}"


def parse_d(d: str) -> dict[str, str]:
    """`key=value key=value` with URL-encoded values; `d=-a-general` is the short form."""
    options: dict[str, str] = {}
    for item in d.split(" "):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            if item.startswith("-"):
                options["grammarFileNames"] = item
                continue
            raise ValueError(item)
        options[key] = urllib.parse.unquote(value)
    return options


def _profile_words_ok(value: str) -> bool:
    if not value:
        return True
    for word in value.split("|"):
        written, sep, spoken = word.partition(" ")
        if not sep or not written or ":" in written or not spoken:
            return False
        if any(not ("\u3041" <= ch <= "\u30ff") for ch in unicodedata.normalize("NFKC", spoken)):
            return False
    return True


def _registered(value: str) -> dict[str, str]:
    words = {}
    for word in filter(None, value.split("|")):
        written, _, spoken = word.partition(" ")
        words[hiragana(spoken)] = written.replace("_", " ")
    return words


def _engine_rate(rate: int) -> int:
    return 8000 if rate <= 11025 else 16000


def _joiner(engine: str) -> str:
    return " " if engine.endswith("-en") else ""


def _result_entry(tokens: list[dict[str, Any]], heard: list[Heard], engine: str) -> dict[str, Any]:
    text = ""
    for t in tokens:
        punct = t.get("spoken") == "_"
        text += t["written"] if (punct or not text or not _joiner(engine)) else f" {t['written']}"
    confidence = sum(t["confidence"] for t in tokens) / max(1, len(tokens))
    return {"tokens": tokens, "confidence": round(confidence, 3), "starttime": heard[0].start_ms,
            "endtime": heard[-1].end_ms, "tags": [], "rulename": "", "text": text}


def _failure(code: str, message: str) -> dict[str, Any]:
    return {"results": [dict(EMPTY_RESULT)], "text": "", "code": code, "message": message}


def _multipart(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """(name, content) of every part, in the order sent; [] if the body is not multipart."""
    params = dict(p.strip().split("=", 1) for p in content_type.split(";")[1:] if "=" in p)
    boundary = params.get("boundary", "").strip('"')
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        return []
    parts = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        content = content[:-2] if content.endswith(b"\r\n") else content
        name = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition"):
                for item in line.split(";"):
                    key, _, value = item.strip().partition("=")
                    if key == "name":
                        name = value.strip('"')
        parts.append((name, content))
    return parts


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
