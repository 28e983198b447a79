"""Create the bucket and the job queues (with their dead-letter queue) if missing.

On AWS these come from infrastructure code; locally the launcher calls this with the
environment it gives the services.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from botocore.exceptions import ClientError

from callsight.aws import clients_from_env


def ensure_bucket(env: Mapping[str, str]) -> None:
    s3, _ = clients_from_env(env)
    bucket = env["CALLSIGHT_S3_BUCKET"]
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


def ensure_queues(env: Mapping[str, str], name: str, dlq_name: str, max_receive_count: int | None = None) -> tuple[str, str]:
    """The job queue redrives to the DLQ after `CALLSIGHT_MAX_ATTEMPTS` receives."""
    _, sqs = clients_from_env(env)
    attempts = max_receive_count or int(env.get("CALLSIGHT_MAX_ATTEMPTS", "3"))
    visibility = env.get("CALLSIGHT_VISIBILITY_TIMEOUT_S", "300")
    dlq_url = sqs.create_queue(QueueName=dlq_name, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {
        "VisibilityTimeout": visibility,
        "ReceiveMessageWaitTimeSeconds": "20",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(attempts)}),
    }
    try:
        queue_url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError:
        # exists with other attributes (settings changed): bring it in line
        queue_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=attributes)
    return queue_url, dlq_url
