"""Operator scorecards in the web app, read from the status service's scorecard RPCs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight.v1 import analytics_pb2
from callsight_upload.core import sessions
from callsight_upload.core.args import date_arg
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.web.common import page_error

bp = Blueprint("web_scorecards", __name__, url_prefix="/scorecards")
bp.register_error_handler(ApiError, page_error)

COLUMNS = ("operator_id", "calls", "mean_qa_score", "mean_operator_talk_share", "mean_silence_s",
           "mean_interruptions", "mean_customer_sentiment_change")
FIGURES = COLUMNS[1:]


def _filter() -> tuple[analytics_pb2.ScorecardFilter, dict[str, str]]:
    f = {"department": request.args.get("department", "").strip()[:200],
         "date_from": date_arg("date_from"), "date_to": date_arg("date_to")}
    message = analytics_pb2.ScorecardFilter(org_id=sessions.signed_in_user().org_id,
                                            department=f["department"], date_from=f["date_from"],
                                            date_to=f["date_to"])
    return message, f


def figures(message: analytics_pb2.Figures) -> dict[str, Any]:
    out: dict[str, Any] = {"calls": message.calls, "analysed_calls": message.analysed_calls}
    for name in FIGURES[1:] + ("mean_longest_silence_s",):
        out[name] = getattr(message, name) if message.HasField(name) else None
    out["items"] = [{"item_id": i.item_id, "evaluated": i.evaluated, "pass_rate": i.pass_rate} for i in message.items]
    return out


@bp.get("")
@sessions.login_required
def operators() -> ResponseReturnValue:
    message, f = _filter()
    sort = request.args.get("sort", "operator_id")
    sort = sort if sort in COLUMNS else "operator_id"
    descending = request.args.get("order") == "desc"
    reply = connections().reads.operator_scorecards(
        analytics_pb2.ListOperatorScorecardsRequest(filter=message, sort=sort, descending=descending))
    kept: dict[str, Any] = {k: v for k, v in f.items() if v}
    rows = [{"operator_id": o.operator_id, **figures(o.figures),
             "url": url_for("web_scorecards.operator", operator_id=o.operator_id, **kept)}
            for o in reply.operators]

    def sort_url(column: str) -> str:
        order = "asc" if column == sort and descending else ("desc" if column == sort else "asc")
        return url_for("web_scorecards.operators", sort=column, order=order, **kept)

    return render_template("scorecards.html", rows=rows, filters=f, sort=sort,
                           descending=descending, sort_url=sort_url, columns=COLUMNS)


@bp.get("/operators/<operator_id>")
@sessions.login_required
def operator(operator_id: str) -> ResponseReturnValue:
    message, f = _filter()
    reply = connections().reads.operator_scorecard(
        analytics_pb2.GetOperatorScorecardRequest(filter=message, operator_id=operator_id))
    trend = [{"week": w.iso_week, **figures(w.figures)} for w in reply.trend]
    calls = []
    for c in reply.calls:
        calls.append({
            "call_id": c.call_id, "status": c.status, "call_date": c.call_date, "department": c.department,
            "duration_s": c.duration_s, "qa_score": c.qa_score if c.HasField("qa_score") else None,
            "view_url": url_for("web_calls.call_view", call_id=c.call_id),
        })
    return render_template("operator.html", operator_id=operator_id, filters=f, overall=figures(reply.figures),
                           trend=trend, calls=calls)
