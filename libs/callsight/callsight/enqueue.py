"""Turning a call row into a job on SQS: one place for the gateway, retry and the reconciler."""

from __future__ import annotations

import datetime as dt

from callsight.db.records import CallRecord
from callsight.jobqueue import JobQueue
from callsight.v1 import job_pb2


def job_for(call: CallRecord, trace_context: dict[str, str] | None = None, kind: str = "transcribe") -> job_pb2.TranscriptionJob:
    return job_pb2.TranscriptionJob(
        call_uid=call.uid,
        org_id=call.org_id,
        generation=call.generation,
        audio_key=call.audio_key,
        enqueued_at=dt.datetime.now(dt.UTC).isoformat(),
        trace_context=trace_context or {},
        kind=kind,
    )


def analysis_job(call_uid: str, org_id: str, trace_context: dict[str, str] | None = None) -> job_pb2.TranscriptionJob:
    """Analyse the call's stored transcript again; its status is not touched."""
    return job_pb2.TranscriptionJob(
        call_uid=call_uid,
        org_id=org_id,
        enqueued_at=dt.datetime.now(dt.UTC).isoformat(),
        trace_context=trace_context or {},
        kind="analyse",
    )


def enqueue_call(queue: JobQueue, call: CallRecord, trace_context: dict[str, str] | None = None) -> str:
    return queue.send(job_for(call, trace_context))
