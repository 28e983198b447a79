"""Settings: each service has one settings object, read once from the environment at start.

The same images run on a laptop and on Kubernetes; only these variables differ. Each
service declares its own class (`GatewaySettings`, `StatusSettings`, `WorkerSettings`,
`AnalysisWorkerSettings`) from the pieces below; every field names its environment
variable and says what it is for, and docs/configuration.md is generated from them.
A missing or malformed variable stops the service at start with a message naming it;
secrets are `SecretStr`, so they never show in a repr or a log line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, SettingsConfigDict

from callsight.webhook_targets import Network, parse_networks

MIB = 1024 * 1024


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it."""


def env(name: str, default: Any = ..., description: str = "", *, shown_default: str | None = None,
        **extra: Any) -> Any:
    """A field read from the environment variable `name` (its exact spelling).
    `shown_default`: how docs/configuration.md shows a default computed at start."""
    schema_extra: JsonDict | None = {"shown_default": shown_default} if shown_default is not None else None
    return Field(default, validation_alias=name, description=description, json_schema_extra=schema_extra, **extra)


def variable(info: FieldInfo) -> str:
    """The environment variable of a settings field."""
    return str(info.validation_alias)


def is_secret(info: FieldInfo) -> bool:
    return "SecretStr" in str(info.annotation)


class EnvSettings(BaseSettings):
    """A settings object built from environment variables, each field naming its own."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from the process environment, or from `environ` alone (tests, the
        launcher); an empty value counts as unset, as it does for Kubernetes' optional values."""
        source = os.environ if environ is None else environ
        try:
            return cls.model_validate({k: v for k, v in source.items() if v != ""})
        except ValidationError as exc:
            raise SettingsError(describe(exc, cls)) from None


class DatabaseSettings(EnvSettings):
    database_url: SecretStr = env("CALLSIGHT_DATABASE_URL", description=(
        "PostgreSQL, the system of record: `postgresql://user:password@host:5432/callsight`"))


class ServiceSettings(DatabaseSettings):
    """What every service reads: the system of record, logs and traces."""

    log_format: Literal["json", "text"] = env("CALLSIGHT_LOG_FORMAT", "json", "Log lines as `json` or `text`")
    bind_host: str = env("BIND_HOST", "0.0.0.0", "Address the service's ports listen on")
    otel_traces_exporter: Literal["none", "console", "otlp"] = env(
        "OTEL_TRACES_EXPORTER", "none",
        "Where traces go: `none`, `console` or `otlp` (to `OTEL_EXPORTER_OTLP_ENDPOINT`)")
    otel_service_name: str | None = env("OTEL_SERVICE_NAME", None,
                                        "Service name on traces (default: the service's own, e.g. callsight-upload)")


class CacheSettings(EnvSettings):
    redis_url: SecretStr = env("CALLSIGHT_REDIS_URL", description=(
        "Redis, the live status cache and event bus (losing it loses no data): `redis://host:6379/0`"))


class PepperSettings(EnvSettings):
    """The secret mixed into API key hashes: whoever makes or checks keys needs it."""

    api_key_pepper: SecretStr = env("CALLSIGHT_API_KEY_PEPPER", description=(
        "Secret mixed into every API key hash; changing it invalidates every key (see docs/operations.md)"))
    api_key_pepper_previous: SecretStr | None = env("CALLSIGHT_API_KEY_PEPPER_PREVIOUS", None,
                                                    "The old pepper, still accepted while keys are re-issued")

    @property
    def peppers(self) -> list[str]:
        previous = self.api_key_pepper_previous.get_secret_value() if self.api_key_pepper_previous else ""
        return [self.api_key_pepper.get_secret_value(), previous]


class InternalAuthSettings(EnvSettings):
    """The secret between the gateway and the status service (callsight.internal_auth)."""

    internal_auth_key: SecretStr = env("CALLSIGHT_INTERNAL_AUTH_KEY", description=(
        "Signs the gateway's organisation assertions to the status service (HMAC); the two must share it. "
        "At least 32 characters"), min_length=32)


def describe(exc: ValidationError, cls: type[BaseSettings]) -> str:
    """One line per bad variable, naming it; a secret's value is never repeated."""
    secret = {variable(f) for f in cls.model_fields.values() if is_secret(f)}
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "missing":
            lines.append(f"environment variable {name} is required but not set")
            continue
        got = "" if name in secret else f" (got {str(error.get('input'))[:80]!r})"
        lines.append(f"environment variable {name}: {error['msg']}{got}")
    return "; ".join(lines)


