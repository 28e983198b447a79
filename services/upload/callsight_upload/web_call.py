"""One call in the web app: metadata, the recording (HTTP Range proxied from S3), the
transcript as turns, and the analytics when they exist."""

from __future__ import annotations

import json
import re
from typing import Any

import grpc
from flask import Blueprint, Response, render_template, request, stream_with_context
from sqlalchemy import select

from callsight.convert import STATUS_TO_PROTO
from callsight.db.schema import analyses
from callsight.storage import StorageUnavailable
from callsight.v1 import status_service_pb2
from callsight_upload import sessions
from callsight_upload.auth import services
from callsight_upload.calls import rpc
from callsight_upload.errors import ApiError
from callsight_upload.serialize import transcript_json
from callsight_upload.sniff import CONTENT_TYPES
from callsight_upload.web import page_error, web_call

try:
    from callsight.v1 import analytics_pb2
except ImportError:  # contracts without call analytics
    analytics_pb2 = None  # type: ignore[assignment]

bp = Blueprint("web_call", __name__)
bp.register_error_handler(ApiError, page_error)
# one range only: what <audio> asks for; anything else gets the whole object
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
CHUNK = 64 * 1024


def read_analysis(org_id: str, call_id: str, call_uid: str) -> dict[str, Any] | None:
    """The call's analysis from the status service (GetAnalysis), or None when there is none.

    Where the status service does not serve GetAnalysis yet (an older deployment), the
    gateway reads the `analyses` table, the system of record, directly.
    """
    stub = services().status
    if analytics_pb2 is not None and hasattr(stub, "GetAnalysis"):
        try:
            stored = stub.GetAnalysis(analytics_pb2.GetAnalysisRequest(org_id=org_id, call_id=call_id), timeout=10)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                return None
        else:
            if stored.error or not stored.result_json:
                return None
            result = json.loads(stored.result_json)
            return result if isinstance(result, dict) else None
    query = select(analyses.c.result).where(analyses.c.call_uid == call_uid, analyses.c.org_id == org_id)
    with services().engine.connect() as conn:
        row = conn.execute(query).scalar()
    return row if isinstance(row, dict) else None


def timeline(analysis: dict[str, Any] | None, duration: float) -> dict[str, Any]:
    """Silences and interruptions as fractions of the call, for the timeline bar."""
    if not analysis or duration <= 0:
        return {"silences": [], "interruptions": []}
    metrics = analysis.get("metrics") or {}
    return {
        "silences": [{"start": s["start"], "end": s["end"], "left": s["start"] / duration,
                      "width": (s["end"] - s["start"]) / duration} for s in metrics.get("silences", [])],
        "interruptions": [{"at": i["at"], "by": i["by"], "left": i["at"] / duration}
                          for i in metrics.get("interruptions", [])],
    }


@bp.get("/calls/<call_id>")
@sessions.login_required
def call_view(call_id: str):  # type: ignore[no-untyped-def]
    org_id = sessions.current_user().org_id  # type: ignore[union-attr]
    stub = services().status
    call = rpc(stub.GetCall, status_service_pb2.GetCallRequest(org_id=org_id, call_id=call_id))
    transcript = None
    analysis = None
    if call.status == STATUS_TO_PROTO["Done"]:
        transcript = transcript_json(rpc(stub.GetTranscript,
                                         status_service_pb2.GetTranscriptRequest(org_id=org_id, call_id=call_id)))
        analysis = read_analysis(org_id, call_id, call.uid)
        if analysis and analysis.get("redacted_transcript"):
            # with PII redaction on, people see the masked words the analysis used
            masked = analysis["redacted_transcript"].get("turns") or []
            if len(masked) == len(transcript["turns"]):
                for turn, red in zip(transcript["turns"], masked, strict=True):
                    turn["text"] = red.get("text", turn["text"])
    duration = (transcript or {}).get("duration_s") or call.duration_s or 0.0
    chart_data = {"duration": duration, "analysis": _chart_view(analysis)}
    return render_template("call.html", call=web_call(call), transcript=transcript, analysis=analysis,
                           timeline=timeline(analysis, duration), chart_data=chart_data)


def _chart_view(analysis: dict[str, Any] | None) -> dict[str, Any] | None:
    """Only what the charts draw, so the page does not carry the whole result twice."""
    if not analysis:
        return None
    speakers = (analysis.get("metrics") or {}).get("speakers") or {}
    sentiment = analysis.get("sentiment") or {}
    return {
        "talk": {name: round(s.get("talk_time_s") or 0, 1) for name, s in speakers.items()},
        "sentiment": [{"speaker": t["speaker"], "start": t["start"], "score": t["score"]}
                      for t in sentiment.get("turns", [])],
    }


@bp.get("/web/calls/<call_id>/audio")
@sessions.login_required
def audio(call_id: str):  # type: ignore[no-untyped-def]
    record = services().calls.get(sessions.current_user().org_id, call_id)  # type: ignore[union-attr]
    if record is None:
        raise ApiError(404, "not_found", f"call {call_id!r} not found")
    wanted = request.headers.get("Range", "").strip()
    byte_range = wanted if RANGE.match(wanted) else None
    if byte_range and int(RANGE.match(wanted).group(1)) >= record.size_bytes:  # type: ignore[union-attr]
        return Response(status=416, headers={"Content-Range": f"bytes */{record.size_bytes}"})
    try:
        body, obj = services().audio.open(record.audio_key, byte_range)
    except StorageUnavailable:
        raise ApiError(503, "storage_unavailable", "recording storage is unavailable right now") from None
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(obj["ContentLength"]),
        "Content-Type": CONTENT_TYPES.get(record.audio_format, "application/octet-stream"),
        "Cache-Control": "private, max-age=300",
    }
    status = 200
    if byte_range and obj.get("ContentRange"):
        headers["Content-Range"] = obj["ContentRange"]
        status = 206

    def chunks():  # type: ignore[no-untyped-def]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    return Response(stream_with_context(chunks()), status=status, headers=headers, direct_passthrough=True)
