"""A fake AmiVoice API (sync and async HTTP interfaces) for the tests.

It follows AmiVoice's published protocol (docs.amivoice.com, "Synchronous HTTP
Interface", "Asynchronous HTTP Interface", "Response Codes and Messages",
"Limitations"):

* `POST /v1/recognize` (and `/v1/nolog/recognize`): multipart/form-data with
  `u` (APPKEY), `d` (space separated key=value options, `grammarFileNames`
  required) and `a` (audio). Parts after `a` are ignored, so a `u` sent after
  the audio is an authentication error. Failures come back as HTTP 200 with a
  one-character `code` and a `message`; success has `code` == `message` == "".
  The audio may be at most 16,777,215 bytes.
* `POST /v1/recognitions`: same request; success returns
  `{"sessionid": ..., "text": "..."}`, failure the same code/message body.
* `GET /v1/recognitions/{sessionid}` with `Authorization: Bearer APPKEY`:
  `status` goes queued -> started -> processing -> completed | error.

Where the docs leave a detail open the fake makes a stated choice (marked
"fake choice" below); clients must not rely on those. Unlike the real service,
which resamples whatever WAV it gets, the fake accepts only 16 kHz / 16-bit /
mono PCM WAV and answers anything else with code "+" (unsupported audio
format): the tests use that to pin the format the client sends.

Recognition is scripted: `script(n_frames, ...)` says what audio of exactly
`n_frames` samples "contains"; unscripted audio is silence.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import threading
import urllib.parse
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

SYNC_MAX_BYTES = 16_777_215
AUTH_MESSAGE = "received illegal service authorization"
UNSUPPORTED_MESSAGE = "received unsupported audio format"
# Fake choices: the docs list further codes, their exact text is not relied on.
TOO_LARGE_CODE, TOO_LARGE_MESSAGE = "o", "received too large audio data"
NO_ENGINE_CODE, NO_ENGINE_MESSAGE = "#", "received illegal grammar file names"


@dataclass(frozen=True)
class Token:
    written: str
    start_ms: int
    end_ms: int
    confidence: float = 0.9
    spoken: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "confidence": self.confidence,
            "starttime": self.start_ms,
            "endtime": self.end_ms,
            "spoken": self.spoken or self.written,
        }


@dataclass(frozen=True)
class Script:
    """What the fake "hears" in audio of a given length, and how an async job runs."""

    utterances: tuple[tuple[Token, ...], ...] = ()
    processing_polls: int = 1  # polls answered "processing" before the end
    error_message: str | None = None  # the async job ends in `error` with this


@dataclass(frozen=True)
class WavInfo:
    channels: int
    sample_width: int
    frame_rate: int
    n_frames: int
    comptype: str


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    part_names: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    audio: bytes | None = None
    wav: WavInfo | None = None
    part_headers: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Fault:
    path: str
    status: int = 0
    delay: float = 0.0
    body: dict[str, Any] | None = None


@dataclass
class _Job:
    sessionid: str
    script: Script
    sync_compatible: bool
    audio_md5: str
    audio_size: int
    content_id: str | None
    polls: int = 0


def parse_multipart(
    body: bytes, content_type: str
) -> list[tuple[str, dict[str, str], bytes]]:
    """(name, headers, content) for every part, in the order they were sent."""
    params = dict(
        p.strip().split("=", 1) for p in content_type.split(";")[1:] if "=" in p
    )
    boundary = params.get("boundary", "").strip('"')
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise ValueError("not multipart/form-data")
    parts = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("malformed part")
        content = content[:-2] if content.endswith(b"\r\n") else content
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        name = ""
        for item in headers.get("content-disposition", "").split(";"):
            key, _, value = item.strip().partition("=")
            if key == "name":
                name = value.strip('"')
        parts.append((name, headers, content))
    return parts


def parse_d(d: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in d.split():
        key, sep, value = item.partition("=")
        if sep:
            options[key] = urllib.parse.unquote(value)
        else:  # `d=-a-general`, the short form in the docs' curl example
            options["grammarFileNames"] = item
    return options


def read_wav(audio: bytes) -> WavInfo | None:
    try:
        with wave.open(io.BytesIO(audio), "rb") as w:
            return WavInfo(
                w.getnchannels(),
                w.getsampwidth(),
                w.getframerate(),
                w.getnframes(),
                w.getcomptype(),
            )
    except (wave.Error, EOFError):
        return None


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {
        "results": [{"tokens": [], "tags": [], "rulename": "", "text": ""}],
        "text": "",
        "code": code,
        "message": message,
    }


def _joined(tokens: Iterable[Token], engine: str) -> str:
    words = [t.written for t in tokens]
    return " ".join(words) if engine.endswith("-en") else "".join(words)


def _result(tokens: Sequence[Token], engine: str) -> dict[str, Any]:
    return {
        "tokens": [t.as_json() for t in tokens],
        "confidence": round(sum(t.confidence for t in tokens) / max(1, len(tokens)), 3),
        "starttime": tokens[0].start_ms if tokens else 0,
        "endtime": tokens[-1].end_ms if tokens else 0,
        "tags": [],
        "rulename": "",
        "text": _joined(tokens, engine),
    }


class FakeAmiVoice:
    """The fake service, served by werkzeug on 127.0.0.1 at a free port."""

    def __init__(
        self,
        appkeys: Iterable[str] = ("test-appkey-0123456789",),
        *,
        sync_max_bytes: int = SYNC_MAX_BYTES,
        engines: Iterable[str] = ("-a-general", "-a-general-en"),
    ) -> None:
        self.appkeys = set(appkeys)
        self.sync_max_bytes = sync_max_bytes
        self.engines = set(engines)
        self.requests: list[Recorded] = []
        self._scripts: dict[int, Script] = {}
        self._jobs: dict[str, _Job] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._job_engine: dict[str, str] = {}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- test controls ------------------------------------------------------

    def script(
        self,
        n_frames: int,
        utterances: Sequence[Sequence[Token]] = (),
        *,
        processing_polls: int = 1,
        error_message: str | None = None,
    ) -> None:
        self._scripts[n_frames] = Script(
            tuple(tuple(u) for u in utterances), processing_polls, error_message
        )

    def fail_next(self, status: int = 503, *, path: str = "/", times: int = 1) -> None:
        """Answer the next `times` requests under `path` with HTTP `status`."""
        with self._lock:
            self._faults.extend([_Fault(path, status=status)] * times)

    def delay_next(self, seconds: float, *, path: str = "/", times: int = 1) -> None:
        """Hold the next `times` requests under `path` for `seconds`."""
        with self._lock:
            self._faults.extend([_Fault(path, delay=seconds)] * times)

    def reply_next(
        self, body: dict[str, Any], *, status: int = 200, path: str = "/"
    ) -> None:
        """Answer the next request under `path` with this JSON (e.g. another code)."""
        with self._lock:
            self._faults.append(_Fault(path, status=status, body=body))

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def sync_url(self) -> str:
        return f"{self.base_url}/v1/recognize"

    @property
    def async_url(self) -> str:
        return f"{self.base_url}/v1/recognitions"

    def start(self) -> FakeAmiVoice:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
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

    # -- the service --------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("fake_amivoice")

        @app.before_request
        def _fault() -> Response | None:
            with self._lock:
                hit = next(
                    (f for f in self._faults if request.path.startswith(f.path)), None
                )
                if hit is not None:
                    self._faults.remove(hit)
            if hit is None:
                return None
            if hit.delay:
                self._stopping.wait(hit.delay)
            if hit.body is not None:
                self._record()
                return _json(hit.body, status=hit.status or 200)
            if hit.status:
                self._record()
                return Response("<html>upstream error</html>", status=hit.status)
            return None

        @app.post("/v1/recognize")
        @app.post("/v1/nolog/recognize")
        def recognize() -> Response:
            rec, engine, error = self._read_request(sync=True)
            if error is not None:
                return _json(error)
            assert rec.wav is not None
            script = self._scripts.get(rec.wav.n_frames, Script())
            return _json(self._sync_body(script, engine))

        @app.post("/v1/recognitions")
        def create_job() -> Response:
            rec, engine, error = self._read_request(sync=False)
            if error is not None:
                return _json(error)
            assert rec.wav is not None and rec.audio is not None
            options = parse_d(rec.fields.get("d", ""))
            sessionid = f"{next(self._ids):024x}"
            job = _Job(
                sessionid=sessionid,
                script=self._scripts.get(rec.wav.n_frames, Script()),
                sync_compatible=options.get("compatibleWithSync", "").lower() == "true",
                audio_md5=hashlib.md5(rec.audio).hexdigest(),
                audio_size=len(rec.audio),
                content_id=options.get("contentId"),
            )
            with self._lock:
                self._jobs[sessionid] = job
                self._job_engine[sessionid] = engine
            return _json({"sessionid": sessionid, "text": "..."})

        @app.get("/v1/recognitions/<sessionid>")
        def job_status(sessionid: str) -> Response:
            rec = self._record()
            auth = rec.headers.get("authorization", "")
            scheme, _, key = auth.partition(" ")
            if scheme.lower() != "bearer" or key not in self.appkeys:
                return _json({"code": "-", "message": AUTH_MESSAGE}, status=401)
            with self._lock:
                job = self._jobs.get(sessionid)
                if job is None:
                    return _json({"message": "session not found"}, status=404)
                job.polls += 1
                polls = job.polls
                engine = self._job_engine[sessionid]
            return _json(self._job_body(job, polls, engine))

        return app

    def _record(self) -> Recorded:
        rec = Recorded(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        with self._lock:
            self.requests.append(rec)
        return rec

    def _read_request(
        self, *, sync: bool
    ) -> tuple[Recorded, str, dict[str, Any] | None]:
        """Check a recognition request: (record, engine, error body or None)."""
        rec = self._record()
        try:
            parts = parse_multipart(request.get_data(), request.content_type or "")
        except ValueError:  # fake choice: a body that is not multipart has no `u`
            return rec, "", _error_body("-", AUTH_MESSAGE)
        for name, headers, _ in parts:
            rec.part_names.append(name)
            rec.part_headers[name] = headers
        # Parameters after the audio are ignored (documented).
        seen_audio = False
        for name, _, content in parts:
            if seen_audio:
                continue
            if name == "a":
                rec.audio = content
                seen_audio = True
            else:
                rec.fields[name] = content.decode("utf-8", "replace")
        if rec.fields.get("u") not in self.appkeys:
            return rec, "", _error_body("-", AUTH_MESSAGE)
        engine = parse_d(rec.fields.get("d", "")).get("grammarFileNames", "")
        if not engine:
            return rec, "", _error_body(NO_ENGINE_CODE, NO_ENGINE_MESSAGE)
        if rec.audio is None:
            return rec, engine, _error_body("+", UNSUPPORTED_MESSAGE)  # fake choice
        if sync and len(rec.audio) > self.sync_max_bytes:
            return rec, engine, _error_body(TOO_LARGE_CODE, TOO_LARGE_MESSAGE)
        rec.wav = read_wav(rec.audio)
        wav = rec.wav
        if (
            wav is None
            or wav.comptype != "NONE"
            or (wav.channels, wav.sample_width, wav.frame_rate) != (1, 2, 16_000)
        ):
            return rec, engine, _error_body("+", UNSUPPORTED_MESSAGE)
        return rec, engine, None

    def _results(self, script: Script, engine: str) -> list[dict[str, Any]]:
        if engine not in self.engines:
            return []  # unknown engines answer with silence, as the real one does
        return [_result(u, engine) for u in script.utterances if u]

    def _sync_body(self, script: Script, engine: str) -> dict[str, Any]:
        results = self._results(script, engine)
        if not results:  # silence
            results = [{"tokens": [], "tags": [], "rulename": "", "text": ""}]
        sep = " " if engine.endswith("-en") else ""
        text = sep.join(r["text"] for r in results if r["text"])
        return {
            "results": results,
            "utteranceid": f"20250101/00/{next(self._ids):024x}",
            "text": text,
            "code": "",
            "message": "",
        }

    def _job_body(self, job: _Job, polls: int, engine: str) -> dict[str, Any]:
        base: dict[str, Any] = {
            "service_id": "fake-service",
            "session_id": job.sessionid,
            "audio_md5": job.audio_md5,
            "audio_size": job.audio_size,
        }
        if job.content_id is not None:
            base["content_id"] = job.content_id
        # Poll 1 -> queued, 2 -> started, then `processing_polls` x processing.
        if polls == 1:
            return {**base, "status": "queued"}
        if polls == 2:
            return {**base, "status": "started"}
        if polls <= 2 + job.script.processing_polls:
            return {**base, "status": "processing"}
        if job.script.error_message is not None:
            return {
                **base,
                "status": "error",
                "error_message": job.script.error_message,
            }
        results = self._results(job.script, engine)
        sep = " " if engine.endswith("-en") else ""
        text = sep.join(r["text"] for r in results)
        body = {
            **base,
            "status": "completed",
            "utteranceid": f"20250101/00/{job.sessionid}",
            "text": text,
            "code": "",
            "message": "",
        }
        if job.sync_compatible:
            body["results"] = results
        else:
            # Fake choice for the default format: per-utterance `segments`, and
            # one `results` entry holding every token.
            all_tokens = [t for u in job.script.utterances for t in u]
            body["segments"] = [{"results": [r], "text": r["text"]} for r in results]
            body["results"] = [_result(all_tokens, engine)] if results else []
        return body


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def tone(n_frames: int, freq: float = 440.0) -> Any:
    """A float32 test signal of `n_frames` samples at 16 kHz."""
    import numpy as np

    t = np.arange(n_frames, dtype=np.float32) / 16_000
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
