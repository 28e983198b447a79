"""REST API over analyses: read one call's, run it again, re-run it for a filtered set
of calls and follow that re-run's progress.

Reads go through the status deployment (gRPC). One call's re-run is one job on the
analysis queue; a re-run over many calls is only recorded here (the request row, like
the call outbox): the analysis workers' producer enqueues its calls in batches at a drip
rate, so no HTTP request sends thousands of messages and no upload waits behind them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from callsight.convert import STATUS_TO_PROTO
from callsight.db.rerun_requests import RerunFilter
from callsight.enqueue import analysis_job
from callsight.jobqueue import QueueUnavailable
from callsight.telemetry import inject
from callsight.v1 import analytics_pb2, calls_pb2
from callsight_upload.core import audit
from callsight_upload.core.args import int_arg
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.serialize import call_json
from callsight_upload.core.validation import reject_nul_in_json

bp = Blueprint("analysis", __name__, url_prefix="/api/calls/<call_id>/analysis")
reruns_bp = Blueprint("reruns", __name__, url_prefix="/api/analysis")

RERUN_FILTERS = {"department", "operator_id", "date_from", "date_to", "status"}


@bp.get("")
@require_scope("read")
def get_analysis(call_id: str) -> ResponseReturnValue:
    stored = connections().reads.get_analysis(current_org().id, call_id)
    audit.record("viewed", stored.call_id, detail="analysis", once_per_s=audit.VIEW_WINDOW_S)
    body: dict[str, Any] = {"call_id": stored.call_id, "updated_at": stored.updated_at}
    if stored.error:
        body.update(analysis_version=stored.analysis_version, error=stored.error)
    else:
        body.update(json.loads(stored.result_json))
    return jsonify(body)


@bp.post("")
@require_scope("admin")
def rerun_analysis(call_id: str) -> ResponseReturnValue:
    call = connections().reads.get_call(current_org().id, call_id)
    if call.status != STATUS_TO_PROTO["Done"]:
        raise ApiError(409, "not_ready", f"only a Done call can be analysed (status {call_json(call)['status']})")
    try:
        connections().analysis_queue.send(analysis_job(call.uid, call.org_id, trace_context=inject()))
    except QueueUnavailable:
        raise ApiError(503, "queue_unavailable", "the job queue is unavailable right now; try again shortly") from None
    audit.record("reanalysed", call.call_id, call.uid)
    return jsonify({"call_id": call_id, "queued": True, "analysis_url": f"/api/calls/{call_id}/analysis"}), 202


def _optional_date(filters: dict[str, Any], name: str) -> dt.date | None:
    value = filters.get(name)
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, "invalid_date", f"{name} must be a date as YYYY-MM-DD") from None


def _optional_text(filters: dict[str, Any], name: str) -> str | None:
    value = filters.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_request", f"{name} must be a string")
    return value.strip() or None


@dataclass(frozen=True)
class RerunScope:
    """Whose calls and which: the organisation, the calls' dates and department."""

    org_id: str
    date_from: dt.date | None
    date_to: dt.date | None
    department: str | None

    def request(self, operator_id: str | None) -> RerunFilter:
        return RerunFilter(self.department, operator_id, self.date_from, self.date_to)


def rerun_scope(filters: Any, org_id: str) -> tuple[RerunScope, str | None]:
    """The re-run's JSON filters, validated (only Done calls have a transcript to analyse),
    and the operator they name."""
    if not isinstance(filters, dict):
        raise ApiError(400, "invalid_request", "send the filters as a JSON object, e.g. {\"department\": \"sales\"}")
    reject_nul_in_json(filters)
    unknown = sorted(set(filters) - RERUN_FILTERS)
    if unknown:
        raise ApiError(400, "invalid_request", f"unknown filters {unknown}; allowed: {sorted(RERUN_FILTERS)}")
    if filters.get("status", "Done") != "Done":
        raise ApiError(400, "invalid_status", "only Done calls can be analysed again (status must be Done)")
    scope = RerunScope(org_id, _optional_date(filters, "date_from"), _optional_date(filters, "date_to"),
                       _optional_text(filters, "department"))
    if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
        raise ApiError(400, "invalid_date", "date_from must not be after date_to")
    return scope, _optional_text(filters, "operator_id")


def rerun_json(rerun: analytics_pb2.Rerun) -> dict[str, Any]:
    f = rerun.filters
    finished = rerun.analysed + rerun.failed + rerun.skipped
    return {
        "rerun_id": rerun.rerun_id,
        "status": rerun.status,
        "filters": {"department": f.department or None, "operator_id": f.operator_id or None,
                    "date_from": f.date_from or None, "date_to": f.date_to or None},
        "total": rerun.total,
        "enqueued": rerun.enqueued,
        "analysed": rerun.analysed,
        "failed": rerun.failed,
        "skipped": rerun.skipped,
        "progress": round(min(1.0, finished / rerun.total), 4) if rerun.total else (1.0 if rerun.status == "done" else 0.0),
        "requested_at": rerun.requested_at,
        "finished_at": rerun.finished_at or None,
        "error": rerun.error or None,
        "url": url_for("reruns.get_rerun", rerun_id=rerun.rerun_id),
    }


@reruns_bp.post("/rerun")
@require_scope("admin")
def rerun_many() -> ResponseReturnValue:
    """Record a re-run over the matching Done calls; answers at once with their count and
    (Location) where its progress is."""
    found = connections()
    scope, operator_id = rerun_scope(request.get_json(silent=True) if request.data else {}, current_org().id)
    org_id = scope.org_id
    matching = found.reads.list_calls(calls_pb2.ListCallsRequest(
        org_id=org_id, statuses=[STATUS_TO_PROTO["Done"]], department=scope.department or "",
        operator_id=operator_id or "", call_date_from=scope.date_from.isoformat() if scope.date_from else "",
        call_date_to=scope.date_to.isoformat() if scope.date_to else "", page_size=1,
    )).total_count
    limit = found.settings.rerun_max_calls
    if matching > limit:
        raise ApiError(400, "too_many_calls", f"more than {limit} calls match; narrow the filters (e.g. dates)")
    rerun_id = found.rerun_requests.create(org_id, scope.request(operator_id), matching)
    response = jsonify({"queued": matching})
    response.status_code = 202
    response.headers["Location"] = url_for("reruns.get_rerun", rerun_id=rerun_id)
    return response


@reruns_bp.get("/reruns/<rerun_id>")
@require_scope("read")
def get_rerun(rerun_id: str) -> ResponseReturnValue:
    return jsonify(rerun_json(connections().reads.get_rerun(current_org().id, rerun_id)))


@reruns_bp.get("/reruns")
@require_scope("read")
def list_reruns() -> ResponseReturnValue:
    reply = connections().reads.list_reruns(current_org().id, int_arg("limit", 20, 1, 100))
    return jsonify({"reruns": [rerun_json(r) for r in reply.reruns]})
