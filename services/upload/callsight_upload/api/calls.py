"""REST API over calls: list, get, transcript (+ exports), retry. Reads go through the
status service over gRPC (`reads`); the retry is a write to the gateway's call outbox
and SQS."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from callsight.convert import STATUS_TO_PROTO, call_to_proto
from callsight.enqueue import enqueue_call
from callsight.jobqueue import QueueUnavailable
from callsight.telemetry import inject
from callsight.v1 import calls_pb2
from callsight_upload.api import exports
from callsight_upload.core.args import date_arg, int_arg
from callsight_upload.core.auth import current_org, require_api_key
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.serialize import call_json, transcript_json

bp = Blueprint("calls", __name__, url_prefix="/api/calls")
STATUS_NAMES = {name.lower(): name for name in STATUS_TO_PROTO}
EXPORTS = {"txt": (exports.to_txt, "text/plain"), "srt": (exports.to_srt, "application/x-subrip"),
           "vtt": (exports.to_vtt, "text/vtt")}


def _statuses() -> list[calls_pb2.CallStatus]:
    statuses = []
    for raw in request.args.getlist("status"):
        for part in raw.split(","):
            if not part.strip():
                continue
            name = STATUS_NAMES.get(part.strip().lower())
            if name is None:
                raise ApiError(400, "invalid_status", f"status must be one of Queued, Processing, Done, Failed (got {part.strip()[:30]!r})")
            statuses.append(STATUS_TO_PROTO[name])
    return statuses


@bp.get("")
@require_api_key
def list_calls() -> ResponseReturnValue:
    message = calls_pb2.ListCallsRequest(
        org_id=current_org().id,
        statuses=_statuses(),
        department=request.args.get("department", "").strip(),
        operator_id=request.args.get("operator_id", "").strip(),
        customer_id=request.args.get("customer_id", "").strip(),
        call_date_from=date_arg("date_from", "call_date_from"),
        call_date_to=date_arg("date_to", "call_date_to"),
        page_size=int_arg("page_size", int_arg("limit", 50, 1, 500), 1, 500),
        page_token=request.args.get("page_token", "").strip(),
        query=request.args.get("q", "").strip()[:200],
    )
    page = connections().reads.list_calls(message)
    return jsonify({
        "calls": [call_json(c) for c in page.calls],
        "next_page_token": page.next_page_token or None,
        "total_count": page.total_count,
    })


@bp.get("/<call_id>")
@require_api_key
def get_call(call_id: str) -> ResponseReturnValue:
    reads = connections().reads
    call = reads.get_call(current_org().id, call_id)
    text = None
    if call.status == STATUS_TO_PROTO["Done"]:
        text = reads.get_transcript(current_org().id, call_id).text
    return jsonify(call_json(call, transcript_text=text))


@bp.get("/<call_id>/transcript")
@require_api_key
def get_transcript(call_id: str) -> ResponseReturnValue:
    fmt = request.args.get("format", "json").lower()
    if fmt not in ("json", "txt", "srt", "vtt"):
        raise ApiError(400, "invalid_format", "format must be json, txt, srt or vtt")
    reads = connections().reads
    call = reads.get_call(current_org().id, call_id)
    if call.status != STATUS_TO_PROTO["Done"]:
        reason = f": {call.error}" if call.error else ""
        raise ApiError(409, "not_ready", f"call {call_id!r} has no transcript (status {call_json(call)['status']}{reason})")
    transcript = transcript_json(reads.get_transcript(current_org().id, call_id))
    if fmt == "json":
        return jsonify(transcript)
    render, mimetype = EXPORTS[fmt]
    filename = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in call_id) or "transcript"
    return Response(render(transcript), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"',
    }, content_type=f"{mimetype}; charset=utf-8")


@bp.post("/<call_id>/retry")
@require_api_key
def retry_call(call_id: str) -> ResponseReturnValue:
    found = connections()
    org_id = current_org().id
    record = found.outbox.retry(org_id, call_id)
    if record is None:
        existing = found.reads.get_call(org_id, call_id)  # 404 when there is no such call
        raise ApiError(409, "not_failed", f"only a Failed call can be retried (status {call_json(existing)['status']})")
    call = call_to_proto(record)
    found.cache.publish(call, STATUS_TO_PROTO["Failed"])  # before the job: see ingest
    try:
        enqueue_call(found.queue, record, trace_context=inject())
        found.outbox.mark_enqueued(record.uid)
    except QueueUnavailable:
        pass  # the reconciler enqueues it
    return jsonify(call_json(call)), 202
