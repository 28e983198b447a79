"""REST API over figures across calls: operator scorecards, departments, a customer's calls.

Every figure is computed by the status service (PostgreSQL aggregates); this module
validates the query string and shapes the JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from callsight.v1 import analytics_pb2
from callsight_upload.core.args import date_arg
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError

bp = Blueprint("scorecards", __name__, url_prefix="/api/scorecards")
departments_bp = Blueprint("departments", __name__, url_prefix="/api/analytics")
customers_bp = Blueprint("customers", __name__, url_prefix="/api/customers")

MEANS = ("mean_qa_score", "mean_operator_talk_share", "mean_silence_s", "mean_longest_silence_s",
         "mean_interruptions", "mean_customer_sentiment_change")
# a scorecard sorts by the operator or by any figure of the contract (analytics.proto)
SORTABLE = ("operator_id", *(f.name for f in analytics_pb2.Figures.DESCRIPTOR.fields if f.name != "items"))
# JSON name -> the status service's name ("calls" is the count; in JSON a list of calls uses that key)
PUBLIC_SORT = {("call_count" if name == "calls" else name): name for name in SORTABLE}
CALL_FIGURES = ("qa_score", "operator_talk_share", "silence_s", "interruptions", "customer_sentiment_change")


def _filter() -> analytics_pb2.ScorecardFilter:
    date_from, date_to = date_arg("date_from"), date_arg("date_to")
    if date_from and date_to and date_from > date_to:
        raise ApiError(400, "invalid_date", "date_from must not be after date_to")
    return analytics_pb2.ScorecardFilter(org_id=current_org().id, date_from=date_from, date_to=date_to,
                                         department=request.args.get("department", "").strip())


def _sort() -> tuple[str, bool]:
    sort = request.args.get("sort", "operator_id").strip() or "operator_id"
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in PUBLIC_SORT:
        raise ApiError(400, "invalid_sort", f"sort must be one of {', '.join(PUBLIC_SORT)} (got {sort[:40]!r})")
    order = request.args.get("order", "").strip().lower()
    if order not in ("", "asc", "desc"):
        raise ApiError(400, "invalid_sort", f"order must be asc or desc (got {order[:20]!r})")
    return PUBLIC_SORT[sort], descending or order == "desc"


def figures_json(f: analytics_pb2.Figures) -> dict[str, Any]:
    body: dict[str, Any] = {"call_count": f.calls, "analysed_calls": f.analysed_calls}
    for name in MEANS:
        body[name] = round(getattr(f, name), 4) if f.HasField(name) else None
    body["items"] = {i.item_id: {"pass_rate": round(i.pass_rate, 4), "passed": i.passed, "evaluated": i.evaluated}
                     for i in f.items}
    return body


def call_figures_json(c: analytics_pb2.CallFigures) -> dict[str, Any]:
    body: dict[str, Any] = {
        "call_id": c.call_id, "status": c.status, "call_date": c.call_date, "operator_id": c.operator_id or None,
        "customer_id": c.customer_id or None, "department": c.department or None,
        "duration_s": round(c.duration_s, 3) if c.duration_s else None,
    }
    for name in CALL_FIGURES:
        body[name] = getattr(c, name) if c.HasField(name) else None
    return body


@bp.get("/operators")
@require_scope("read")
def list_operator_scorecards() -> ResponseReturnValue:
    sort, descending = _sort()
    reply = connections().reads.operator_scorecards(
        analytics_pb2.ListOperatorScorecardsRequest(filter=_filter(), sort=sort, descending=descending))
    return jsonify({"operators": [{"operator_id": o.operator_id, **figures_json(o.figures)} for o in reply.operators],
                    "sort": {v: k for k, v in PUBLIC_SORT.items()}[sort], "order": "desc" if descending else "asc"})


@bp.get("/operators/<operator_id>")
@require_scope("read")
def get_operator_scorecard(operator_id: str) -> ResponseReturnValue:
    reply = connections().reads.operator_scorecard(
        analytics_pb2.GetOperatorScorecardRequest(filter=_filter(), operator_id=operator_id))
    return jsonify({
        "operator_id": reply.operator_id,
        **figures_json(reply.figures),
        "trend": [{"iso_week": w.iso_week, **figures_json(w.figures)} for w in reply.trend],
        "calls": [call_figures_json(c) for c in reply.calls],
    })


@departments_bp.get("/departments")
@require_scope("read")
def list_department_analytics() -> ResponseReturnValue:
    reply = connections().reads.department_analytics(analytics_pb2.ListDepartmentAnalyticsRequest(filter=_filter()))
    return jsonify({"departments": [
        {"department": d.department or None, "operators": d.operators, **figures_json(d.figures)}
        for d in reply.departments
    ]})


@customers_bp.get("/<customer_id>/calls")
@require_scope("read")
def list_customer_calls(customer_id: str) -> ResponseReturnValue:
    reply = connections().reads.customer_calls(
        analytics_pb2.ListCustomerCallsRequest(filter=_filter(), customer_id=customer_id))
    return jsonify({"customer_id": customer_id, "calls": [call_figures_json(c) for c in reply.calls]})
