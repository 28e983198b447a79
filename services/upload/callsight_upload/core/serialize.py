"""The JSON shape of a call and a transcript in the public API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from google.protobuf.json_format import MessageToDict

from callsight.convert import PROTO_TO_STATUS
from callsight.v1 import calls_pb2


def _iso(ts: Any) -> str | None:
    if not ts.seconds and not ts.nanos:
        return None
    return ts.ToDatetime(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


def call_json(call: calls_pb2.Call, transcript_text: str | None = None) -> dict[str, Any]:
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
        "created_at": _iso(call.created_at),
        "updated_at": _iso(call.updated_at),
        "progress": progress_json(call),
        "url": url_for("calls.get_call", call_id=call.call_id),
        "transcript_url": None,
    }
    if status == "Done":
        body["transcript_url"] = url_for("calls.get_transcript", call_id=call.call_id)
    if transcript_text is not None:
        body["transcript_text"] = transcript_text
    return body


def progress_json(call: calls_pb2.Call, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """How far a Processing call is; None in every other status."""
    if call.status != calls_pb2.CALL_STATUS_PROCESSING or not call.HasField("progress"):
        return None
    p = call.progress
    eta = _iso(p.eta) if p.HasField("eta") else None
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
        "started_at": _iso(p.started_at) if p.HasField("started_at") else None,
        "updated_at": _iso(p.updated_at) if p.HasField("updated_at") else None,
    }


def transcript_json(t: calls_pb2.Transcript) -> dict[str, Any]:
    return {
        "call_id": t.call_id,
        "language": t.language,
        "engine": t.engine,
        "model": t.model,
        "speaker_mode": t.speaker_mode,
        "duration_s": round(t.duration_s, 3),
        "text": t.text,
        "turns": [
            {
                "speaker": turn.speaker,
                **({"voice": turn.voice} if turn.voice else {}),
                "kind": turn.kind or "utterance",
                "start": round(turn.start, 3),
                "end": round(turn.end, 3),
                "text": turn.text,
                "words": [
                    {"text": w.text, "speaker": w.speaker or turn.speaker, "start": round(w.start, 3),
                     "end": round(w.end, 3), "confidence": round(w.confidence, 3)}
                    for w in turn.words
                ],
            }
            for turn in t.turns
        ],
        "meta": MessageToDict(t.meta) if t.HasField("meta") else {},
    }
