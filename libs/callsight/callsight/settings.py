"""One settings object for every service, read once from the environment.

The same images run on a laptop and on Kubernetes; only these variables differ.
A missing required variable stops the service at start with a message naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

MIB = 1024 * 1024


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it."""


def _get(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    value = env.get(name, "")
    if value == "":
        if default is None:
            raise SettingsError(f"environment variable {name} is required but not set")
        return default
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _get(env, name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be an integer, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name, "true" if default else "false").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"environment variable {name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    s3_bucket: str
    s3_endpoint_url: str | None
    aws_region: str
    sqs_queue_url: str
    sqs_dlq_url: str | None
    sqs_endpoint_url: str | None
    status_addr: str
    api_key_pepper: str
    api_key_pepper_previous: str | None
    secret_key: str
    max_upload_bytes: int
    visibility_timeout_s: int
    max_attempts: int
    max_job_seconds: int
    engine: str
    model_dir: str | None
    whisper_threads: int
    requeue_after_s: int
    rate_limit_per_minute: int
    log_format: str
    port: int
    ops_port: int
    # web sign-in sessions: idle and absolute lifetimes; Secure cookies behind HTTPS
    session_idle_s: int = 8 * 3600
    session_absolute_s: int = 7 * 24 * 3600
    cookie_secure: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        engine = _get(e, "CALLSIGHT_ENGINE", "whisper")
        if engine not in ("whisper", "amivoice"):
            raise SettingsError(f"CALLSIGHT_ENGINE must be 'whisper' or 'amivoice', got {engine!r}")
        return cls(
            database_url=_get(e, "CALLSIGHT_DATABASE_URL"),
            redis_url=_get(e, "CALLSIGHT_REDIS_URL"),
            s3_bucket=_get(e, "CALLSIGHT_S3_BUCKET", "callsight"),
            s3_endpoint_url=e.get("CALLSIGHT_S3_ENDPOINT_URL") or None,
            aws_region=_get(e, "AWS_REGION", e.get("AWS_DEFAULT_REGION") or "us-east-1"),
            sqs_queue_url=_get(e, "CALLSIGHT_SQS_QUEUE_URL"),
            sqs_dlq_url=e.get("CALLSIGHT_SQS_DLQ_URL") or None,
            sqs_endpoint_url=e.get("CALLSIGHT_SQS_ENDPOINT_URL") or None,
            status_addr=_get(e, "CALLSIGHT_STATUS_ADDR", "127.0.0.1:50051"),
            api_key_pepper=_get(e, "CALLSIGHT_API_KEY_PEPPER"),
            api_key_pepper_previous=e.get("CALLSIGHT_API_KEY_PEPPER_PREVIOUS") or None,
            secret_key=_get(e, "CALLSIGHT_SECRET_KEY", "") or _get(e, "CALLSIGHT_API_KEY_PEPPER"),
            max_upload_bytes=_int(e, "CALLSIGHT_MAX_UPLOAD_BYTES", 500 * MIB),
            visibility_timeout_s=_int(e, "CALLSIGHT_VISIBILITY_TIMEOUT_S", 300),
            max_attempts=_int(e, "CALLSIGHT_MAX_ATTEMPTS", 3),
            max_job_seconds=_int(e, "CALLSIGHT_MAX_JOB_SECONDS", 3600),
            engine=engine,
            model_dir=e.get("CALLSIGHT_MODEL_DIR") or None,
            whisper_threads=_int(e, "CALLSIGHT_WHISPER_THREADS", max(1, (os.cpu_count() or 2) // 2)),
            requeue_after_s=_int(e, "CALLSIGHT_REQUEUE_AFTER_S", 900),
            rate_limit_per_minute=_int(e, "CALLSIGHT_RATE_LIMIT_PER_MINUTE", 600),
            log_format=_get(e, "CALLSIGHT_LOG_FORMAT", "json"),
            port=_int(e, "PORT", 8080),
            ops_port=_int(e, "OPS_PORT", 9090),
            session_idle_s=_int(e, "CALLSIGHT_SESSION_IDLE_S", 8 * 3600),
            session_absolute_s=_int(e, "CALLSIGHT_SESSION_ABSOLUTE_S", 7 * 24 * 3600),
            cookie_secure=_bool(e, "CALLSIGHT_COOKIE_SECURE", False),
        )

    def redacted(self) -> dict[str, object]:
        """Settings safe to log: secrets and credentials masked."""
        secret = {"api_key_pepper", "api_key_pepper_previous", "secret_key"}
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in secret and value:
                value = "***"
            elif f.name == "database_url" and isinstance(value, str) and "@" in value:
                value = value.split("://", 1)[0] + "://***@" + value.rsplit("@", 1)[1]
            out[f.name] = value
        return out
