"""The public JSON of a call: what GET /api/calls/{call_id} answers and what a webhook
delivery carries, built in one place so the two never differ."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from google.protobuf.json_format import MessageToDict

from callsight.convert import PROTO_TO_STATUS
from callsight.v1 import calls_pb2


def iso(ts: Any) -> str | None:
    """A protobuf Timestamp as ISO 8601 UTC (`…Z`), None when unset."""
    if not ts.seconds and not ts.nanos:
        return None
    return str(ts.ToDatetime(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z"))


def call_url(call_id: str) -> str:
    return f"/api/calls/{quote(call_id, safe='')}"


def progress_json(call: calls_pb2.Call, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """How far a Processing call is; None in every other status."""
    if call.status != calls_pb2.CALL_STATUS_PROCESSING or not call.HasField("progress"):
        return None
    p = call.progress
    eta = iso(p.eta) if p.HasField("eta") else None
    eta_s = None
    if eta is not None:
        now = now or dt.datetime.now(dt.UTC)
        eta_s = round(max(0.0, (p.eta.ToDatetime(tzinfo=dt.UTC) - now).total_seconds()), 1)
    return {
        "fraction": round(p.fraction, 3),
        "percent": int(p.fraction * 100),
        "step": p.step or None,
        "eta": eta,
        "eta_s": eta_s,
        "started_at": iso(p.started_at) if p.HasField("started_at") else None,
        "updated_at": iso(p.updated_at) if p.HasField("updated_at") else None,
    }


def call_document(call: calls_pb2.Call, transcript_text: str | None = None) -> dict[str, Any]:
    status = PROTO_TO_STATUS.get(call.status, "Queued")
    body: dict[str, Any] = {
        "call_id": call.call_id,
        "status": status,
        "error": call.error or None,
        "language": call.language,
        "language_source": call.language_source or "request",
        "detected_language": call.detected_language or None,
        "language_confidence": round(call.language_confidence, 3) if call.detected_language else None,
        "warnings": [{"code": w.code, "message": w.message} for w in call.warnings],
        "speakers": MessageToDict(call.speakers) if call.HasField("speakers") else None,
        "operator_id": call.operator_id or None,
        "customer_id": call.customer_id or None,
        "department": call.department or None,
        "call_date": call.call_date,
        "duration_s": round(call.duration_s, 3) if call.duration_s else None,
        "channels": call.channels or None,
        "sample_rate": call.sample_rate or None,
        "format": call.audio_format,
        "file_name": call.original_filename or None,
        "size_bytes": call.size_bytes,
        "attempts": call.attempts,
        "created_at": iso(call.created_at),
        "updated_at": iso(call.updated_at),
        "progress": progress_json(call),
        "audio_deleted_at": iso(call.audio_deleted_at),
        "url": call_url(call.call_id),
        "transcript_url": None,
    }
    if status == "Done":
        body["transcript_url"] = call_url(call.call_id) + "/transcript"
    if transcript_text is not None:
        body["transcript_text"] = transcript_text
    return body
