"""boto3 clients for S3 and SQS, pointed at AWS or at a compatible local server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config


def _client(service: str, endpoint_url: str | None, region: str, keys: Mapping[str, str] | None = None,
            **config: Any) -> Any:
    """`keys` (access key id and secret) when given; else boto3's usual chain (env, IRSA)."""
    cfg = Config(
        connect_timeout=config.pop("connect_timeout", 3),
        read_timeout=config.pop("read_timeout", 30),
        retries={"max_attempts": config.pop("max_attempts", 3), "mode": "standard"},
        s3={"addressing_style": "path"} if service == "s3" else None,
        **config,
    )
    session = boto3.session.Session(**(keys or {}))
    return session.client(service, endpoint_url=endpoint_url, region_name=region, config=cfg)


def s3_client(endpoint_url: str | None, region: str, **config: Any) -> Any:
    return _client("s3", endpoint_url, region, **config)


def sqs_client(endpoint_url: str | None, region: str, **config: Any) -> Any:
    return _client("sqs", endpoint_url, region, **config)


def clients_from_env(env: Mapping[str, str]) -> tuple[Any, Any]:
    """Clients configured from a mapping (not the process environment): the launcher's case."""
    region = env.get("AWS_REGION", "us-east-1")
    keys = None
    if env.get("AWS_ACCESS_KEY_ID"):
        keys = {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
    return (
        _client("s3", env.get("CALLSIGHT_S3_ENDPOINT_URL") or None, region, keys),
        _client("sqs", env.get("CALLSIGHT_SQS_ENDPOINT_URL") or None, region, keys),
    )
