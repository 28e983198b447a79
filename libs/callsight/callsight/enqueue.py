"""Jobs for the queues: a call row into a transcription job (the gateway, retry, the
reconciler), a call into an analysis job (a re-run)."""

from __future__ import annotations

import datetime as dt

from callsight.db.records import CallRecord
from callsight.jobqueue import JobQueue
from callsight.v1 import job_pb2


def job_for(call: CallRecord, trace_context: dict[str, str] | None = None) -> job_pb2.TranscriptionJob:
    return job_pb2.TranscriptionJob(
        call_uid=call.uid,
        org_id=call.org_id,
        generation=call.generation,
        audio_key=call.audio_key,
        enqueued_at=dt.datetime.now(dt.UTC).isoformat(),
        trace_context=trace_context or {},
    )


def analysis_job(call_uid: str, org_id: str, rerun_id: str = "",
                 trace_context: dict[str, str] | None = None, operator_voice: str = "",
                 requested_by: str = "") -> job_pb2.AnalysisJob:
    """Analyse the call's stored transcript again (after naming `operator_voice` the
    operator, when given); its status is not touched."""
    return job_pb2.AnalysisJob(
        call_uid=call_uid,
        org_id=org_id,
        rerun_id=rerun_id,
        enqueued_at=dt.datetime.now(dt.UTC).isoformat(),
        trace_context=trace_context or {},
        operator_voice=operator_voice,
        requested_by=requested_by,
    )


def enqueue_call(queue: JobQueue[job_pb2.TranscriptionJob], call: CallRecord, trace_context: dict[str, str] | None = None) -> str:
    return queue.send(job_for(call, trace_context))
