"""The Ingest API: `POST /api/ingest/upload`, exactly as the product documents it.

An upload ends either with a stored object, a call row and a queued job, or with an
error and nothing half-made: every failure path deletes what it already wrote.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from opentelemetry import trace

from callsight import limits
from callsight.convert import STATUS_TO_PROTO, call_to_proto
from callsight.db.call_outbox import DuplicateCallId
from callsight.enqueue import enqueue_call
from callsight.jobqueue import QueueUnavailable
from callsight.storage import MultipartWriter, StorageUnavailable, audio_key
from callsight.telemetry import inject, tracer
from callsight_upload.api.upload_stream import ParsedUpload, read_upload, too_large_message
from callsight_upload.core import validation
from callsight_upload.core.admission import EDGE_BYTES, EdgeReader, admit, read_header
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.metrics import UPLOAD_BYTES, UPLOADS
from callsight_upload.core.serialize import call_json
from callsight_upload.core.sniff import CONTENT_TYPES, SNIFF_BYTES, SUPPORTED, sniff_audio

log = logging.getLogger(__name__)
bp = Blueprint("ingest", __name__, url_prefix="/api/ingest")



class SniffingSink:
    """Looks at the first bytes before anything goes to S3: no object for a non-audio file."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.head = bytearray()
        # the first and last MiB, where containers keep what admission reads
        self.first = bytearray()
        self.last = bytearray()
        self.format: str | None = None
        self.writer: MultipartWriter | None = None
        self.completed = False

    def write(self, data: bytes) -> None:
        self._keep_edges(data)
        if self.writer is None:
            self.head += data
            if len(self.head) < SNIFF_BYTES:
                return
            self._open()
            data, self.head = bytes(self.head), bytearray()
        assert self.writer is not None
        self.writer.write(data)

    def _keep_edges(self, data: bytes) -> None:
        if len(self.first) < EDGE_BYTES:
            self.first += data[: EDGE_BYTES - len(self.first)]
        self.last += data
        if len(self.last) > 2 * EDGE_BYTES:
            del self.last[: len(self.last) - EDGE_BYTES]

    def admit(self, size: int) -> None:
        """422 unless the stored recording's header declares a phone call (core.admission)."""
        assert self.format is not None

        def fetch(start: int, end: int) -> bytes:
            body, _ = connections().audio.open(self.key, byte_range=f"bytes={start}-{end}")
            try:
                return body.read()
            finally:
                body.close()

        tail = bytes(self.last[-EDGE_BYTES:])
        declared = read_header(self.format, EdgeReader(bytes(self.first), tail, size, fetch))
        if declared is not None:
            admit(declared, size)

    def _open(self) -> None:
        self.format = sniff_audio(bytes(self.head[:SNIFF_BYTES]))
        if self.format is None:
            raise ApiError(415, "unsupported_format", f"this file is not a supported recording; upload {SUPPORTED}")
        self.writer = connections().audio.writer(self.key, CONTENT_TYPES[self.format])

    def finish(self) -> None:
        if self.writer is None:
            if not self.head:
                raise ApiError(400, "empty_file", "the uploaded file is empty")
            self._open()
            assert self.writer is not None
            self.writer.write(bytes(self.head))
            self.head = bytearray()
        self.writer.complete()
        self.completed = True

    def discard(self) -> None:
        if self.writer is None:
            return
        if self.completed:
            try:
                connections().audio.delete(self.key)
            except StorageUnavailable:
                log.error("could not delete orphan object %s", self.key)
        else:
            self.writer.abort()


def _metadata(parsed: ParsedUpload, org_default_language: str) -> dict[str, object]:
    f = parsed.fields
    today = dt.datetime.now(dt.UTC).date()
    meta: dict[str, object] = {
        name: validation.clean_text(name, f.get(name)) for name in validation.TEXT_FIELDS
    }
    meta["language"] = validation.language(f.get("language"), org_default_language)
    # without a language the worker detects it from the audio, falling back to this default
    meta["language_source"] = "request" if (f.get("language") or "").strip() else "default"
    meta["call_date"] = validation.call_date(f.get("call_date"), today)
    channel = (f.get("operator_channel") or "").strip().lower()
    if channel and channel not in ("left", "right"):
        raise ApiError(400, "invalid_field", "operator_channel must be left or right")
    meta["operator_channel"] = channel or None
    filename = validation.file_name(parsed.filename)
    meta["original_filename"] = filename
    if not meta["call_id"]:
        if not filename:
            raise ApiError(400, "missing_call_id", "call_id is required when the file has no name")
        meta["call_id"] = validation.clean_text("call_id", filename)
    return meta


