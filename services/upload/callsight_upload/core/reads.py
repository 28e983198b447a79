"""The gateway's one path to what others own: calls, transcripts, analyses and scorecards,
read over gRPC from the status deployment (CallsService and AnalyticsService).

Every method names its RPC, carries the trace context and turns a gRPC failure into
an `ApiError` with the right HTTP status, so no view handles gRPC itself. An outage
of the status service is a 503, never an empty answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc

from callsight.telemetry import grpc_metadata
from callsight.v1 import analytics_pb2, analytics_pb2_grpc, calls_pb2, calls_pb2_grpc
from callsight_upload.core.errors import ApiError

log = logging.getLogger(__name__)
Reply = TypeVar("Reply")

GRPC_TO_HTTP = {
    grpc.StatusCode.NOT_FOUND: (404, "not_found"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_request"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "not_ready"),
    grpc.StatusCode.UNAVAILABLE: (503, "status_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "status_unavailable"),
}
UNAVAILABLE_MESSAGE = "the status service is unavailable right now; try again shortly"


def api_error(exc: grpc.RpcError) -> ApiError:
    """The HTTP answer for a failed read; an unexpected failure's details (an exception
    text, SQL) go to the log, never to the client."""
    code = exc.code()
    status, name = GRPC_TO_HTTP.get(code, (502, "status_error"))
    detail = exc.details() or "status service error"
    if status == 503:
        detail = UNAVAILABLE_MESSAGE
    elif status == 502:
        log.error("status service error %s: %s", code, detail)
        detail = "the status service failed to answer; try again shortly"
    return ApiError(status, name, detail)


class WatchStream:
    """A WatchCalls call: its events, a broken stream as ApiError, `cancel` from any thread."""

    def __init__(self, call: Any) -> None:
        self.call = call

    def __iter__(self) -> Iterator[calls_pb2.CallEvent]:
        try:
            yield from self.call
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise api_error(exc) from None

    def cancel(self) -> None:
        self.call.cancel()


class Reads:
    def __init__(self, channel: grpc.Channel, timeout_s: float = 10.0) -> None:
        self.calls = calls_pb2_grpc.CallsServiceStub(channel)
        self.analytics = analytics_pb2_grpc.AnalyticsServiceStub(channel)
        self.timeout_s = timeout_s

    def _call(self, method: Callable[..., Reply], message: Any) -> Reply:
        try:
            return method(message, timeout=self.timeout_s, metadata=grpc_metadata())
        except grpc.RpcError as exc:
            raise api_error(exc) from None

    # ---- CallsService ----------------------------------------------------------------

    def get_call(self, org_id: str, call_id: str) -> calls_pb2.Call:
        return self._call(self.calls.GetCall, calls_pb2.GetCallRequest(org_id=org_id, call_id=call_id))

    def list_calls(self, request: calls_pb2.ListCallsRequest) -> calls_pb2.ListCallsResponse:
        return self._call(self.calls.ListCalls, request)

    def get_transcript(self, org_id: str, call_id: str) -> calls_pb2.Transcript:
        return self._call(self.calls.GetTranscript, calls_pb2.GetTranscriptRequest(org_id=org_id, call_id=call_id))

    def watch_calls(self, org_id: str) -> WatchStream:
        """The organisation's status changes as they happen, until cancelled; raises
        ApiError (503) when the stream breaks."""
        return WatchStream(self.calls.WatchCalls(calls_pb2.WatchCallsRequest(org_id=org_id, send_initial=False),
                                                 metadata=grpc_metadata()))

    # ---- AnalyticsService ------------------------------------------------------------

    def get_analysis(self, org_id: str, call_id: str) -> analytics_pb2.Analysis:
        return self._call(self.analytics.GetAnalysis, analytics_pb2.GetAnalysisRequest(org_id=org_id, call_id=call_id))

    def find_analysis(self, org_id: str, call_id: str) -> dict[str, Any] | None:
        """The analysis document, or None when the call has none (or it failed); an
        outage still raises, so it is never shown as "no analysis"."""
        try:
            stored = self.get_analysis(org_id, call_id)
        except ApiError as exc:
            if exc.status in (404, 409):
                return None
            raise
        if stored.error or not stored.result_json:
            return None
        result = json.loads(stored.result_json)
        return result if isinstance(result, dict) else None

    def operator_scorecards(self, request: analytics_pb2.ListOperatorScorecardsRequest,
                            ) -> analytics_pb2.ListOperatorScorecardsResponse:
        return self._call(self.analytics.ListOperatorScorecards, request)

    def operator_scorecard(self, request: analytics_pb2.GetOperatorScorecardRequest,
                           ) -> analytics_pb2.GetOperatorScorecardResponse:
        return self._call(self.analytics.GetOperatorScorecard, request)

    def department_analytics(self, request: analytics_pb2.ListDepartmentAnalyticsRequest,
                             ) -> analytics_pb2.ListDepartmentAnalyticsResponse:
        return self._call(self.analytics.ListDepartmentAnalytics, request)

    def customer_calls(self, request: analytics_pb2.ListCustomerCallsRequest) -> analytics_pb2.ListCustomerCallsResponse:
        return self._call(self.analytics.ListCustomerCalls, request)

    def get_rerun(self, org_id: str, rerun_id: str) -> analytics_pb2.Rerun:
        return self._call(self.analytics.GetRerun, analytics_pb2.GetRerunRequest(org_id=org_id, rerun_id=rerun_id))

    def list_reruns(self, org_id: str, limit: int) -> analytics_pb2.ListRerunsResponse:
        return self._call(self.analytics.ListReruns, analytics_pb2.ListRerunsRequest(org_id=org_id, limit=limit))
