"""REST API over calls: list, get, transcript (+ exports), retry. Reads go through the
status service over gRPC; the retry write goes to PostgreSQL and SQS."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from flask import Blueprint, Response, g, jsonify, request

from callsight.convert import STATUS_TO_PROTO, call_to_proto
from callsight.enqueue import enqueue_call
from callsight.jobqueue import QueueUnavailable
from callsight.telemetry import grpc_metadata, inject
from callsight.v1 import status_service_pb2
from callsight_upload import exports
from callsight_upload.auth import require_api_key, services
from callsight_upload.errors import ApiError
from callsight_upload.serialize import call_json, transcript_json

bp = Blueprint("calls", __name__)
log = logging.getLogger(__name__)
T = TypeVar("T")

GRPC_TO_HTTP = {
    grpc.StatusCode.NOT_FOUND: (404, "not_found"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_request"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "not_ready"),
    grpc.StatusCode.UNAVAILABLE: (503, "status_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "status_unavailable"),
}
STATUS_NAMES = {name.lower(): name for name in STATUS_TO_PROTO}


def rpc(method: Callable[..., T], message: Any, timeout: float = 10.0) -> T:
    try:
        return method(message, timeout=timeout, metadata=grpc_metadata())
    except grpc.RpcError as exc:
        code = exc.code()  # type: ignore[attr-defined]
        status, name = GRPC_TO_HTTP.get(code, (502, "status_error"))
        detail = exc.details() or "status service error"  # type: ignore[attr-defined]
        if status == 503:
            detail = "the status service is unavailable right now; try again shortly"
        elif status == 502:
            # an unexpected failure's details (an exception text, SQL) are for the log, never for the client
            log.error("status service error %s: %s", code, detail)
            detail = "the status service failed to answer; try again shortly"
        raise ApiError(status, name, detail) from None


def _date_arg(*names: str) -> str:
    for name in names:
        value = request.args.get(name, "").strip()
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise ApiError(400, "invalid_date", f"{name} must be a date as YYYY-MM-DD") from None
            return value
    return ""


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_request", f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_request", f"{name} must be between {low} and {high}")
    return value


@bp.get("/api/calls")
@require_api_key
def list_calls():  # type: ignore[no-untyped-def]
    statuses = []
    for raw in request.args.getlist("status"):
        for part in raw.split(","):
            if not part.strip():
                continue
            name = STATUS_NAMES.get(part.strip().lower())
            if name is None:
                raise ApiError(400, "invalid_status", f"status must be one of Queued, Processing, Done, Failed (got {part.strip()[:30]!r})")
            statuses.append(STATUS_TO_PROTO[name])
    message = status_service_pb2.ListCallsRequest(
        org_id=g.org.id,
        statuses=statuses,
        department=request.args.get("department", "").strip(),
        operator_id=request.args.get("operator_id", "").strip(),
        customer_id=request.args.get("customer_id", "").strip(),
        call_date_from=_date_arg("date_from", "call_date_from"),
        call_date_to=_date_arg("date_to", "call_date_to"),
        page_size=_int_arg("page_size", _int_arg("limit", 50, 1, 500), 1, 500),
        page_token=request.args.get("page_token", "").strip(),
        query=request.args.get("q", "").strip()[:200],
    )
    page = rpc(services().status.ListCalls, message)
    return jsonify({
        "calls": [call_json(c) for c in page.calls],
        "next_page_token": page.next_page_token or None,
        "total_count": page.total_count,
    })


def _get_call(call_id: str) -> Any:
    return rpc(services().status.GetCall, status_service_pb2.GetCallRequest(org_id=g.org.id, call_id=call_id))


@bp.get("/api/calls/<call_id>")
@require_api_key
def get_call(call_id: str):  # type: ignore[no-untyped-def]
    call = _get_call(call_id)
    text = None
    if call.status == STATUS_TO_PROTO["Done"]:
        transcript = rpc(services().status.GetTranscript,
                         status_service_pb2.GetTranscriptRequest(org_id=g.org.id, call_id=call_id))
        text = transcript.text
    return jsonify(call_json(call, transcript_text=text))


@bp.get("/api/calls/<call_id>/transcript")
@require_api_key
def get_transcript(call_id: str):  # type: ignore[no-untyped-def]
    fmt = request.args.get("format", "json").lower()
    if fmt not in ("json", "txt", "srt", "vtt"):
        raise ApiError(400, "invalid_format", "format must be json, txt, srt or vtt")
    call = _get_call(call_id)
    if call.status != STATUS_TO_PROTO["Done"]:
        reason = f": {call.error}" if call.error else ""
        raise ApiError(409, "not_ready", f"call {call_id!r} has no transcript (status {call_json(call)['status']}{reason})")
    transcript = transcript_json(rpc(
        services().status.GetTranscript, status_service_pb2.GetTranscriptRequest(org_id=g.org.id, call_id=call_id)
    ))
    if fmt == "json":
        return jsonify(transcript)
    render = {"txt": (exports.to_txt, "text/plain"), "srt": (exports.to_srt, "application/x-subrip"),
              "vtt": (exports.to_vtt, "text/vtt")}[fmt]
    body = render[0](transcript)
    filename = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in call_id) or "transcript"
    return Response(body, mimetype=render[1], headers={
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"',
    }, content_type=f"{render[1]}; charset=utf-8")


@bp.post("/api/calls/<call_id>/retry")
@require_api_key
def retry_call(call_id: str):  # type: ignore[no-untyped-def]
    svc = services()
    record = svc.calls.retry(g.org.id, call_id)
    if record is None:
        existing = svc.calls.get(g.org.id, call_id)
        if existing is None:
            raise ApiError(404, "not_found", f"call {call_id!r} not found")
        raise ApiError(409, "not_failed", f"only a Failed call can be retried (status {existing.status})")
    try:
        enqueue_call(svc.queue, record, trace_context=inject())
        svc.calls.mark_enqueued(record.uid)
    except QueueUnavailable:
        pass  # the reconciler enqueues it
    call = call_to_proto(record)
    svc.cache.publish(call, STATUS_TO_PROTO["Failed"])
    return jsonify(call_json(call)), 202