@bp.post("/upload")
@require_scope("ingest")
def upload() -> ResponseReturnValue:
    svc = connections()
    org = current_org()
    limit = svc.settings.max_upload_bytes
    if request.mimetype != "multipart/form-data":
        raise ApiError(400, "invalid_form", "send multipart/form-data with the recording in a field named 'file'")
    boundary = request.mimetype_params.get("boundary", "").encode()
    if not boundary:
        raise ApiError(400, "invalid_form", "the multipart Content-Type has no boundary")
    if request.content_length is not None and request.content_length > limit + limits.UPLOAD_FORM_OVERHEAD_BYTES:
        UPLOADS.labels("too_large").inc()
        raise ApiError(413, "file_too_large", too_large_message(limit), {"Connection": "close"})

    uid = str(uuid.uuid4())
    sink = SniffingSink(audio_key(org.id, uid))

    def open_file(parsed: ParsedUpload, filename: str | None) -> SniffingSink:
        # Fields sent before the file are checked now, so a bad request fails before the upload.
        early = ParsedUpload(fields=parsed.fields, filename=filename)
        meta = _metadata(early, org.default_language)
        if svc.outbox.call_id_taken(org.id, str(meta["call_id"])):
            raise ApiError(409, "duplicate_call_id", f"a call with Call ID {meta['call_id']!r} already exists")
        return sink

    try:
        parsed = read_upload(request.stream, boundary, limit, open_file)
        if not parsed.file_seen:
            raise ApiError(400, "missing_file", "no recording: send it in a multipart field named 'file'")
        meta = _metadata(parsed, org.default_language)
        sink.finish()
        sink.admit(parsed.file_bytes)
        record = svc.outbox.create(
            uid=uid,
            org_id=org.id,
            audio_key=sink.key,
            audio_format=sink.format,
            size_bytes=parsed.file_bytes,
            **meta,
        )
    except DuplicateCallId:
        sink.discard()
        UPLOADS.labels("duplicate").inc()
        raise ApiError(409, "duplicate_call_id", "a call with this Call ID already exists") from None
    except StorageUnavailable as exc:
        sink.discard()
        UPLOADS.labels("storage_unavailable").inc()
        log.error("storage unavailable during upload: %s", exc)
        raise ApiError(503, "storage_unavailable", "recording storage is unavailable right now; nothing was saved, try again shortly", {"Retry-After": "30"}) from None
    except ApiError as exc:
        sink.discard()
        UPLOADS.labels(exc.code).inc()
        if exc.status == 413:
            exc.headers.setdefault("Connection", "close")
        raise
    except Exception:
        sink.discard()
        UPLOADS.labels("error").inc()
        raise

    UPLOADS.labels("accepted").inc()
    UPLOAD_BYTES.inc(parsed.file_bytes)
    trace.get_current_span().set_attribute("callsight.call_id", record.call_id)
    # announced before the job exists, so no worker's Processing can come before (or be
    # overwritten in the cache by) this Queued
    svc.cache.publish(call_to_proto(record), STATUS_TO_PROTO["Queued"])
    try:
        with tracer("callsight.upload").start_as_current_span("enqueue", kind=trace.SpanKind.PRODUCER):
            enqueue_call(svc.queue, record, trace_context=inject())
        svc.outbox.mark_enqueued(record.uid)
    except QueueUnavailable as exc:
        # The call row is the outbox: the reconciler enqueues it once SQS is back.
        log.warning("enqueue failed for %s, the reconciler will retry: %s", record.uid, exc)
    response = jsonify(call_json(call_to_proto(record)))
    response.status_code = 201
    response.headers["Location"] = url_for("calls.get_call", call_id=record.call_id)
    return response
