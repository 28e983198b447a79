"""Conversions between database records and the protobuf contract."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from callsight.db.records import CallRecord
from callsight.v1 import calls_pb2

STATUS_TO_PROTO = {
    "Queued": calls_pb2.CALL_STATUS_QUEUED,
    "Processing": calls_pb2.CALL_STATUS_PROCESSING,
    "Done": calls_pb2.CALL_STATUS_DONE,
    "Failed": calls_pb2.CALL_STATUS_FAILED,
}
PROTO_TO_STATUS = {v: k for k, v in STATUS_TO_PROTO.items()}


def timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def call_to_proto(record: CallRecord) -> calls_pb2.Call:
    call = calls_pb2.Call(
        org_id=record.org_id,
        call_id=record.call_id,
        uid=record.uid,
        status=STATUS_TO_PROTO[record.status],
        error=record.error or "",
        language=record.language,
        operator_id=record.operator_id or "",
        customer_id=record.customer_id or "",
        department=record.department or "",
        call_date=record.call_date.isoformat(),
        duration_s=record.duration_s or 0.0,
        channels=record.channels or 0,
        sample_rate=record.sample_rate or 0,
        audio_format=record.audio_format,
        original_filename=record.original_filename or "",
        size_bytes=record.size_bytes,
        has_transcript=record.has_transcript or record.status == "Done",
        attempts=record.attempts,
        language_source=record.language_source or "request",
        detected_language=record.detected_language or "",
        language_confidence=record.language_confidence or 0.0,
        warnings=[calls_pb2.CallWarning(code=str(w.get("code", "")), message=str(w.get("message", "")))
                  for w in record.warnings or []],
        audio_key=record.audio_key,
        generation=record.generation,
    )
    if record.speakers:
        call.speakers.update(record.speakers)
    created, updated = timestamp(record.created_at), timestamp(record.updated_at)
    if created:
        call.created_at.CopyFrom(created)
    if updated:
        call.updated_at.CopyFrom(updated)
    if record.status == "Processing" and record.progress is not None:
        call.progress.CopyFrom(progress_to_proto(record.progress, record.progress_step or "", record.eta_at,
                                                 record.progress_at, record.started_at))
    audio_deleted = timestamp(record.audio_deleted_at)
    if audio_deleted:
        call.audio_deleted_at.CopyFrom(audio_deleted)
    return call


def progress_to_proto(fraction: float, step: str, eta: dt.datetime | None, measured_at: dt.datetime | None,
                      started_at: dt.datetime | None) -> calls_pb2.CallProgress:
    progress = calls_pb2.CallProgress(fraction=min(1.0, max(0.0, fraction)), step=step)
    for name, value in (("eta", eta), ("updated_at", measured_at), ("started_at", started_at)):
        ts = timestamp(value)
        if ts:
            getattr(progress, name).CopyFrom(ts)
    return progress
