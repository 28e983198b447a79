"""The JSON shape of a call and a transcript in the public API."""

from __future__ import annotations

from typing import Any

from flask import url_for
from google.protobuf.json_format import MessageToDict

from callsight.call_document import call_document
from callsight.v1 import calls_pb2


def call_json(call: calls_pb2.Call, transcript_text: str | None = None) -> dict[str, Any]:
    body = call_document(call, transcript_text)
    body["url"] = url_for("calls.get_call", call_id=call.call_id)
    if body["transcript_url"]:
        body["transcript_url"] = url_for("calls.get_transcript", call_id=call.call_id)
    return body


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
