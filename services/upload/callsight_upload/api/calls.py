"""REST API over calls: list, get, transcript (+ exports), retry, delete. Reads go through
the status service over gRPC (`reads`); the retry is a write to the gateway's call outbox
and SQS; a deletion is the gateway's tombstone, finished by the lifecycle worker. Every
read or change of one call is written to the audit log."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from callsight.convert import STATUS_TO_PROTO, call_to_proto
from callsight.db.deletion_requests import Deletion
from callsight.enqueue import enqueue_call
from callsight.jobqueue import QueueUnavailable
from callsight.telemetry import inject
from callsight.v1 import calls_pb2
from callsight_upload.api import exports
from callsight_upload.core import audit
from callsight_upload.core.args import date_arg, int_arg
from callsight_upload.core.auth import current_org, require_scope
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
@require_scope("read")
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
@require_scope("read")
def get_call(call_id: str) -> ResponseReturnValue:
    reads = connections().reads
    call = reads.get_call(current_org().id, call_id)
    text = None
    if call.status == STATUS_TO_PROTO["Done"]:
        text = reads.get_transcript(current_org().id, call_id).text
    audit.record("viewed", call.call_id, call.uid, once_per_s=audit.VIEW_WINDOW_S)
    return jsonify(call_json(call, transcript_text=text))


@bp.delete("/<call_id>")
@require_scope("admin")
def delete_call(call_id: str) -> ResponseReturnValue:
    """204 at once: from here the call is 404 for every reader and its Call ID is free; the
    lifecycle worker removes its recording, transcript, analysis and rows. Deleting a call
    already deleted is 204 again (idempotent); one never uploaded is 404."""
    found = connections()
    org_id = current_org().id
    ip, user_agent = audit.origin()
    result = found.deletions.request(org_id, call_id, audit.current_actor(), ip, user_agent)
    if result.outcome is Deletion.NOT_FOUND:
        raise ApiError(404, "not_found", f"call {call_id!r} not found")
    if result.outcome is Deletion.REQUESTED:
        found.cache.publish_deleted(calls_pb2.Call(org_id=org_id, call_id=call_id, uid=result.call_uid or ""))
    return Response(status=204)


@bp.get("/<call_id>/transcript")
@require_scope("read")
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
        audit.record("viewed", call.call_id, call.uid, detail="transcript", once_per_s=audit.VIEW_WINDOW_S)
        return jsonify(transcript)
    audit.record("exported", call.call_id, call.uid, detail=fmt)
    render, mimetype = EXPORTS[fmt]
    filename = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in call_id) or "transcript"
    return Response(render(transcript), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"',
    }, content_type=f"{mimetype}; charset=utf-8")


@bp.post("/<call_id>/retry")
@require_scope("ingest")
def retry_call(call_id: str) -> ResponseReturnValue:
    found = connections()
    org_id = current_org().id
    record = found.outbox.retry(org_id, call_id)
    if record is None:
        existing = found.reads.get_call(org_id, call_id)  # 404 when there is no such call
        if existing.HasField("audio_deleted_at"):
            raise ApiError(409, "recording_deleted", "the recording was removed by the organisation's retention "
                                                     "policy, so the call cannot be transcribed again")
        raise ApiError(409, "not_failed", f"only a Failed call can be retried (status {call_json(existing)['status']})")
    audit.record("retried", record.call_id, record.uid)
    call = call_to_proto(record)
    found.cache.publish(call, STATUS_TO_PROTO["Failed"])  # before the job: see ingest
    try:
        enqueue_call(found.queue, record, trace_context=inject())
        found.outbox.mark_enqueued(record.uid)
    except QueueUnavailable:
        pass  # the reconciler enqueues it
    return jsonify(call_json(call)), 202
