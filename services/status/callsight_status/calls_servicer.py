"""CallsService servicer: calls, transcripts and the watch stream. Translates messages to
repository/cache calls and back, nothing more."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.struct_pb2 import Struct
from prometheus_client import Counter

from callsight.convert import PROTO_TO_STATUS, call_to_proto
from callsight.db.calls_repo import CallFilters, CallRepository
from callsight.status_cache import StatusCache, version
from callsight.v1 import calls_pb2, calls_pb2_grpc
from callsight_status.errors import abort
from callsight_status.watch_hub import WatcherOverflow, WatchHub

log = logging.getLogger(__name__)

CACHE_READS = Counter("callsight_status_cache_reads_total", "GetCall cache lookups", ["result"])

MAX_PAGE = 500


def _date(value: str, field: str, context: grpc.ServicerContext) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{field} must be a date as YYYY-MM-DD")
    return None


def _struct(value: dict[str, object] | None) -> Struct:
    out = Struct()
    if value:
        out.update(value)
    return out


def _require(context: grpc.ServicerContext, **fields: str) -> None:
    for name, value in fields.items():
        if not value:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{name} is required")


class CallsServicer(calls_pb2_grpc.CallsServiceServicer):
    def __init__(self, calls: CallRepository, cache: StatusCache, hub: WatchHub) -> None:
        self.calls = calls
        self.cache = cache
        self.hub = hub

    def GetCall(self, request: calls_pb2.GetCallRequest, context: grpc.ServicerContext) -> calls_pb2.Call:  # noqa: N802
        _require(context, org_id=request.org_id, call_id=request.call_id)
        cached = self.cache.get(request.org_id, request.call_id)
        if cached is not None:
            CACHE_READS.labels("hit").inc()
            return cached
        CACHE_READS.labels("miss").inc()
        record = self.calls.get(request.org_id, request.call_id)
        if record is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"call {request.call_id!r} not found")
        call = call_to_proto(record)
        self.cache.put(call)
        return call

    def ListCalls(self, request: calls_pb2.ListCallsRequest, context: grpc.ServicerContext) -> calls_pb2.ListCallsResponse:  # noqa: N802
        _require(context, org_id=request.org_id)
        if request.page_size < 0:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "page_size must not be negative")
        statuses = []
        for s in request.statuses:
            if s not in PROTO_TO_STATUS:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"unknown status {s}")
            statuses.append(PROTO_TO_STATUS[s])
        filters = CallFilters(
            statuses=statuses,
            department=request.department or None,
            operator_id=request.operator_id or None,
            customer_id=request.customer_id or None,
            call_date_from=_date(request.call_date_from, "call_date_from", context),
            call_date_to=_date(request.call_date_to, "call_date_to", context),
            query=request.query.strip() or None,
        )
        try:
            page = self.calls.list(request.org_id, filters, min(request.page_size or 50, MAX_PAGE), request.page_token)
        except ValueError as exc:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return calls_pb2.ListCallsResponse(
            calls=[call_to_proto(r) for r in page.calls],
            next_page_token=page.next_page_token,
            total_count=page.total_count,
        )

    def GetTranscript(self, request: calls_pb2.GetTranscriptRequest, context: grpc.ServicerContext) -> calls_pb2.Transcript:  # noqa: N802
        _require(context, org_id=request.org_id, call_id=request.call_id)
        record = self.calls.get(request.org_id, request.call_id)
        if record is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"call {request.call_id!r} not found")
        stored = self.calls.get_transcript(record.uid)
        if stored is None:
            abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                          f"call {request.call_id!r} has no transcript yet (status {record.status})")
        return calls_pb2.Transcript(
            org_id=request.org_id,
            call_id=request.call_id,
            language=stored["language"],
            engine=stored["engine"],
            model=stored["model"],
            speaker_mode=stored["speaker_mode"],
            duration_s=stored["duration_s"],
            text=stored["text"],
            turns=[
                calls_pb2.Turn(
                    speaker=t["speaker"], start=t["start"], end=t["end"], text=t["text"],
                    kind=t.get("kind") or "utterance", voice=t.get("voice") or "",
                    words=[calls_pb2.Word(**{**w, "speaker": w.get("speaker") or t["speaker"]}) for w in t.get("words", [])],
                )
                for t in stored["turns"]
            ],
            meta=_struct(stored.get("meta")),
        )

    async def WatchCalls(self, request: calls_pb2.WatchCallsRequest,  # noqa: N802
                         context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[calls_pb2.CallEvent]:
        """The organisation's status changes from the process's one subscription (see
        WatchHub): each call's states in order, never one older than what was sent."""
        if not request.org_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "org_id is required")
        sent: dict[str, tuple[int, int, int, int]] = {}

        def fresh(call: calls_pb2.Call) -> bool:
            key = version(call)
            if call.uid in sent and sent[call.uid] >= key:
                return False  # seen, or older than what this watcher has seen
            sent[call.uid] = key
            return True

        with self.hub.watch(request.org_id) as watcher:
            if request.send_initial:
                loop = asyncio.get_running_loop()
                page = await loop.run_in_executor(self.hub.executor, self.calls.list, request.org_id, CallFilters(), 50)
                for record in page.calls:
                    call = call_to_proto(record)
                    fresh(call)
                    yield calls_pb2.CallEvent(call=call, previous_status=call.status)
            try:
                async for event in watcher.events():
                    if event.deleted or fresh(event.call):
                        yield event
            except WatcherOverflow:
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                    "this watcher fell too far behind; start a new WatchCalls")
