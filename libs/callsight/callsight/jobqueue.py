"""JobQueue: jobs on SQS, one queue per kind of work. Messages carry ids only
(see proto/callsight/v1/job.proto): `TranscriptionJob` on the transcription queue,
`AnalysisJob` on the analysis queue."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from botocore.exceptions import BotoCoreError, ClientError

from callsight.v1 import job_pb2

Job = TypeVar("Job", job_pb2.TranscriptionJob, job_pb2.AnalysisJob)
BATCH = 10  # SQS takes at most ten messages per SendMessageBatch


class QueueUnavailable(RuntimeError):
    """SQS could not be reached or refused the request."""


@dataclass(frozen=True)
class ReceivedJob(Generic[Job]):
    job: Job
    receipt_handle: str
    receive_count: int
    message_id: str
    trace_context: dict[str, str]


def encode(job: job_pb2.TranscriptionJob | job_pb2.AnalysisJob) -> str:
    return base64.b64encode(job.SerializeToString()).decode()


@overload
def decode(body: str) -> job_pb2.TranscriptionJob: ...


@overload
def decode(body: str, kind: type[Job]) -> Job: ...


def decode(body: str, kind: type[job_pb2.TranscriptionJob | job_pb2.AnalysisJob] = job_pb2.TranscriptionJob,
           ) -> job_pb2.TranscriptionJob | job_pb2.AnalysisJob:
    job = kind()
    job.ParseFromString(base64.b64decode(body))
    return job


def _attributes(job: job_pb2.TranscriptionJob | job_pb2.AnalysisJob) -> dict[str, dict[str, str]]:
    return {k: {"DataType": "String", "StringValue": v} for k, v in job.trace_context.items() if v}


class JobQueue(Generic[Job]):
    @overload
    def __init__(self: JobQueue[job_pb2.TranscriptionJob], client: Any, queue_url: str,
                 dlq_url: str | None = None) -> None: ...

    @overload
    def __init__(self, client: Any, queue_url: str, dlq_url: str | None, kind: type[Job]) -> None: ...

    def __init__(self, client: Any, queue_url: str, dlq_url: str | None = None,
                 kind: type[Any] = job_pb2.TranscriptionJob) -> None:
        """`kind`: the message class of this queue (transcription jobs unless named)."""
        self.client = client
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self.kind: type[Job] = kind

    def send(self, job: Job) -> str:
        try:
            sent = self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=encode(job), MessageAttributes=_attributes(job)
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(str(exc)) from exc
        return str(sent["MessageId"])

    def send_batch(self, jobs: Sequence[Job]) -> None:
        """Send up to ten jobs in one request; raises unless every one was accepted (a
        resend of the lot is harmless: jobs are idempotent)."""
        if not jobs:
            return
        if len(jobs) > BATCH:
            raise ValueError(f"at most {BATCH} jobs per batch")
        entries = [{"Id": str(i), "MessageBody": encode(job), "MessageAttributes": _attributes(job)}
                   for i, job in enumerate(jobs)]
        try:
            sent = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(str(exc)) from exc
        if sent.get("Failed"):
            raise QueueUnavailable(f"{len(sent['Failed'])} of {len(jobs)} jobs refused: {sent['Failed'][0]}")

    def receive(self, wait_s: int = 20) -> ReceivedJob[Job] | None:
        try:
            got = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=wait_s,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(str(exc)) from exc
        messages = got.get("Messages") or []
        if not messages:
            return None
        m = messages[0]
        trace = {k: v.get("StringValue", "") for k, v in (m.get("MessageAttributes") or {}).items()}
        try:
            job = decode(m["Body"], self.kind)
        except Exception:  # an undecodable message can never succeed: hand it back as poison
            job = self.kind()
        return ReceivedJob(
            job=job,
            receipt_handle=m["ReceiptHandle"],
            receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            message_id=m["MessageId"],
            trace_context=trace,
        )

    def delete(self, receipt_handle: str) -> None:
        try:
            self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(str(exc)) from exc

    def extend(self, receipt_handle: str, seconds: int) -> None:
        try:
            self.client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(str(exc)) from exc

    def release(self, receipt_handle: str) -> None:
        """Make the message visible again now (e.g. on shutdown) so another worker takes it."""
        self.extend(receipt_handle, 0)

    def depth(self, url: str | None = None) -> dict[str, int]:
        try:
            attrs = self.client.get_queue_attributes(
                QueueUrl=url or self.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "CreatedTimestamp",
                ],
            )["Attributes"]
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(str(exc)) from exc
        return {k: int(float(v)) for k, v in attrs.items()}
