"""AnalyticsService servicer: one call's analysis and the figures across calls, as thin
translations to AnalysisRepository / ScorecardRepository."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import grpc

from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.reruns_repo import RerunRecord, RerunRepository
from callsight.db.scorecards_repo import SORTABLE, Figures, ScopeFilter, ScorecardRepository
from callsight.v1 import analytics_pb2, analytics_pb2_grpc
from callsight_status.errors import abort


def _date(value: str, name: str, context: grpc.ServicerContext) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{name} must be a date as YYYY-MM-DD")
    return None


def scope_of(f: analytics_pb2.ScorecardFilter, context: grpc.ServicerContext) -> ScopeFilter:
    if not f.org_id:
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, "org_id is required")
    scope = ScopeFilter(f.org_id, _date(f.date_from, "date_from", context), _date(f.date_to, "date_to", context),
                        f.department or None)
    if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, "date_from must not be after date_to")
    return scope


def figures_to_proto(f: Figures) -> analytics_pb2.Figures:
    means = {k: v for k, v in vars(f).items() if k.startswith("mean_") and v is not None}
    return analytics_pb2.Figures(
        calls=f.calls, analysed_calls=f.analysed_calls, **means,
        items=[analytics_pb2.ItemPassRate(**item) for item in f.items],
    )


def _iso(value: dt.date | dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def rerun_to_proto(r: RerunRecord) -> analytics_pb2.Rerun:
    done = r.status == "done"
    return analytics_pb2.Rerun(
        rerun_id=r.id, status=r.status, total=r.total, enqueued=r.enqueued, analysed=r.analysed, failed=r.failed,
        skipped=r.skipped, requested_at=_iso(r.requested_at), error=r.error or "",
        # done: the last analysis is not tracked per re-run; the last enqueue is the lower bound shown
        finished_at=_iso(r.enqueued_at) if done else "",
        filters=analytics_pb2.RerunFilters(department=r.department or "", operator_id=r.operator_id or "",
                                           date_from=_iso(r.date_from), date_to=_iso(r.date_to)),
    )


def call_figures_to_proto(row: dict[str, Any]) -> analytics_pb2.CallFigures:
    optional = ("qa_score", "operator_talk_share", "silence_s", "interruptions", "customer_sentiment_change")
    return analytics_pb2.CallFigures(
        call_id=row["call_id"], status=row["status"], call_date=row["call_date"].isoformat(),
        operator_id=row["operator_id"] or "", customer_id=row["customer_id"] or "",
        department=row["department"] or "", duration_s=row["duration_s"] or 0.0,
        **{k: row[k] for k in optional if row[k] is not None},
    )


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, calls: CallRepository, analyses: AnalysisRepository, scorecards: ScorecardRepository,
                 reruns: RerunRepository) -> None:
        self.calls = calls
        self.analyses = analyses
        self.scorecards = scorecards
        self.reruns = reruns

    def GetAnalysis(self, request: analytics_pb2.GetAnalysisRequest, context: grpc.ServicerContext) -> analytics_pb2.Analysis:  # noqa: N802
        if not request.org_id or not request.call_id:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "org_id and call_id are required")
        call = self.calls.get(request.org_id, request.call_id)
        if call is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"call {request.call_id!r} not found")
        if call.status != "Done":
            abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                          f"call {request.call_id!r} is not Done (status {call.status}); it has no analysis yet")
        stored = self.analyses.get(request.org_id, call.uid)
        if stored is None:
            abort(context, grpc.StatusCode.NOT_FOUND,
                          f"call {request.call_id!r} has no analysis; POST /api/calls/{request.call_id}/analysis makes one")
        return analytics_pb2.Analysis(
            call_id=request.call_id, analysis_version=stored.analysis_version,
            form_fingerprint=stored.form_fingerprint or "",
            result_json=json.dumps(stored.result, ensure_ascii=False), error=stored.error or "",
            updated_at=stored.updated_at.isoformat(),
        )

    def ListOperatorScorecards(self, request: analytics_pb2.ListOperatorScorecardsRequest, context: grpc.ServicerContext) -> analytics_pb2.ListOperatorScorecardsResponse:  # noqa: N802
        scope = scope_of(request.filter, context)
        sort = request.sort or "operator_id"
        if sort not in SORTABLE:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"sort must be one of {', '.join(SORTABLE)}")
        rows = self.scorecards.operator_scorecards(scope, sort, request.descending)
        return analytics_pb2.ListOperatorScorecardsResponse(operators=[
            analytics_pb2.OperatorScorecard(operator_id=op, figures=figures_to_proto(f)) for op, f in rows
        ])

    def GetOperatorScorecard(self, request: analytics_pb2.GetOperatorScorecardRequest, context: grpc.ServicerContext) -> analytics_pb2.GetOperatorScorecardResponse:  # noqa: N802
        scope = scope_of(request.filter, context)
        if not request.operator_id:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "operator_id is required")
        total, weeks = self.scorecards.operator_scorecard(scope, request.operator_id)
        if total.calls == 0:
            abort(context, grpc.StatusCode.NOT_FOUND, f"operator {request.operator_id!r} has no Done calls in this range")
        return analytics_pb2.GetOperatorScorecardResponse(
            operator_id=request.operator_id, figures=figures_to_proto(total),
            trend=[analytics_pb2.WeekFigures(iso_week=w, figures=figures_to_proto(f)) for w, f in weeks],
            calls=[call_figures_to_proto(r) for r in self.scorecards.calls(scope, operator_id=request.operator_id)],
        )

    def ListDepartmentAnalytics(self, request: analytics_pb2.ListDepartmentAnalyticsRequest, context: grpc.ServicerContext) -> analytics_pb2.ListDepartmentAnalyticsResponse:  # noqa: N802
        scope = scope_of(request.filter, context)
        return analytics_pb2.ListDepartmentAnalyticsResponse(departments=[
            analytics_pb2.DepartmentAnalytics(department=d, operators=n, figures=figures_to_proto(f))
            for d, n, f in self.scorecards.department_analytics(scope)
        ])

    def ListCustomerCalls(self, request: analytics_pb2.ListCustomerCallsRequest, context: grpc.ServicerContext) -> analytics_pb2.ListCustomerCallsResponse:  # noqa: N802
        scope = scope_of(request.filter, context)
        if not request.customer_id:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "customer_id is required")
        rows = self.scorecards.calls(scope, customer_id=request.customer_id, any_status=True, newest_first=False)
        return analytics_pb2.ListCustomerCallsResponse(calls=[call_figures_to_proto(r) for r in rows])

    def GetRerun(self, request: analytics_pb2.GetRerunRequest, context: grpc.ServicerContext) -> analytics_pb2.Rerun:  # noqa: N802
        if not request.org_id or not request.rerun_id:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "org_id and rerun_id are required")
        found = self.reruns.get(request.org_id, request.rerun_id)
        if found is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"re-run {request.rerun_id!r} not found")
        return rerun_to_proto(found)

    def ListReruns(self, request: analytics_pb2.ListRerunsRequest, context: grpc.ServicerContext) -> analytics_pb2.ListRerunsResponse:  # noqa: N802
        if not request.org_id:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "org_id is required")
        if request.limit < 0:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "limit must not be negative")
        reruns = self.reruns.list(request.org_id, min(request.limit or 20, 100))
        return analytics_pb2.ListRerunsResponse(reruns=[rerun_to_proto(r) for r in reruns])
