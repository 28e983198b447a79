"""REST API over one call's analysis: read it, run it again, re-run for a filtered set.

Reads go through the status service (gRPC); a re-run is an "analyse" job on SQS that
the worker handles without touching the call's status.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from callsight.convert import STATUS_TO_PROTO
from callsight.db.scorecards_repo import ScopeFilter, ScorecardRepository
from callsight.enqueue import analysis_job
from callsight.jobqueue import QueueUnavailable
from callsight_upload.core.auth import current_org, require_api_key
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.serialize import call_json
from callsight_upload.core.validation import reject_nul_in_json

bp = Blueprint("analysis", __name__, url_prefix="/api/calls/<call_id>/analysis")
reruns_bp = Blueprint("reruns", __name__, url_prefix="/api/analysis")

RERUN_FILTERS = {"department", "operator_id", "date_from", "date_to", "status"}
MAX_RERUN = 10_000


def _enqueue_analysis(call_uid: str, org_id: str) -> None:
    try:
        connections().queue.send(analysis_job(call_uid, org_id))
    except QueueUnavailable:
        raise ApiError(503, "queue_unavailable", "the job queue is unavailable right now; try again shortly") from None


@bp.get("")
@require_api_key
def get_analysis(call_id: str) -> ResponseReturnValue:
    stored = connections().reads.get_analysis(current_org().id, call_id)
    body: dict[str, Any] = {"call_id": stored.call_id, "updated_at": stored.updated_at}
    if stored.error:
        body.update(analysis_version=stored.analysis_version, error=stored.error)
    else:
        body.update(json.loads(stored.result_json))
    return jsonify(body)


@bp.post("")
@require_api_key
def rerun_analysis(call_id: str) -> ResponseReturnValue:
    call = connections().reads.get_call(current_org().id, call_id)
    if call.status != STATUS_TO_PROTO["Done"]:
        raise ApiError(409, "not_ready", f"only a Done call can be analysed (status {call_json(call)['status']})")
    _enqueue_analysis(call.uid, call.org_id)
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


def rerun_scope(filters: Any, org_id: str) -> tuple[ScopeFilter, str | None]:
    """The re-run's JSON filters, validated (only Done calls have a transcript to analyse)."""
    if not isinstance(filters, dict):
        raise ApiError(400, "invalid_request", "send the filters as a JSON object, e.g. {\"department\": \"sales\"}")
    reject_nul_in_json(filters)
    unknown = sorted(set(filters) - RERUN_FILTERS)
    if unknown:
        raise ApiError(400, "invalid_request", f"unknown filters {unknown}; allowed: {sorted(RERUN_FILTERS)}")
    if filters.get("status", "Done") != "Done":
        raise ApiError(400, "invalid_status", "only Done calls can be analysed again (status must be Done)")
    scope = ScopeFilter(org_id, _optional_date(filters, "date_from"), _optional_date(filters, "date_to"),
                        _optional_text(filters, "department"))
    if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
        raise ApiError(400, "invalid_date", "date_from must not be after date_to")
    return scope, _optional_text(filters, "operator_id")


@reruns_bp.post("/rerun")
@require_api_key
def rerun_many() -> ResponseReturnValue:
    scope, operator_id = rerun_scope(request.get_json(silent=True) if request.data else {}, current_org().id)
    calls = ScorecardRepository(connections().engine).done_calls(scope, operator_id, limit=MAX_RERUN + 1)
    if len(calls) > MAX_RERUN:
        raise ApiError(400, "too_many_calls", f"more than {MAX_RERUN} calls match; narrow the filters (e.g. dates)")
    for call in calls:
        _enqueue_analysis(call.uid, call.org_id)
    return jsonify({"queued": len(calls)}), 202
