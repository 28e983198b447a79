"""REST API over one call's analysis: read it, run it again, re-run for a filtered set.

Reads go through the status service (gRPC); a re-run is an "analyse" job on SQS that
the worker handles without touching the call's status.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, g, jsonify, request

from callsight.db.records import CallRecord
from callsight.db.scorecards_repo import ScopeFilter, ScorecardRepository
from callsight.enqueue import job_for
from callsight.jobqueue import QueueUnavailable
from callsight.v1 import analytics_pb2
from callsight_upload.auth import require_api_key, services
from callsight_upload.calls import rpc
from callsight_upload.errors import ApiError
from callsight_upload.validation import reject_nul_in_json

bp = Blueprint("analysis", __name__)

RERUN_FILTERS = {"department", "operator_id", "date_from", "date_to", "status"}
MAX_RERUN = 10_000


def _enqueue_analysis(call: CallRecord) -> None:
    try:
        services().queue.send(job_for(call, kind="analyse"))
    except QueueUnavailable:
        raise ApiError(503, "queue_unavailable", "the job queue is unavailable right now; try again shortly") from None


@bp.get("/api/calls/<call_id>/analysis")
@require_api_key
def get_analysis(call_id: str):  # type: ignore[no-untyped-def]
    stored = rpc(services().status.GetAnalysis, analytics_pb2.GetAnalysisRequest(org_id=g.org.id, call_id=call_id))
    body: dict[str, Any] = {"call_id": stored.call_id, "updated_at": stored.updated_at}
    if stored.error:
        body.update(analysis_version=stored.analysis_version, error=stored.error)
    else:
        body.update(json.loads(stored.result_json))
    return jsonify(body)


@bp.post("/api/calls/<call_id>/analysis")
@require_api_key
def rerun_analysis(call_id: str):  # type: ignore[no-untyped-def]
    call = services().calls.get(g.org.id, call_id)
    if call is None:
        raise ApiError(404, "not_found", f"call {call_id!r} not found")
    if call.status != "Done":
        raise ApiError(409, "not_ready", f"only a Done call can be analysed (status {call.status})")
    _enqueue_analysis(call)
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


@bp.post("/api/analysis/rerun")
@require_api_key
def rerun_many():  # type: ignore[no-untyped-def]
    scope, operator_id = rerun_scope(request.get_json(silent=True) if request.data else {}, g.org.id)
    calls = ScorecardRepository(services().engine).done_calls(scope, operator_id, limit=MAX_RERUN + 1)
    if len(calls) > MAX_RERUN:
        raise ApiError(400, "too_many_calls", f"more than {MAX_RERUN} calls match; narrow the filters (e.g. dates)")
    for call in calls:
        _enqueue_analysis(call)
    return jsonify({"queued": len(calls)}), 202