class AwsSettings(EnvSettings):
    aws_region: str = env("AWS_REGION", "us-east-1", "AWS region of S3 and SQS")


class StorageSettings(AwsSettings):
    """S3: recordings under `orgs/<org>/calls/<uid>/audio`."""

    s3_bucket: str = env("CALLSIGHT_S3_BUCKET", "callsight", "S3 bucket of the recordings")
    s3_endpoint_url: str | None = env("CALLSIGHT_S3_ENDPOINT_URL", None,
                                      "S3-compatible endpoint (SeaweedFS locally); unset = AWS")


class SqsSettings(AwsSettings):
    sqs_endpoint_url: str | None = env("CALLSIGHT_SQS_ENDPOINT_URL", None,
                                       "SQS-compatible endpoint (moto locally); unset = AWS")


class TranscriptionQueueSettings(SqsSettings):
    """SQS: the transcription job queue and its dead-letter queue."""

    sqs_queue_url: str = env("CALLSIGHT_SQS_QUEUE_URL", description="SQS queue of transcription jobs")
    sqs_dlq_url: str | None = env("CALLSIGHT_SQS_DLQ_URL", None,
                                  "Its dead-letter queue (jobs that failed CALLSIGHT_MAX_ATTEMPTS receives)")


class AnalysisQueueSettings(SqsSettings):
    """SQS: the analysis queue (re-runs), apart from transcription so neither waits for the other."""

    analysis_queue_url: str = env("CALLSIGHT_ANALYSIS_QUEUE_URL", description=(
        "SQS queue of analysis jobs (re-runs), taken by the analysis workers"))
    analysis_dlq_url: str | None = env("CALLSIGHT_ANALYSIS_DLQ_URL", None, "Its dead-letter queue")


class AttemptSettings(EnvSettings):
    max_attempts: int = env("CALLSIGHT_MAX_ATTEMPTS", 3, (
        "Receives before a job goes to the dead-letter queue (and its call is Failed, or its re-run goes on "
        "without it)"), gt=0)


class JobSettings(AttemptSettings):
    """How a transcription worker holds a job: visibility, attempts, the longest job."""

    visibility_timeout_s: int = env("CALLSIGHT_VISIBILITY_TIMEOUT_S", 300, (
        "Seconds a received job stays invisible; the worker extends it while it works"), gt=0)
    max_job_seconds: int = env("CALLSIGHT_MAX_JOB_SECONDS", 3600, (
        "The longest a worker works on one job; past it the call is Failed with that reason and the "
        "worker restarts"), gt=0)


class SummarySettings(EnvSettings):
    """The optional generative summary (an OpenAI-compatible endpoint, e.g. a self-hosted model)."""

    summary_llm_url: str | None = env("CALLSIGHT_SUMMARY_LLM_URL", None, (
        "OpenAI-compatible endpoint (`…/v1`) for a generated call overview; unset = extractive summary only "
        "(the transcript, redacted when the organisation redacts PII, is sent there)"))
    summary_llm_model: str | None = env("CALLSIGHT_SUMMARY_LLM_MODEL", None, "Model name sent to that endpoint")
    summary_llm_api_key: SecretStr | None = env("CALLSIGHT_SUMMARY_LLM_API_KEY", None,
                                                "Bearer token for that endpoint, if it needs one")
    summary_llm_timeout_s: float = env("CALLSIGHT_SUMMARY_LLM_TIMEOUT_S", 60.0,
                                       "Seconds to wait for the overview before keeping the extractive summary", gt=0)


class WebhookTargetSettings(EnvSettings):
    """Which private networks webhooks may reach (the request forgery guard): the gateway
    checks a webhook's URL when it is made, the deliverer every address it connects to."""

    webhook_allowed_networks: str = env("CALLSIGHT_WEBHOOK_ALLOWED_NETWORKS", "", (
        "Comma-separated networks webhooks may reach although not public, e.g. `127.0.0.0/8,::1/128` (the "
        "local stack); empty = public addresses only"), shown_default="empty")

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def webhook_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.webhook_allowed_networks)
