"""JobQueue: transcription jobs on SQS. Messages carry ids only (see proto/job.proto)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from callsight.v1 import job_pb2


class QueueUnavailable(RuntimeError):
    """SQS could not be reached or refused the request."""


@dataclass(frozen=True)
class ReceivedJob:
    job: job_pb2.TranscriptionJob
    receipt_handle: str
    receive_count: int
    message_id: str
    trace_context: dict[str, str]


def encode(job: job_pb2.TranscriptionJob) -> str:
    return base64.b64encode(job.SerializeToString()).decode()


def decode(body: str) -> job_pb2.TranscriptionJob:
    job = job_pb2.TranscriptionJob()
    job.ParseFromString(base64.b64decode(body))
    return job


class JobQueue:
    def __init__(self, client: Any, queue_url: str, dlq_url: str | None = None) -> None:
        self.client = client
        self.queue_url = queue_url
        self.dlq_url = dlq_url

    def send(self, job: job_pb2.TranscriptionJob) -> str:
        attributes = {
            k: {"DataType": "String", "StringValue": v} for k, v in job.trace_context.items() if v
        }
        try:
            sent = self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=encode(job), MessageAttributes=attributes
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(str(exc)) from exc
        return str(sent["MessageId"])

    def receive(self, wait_s: int = 20) -> ReceivedJob | None:
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
            job = decode(m["Body"])
        except Exception:  # an undecodable message can never succeed: hand it back as poison
            job = job_pb2.TranscriptionJob()
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
