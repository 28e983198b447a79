"""Plain records read from PostgreSQL, shared by the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

R = TypeVar("R", bound="FromRow")


@dataclass(frozen=True)
class FromRow:
    """Build a record from a SQLAlchemy row, taking the columns the record names."""

    @classmethod
    def from_row(cls: type[R], row: Any) -> R:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(row._mapping).items() if k in names})


@dataclass(frozen=True)
class CallRecord(FromRow):
    uid: str
    org_id: str
    call_id: str
    status: str
    status_rank: int
    error: str | None
    language: str
    operator_id: str | None
    customer_id: str | None
    department: str | None
    call_date: dt.date
    operator_channel: str | None
    duration_s: float | None
    channels: int | None
    sample_rate: int | None
    audio_format: str
    original_filename: str | None
    size_bytes: int
    audio_key: str
    generation: int
    attempts: int
    worker_id: str | None
    enqueued_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    has_transcript: bool = False
    language_source: str = "request"  # "request" | "default" | "detected"
    detected_language: str | None = None
    language_confidence: float | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)  # [{"code", "message"}]
    progress: float | None = None  # 0..1 of the current attempt's work, while Processing
    progress_step: str | None = None
    progress_at: dt.datetime | None = None
    eta_at: dt.datetime | None = None
    # how operator and customer were told apart: channels, voices (with evidence) or not at all
    speakers: dict[str, Any] | None = None
    audio_deleted_at: dt.datetime | None = None  # the recording was removed by the audio retention


@dataclass(frozen=True)
class OrgRecord(FromRow):
    id: str
    name: str
    default_language: str
    auto_generate_analytics: bool
    operator_channel: str
    redact_pii: bool
    engine: str | None
    created_at: dt.datetime
    qa_form: dict[str, Any] | None = None  # None: the default form for the call's language
    vocabulary: list[dict[str, Any]] = field(default_factory=list)  # [{"text", "reading", "language"}]
    engine_settings: dict[str, Any] | None = None  # {"amivoice": {...}}: the organisation's engine settings
    audio_retention_days: int = 0  # 0 = forever
    transcript_retention_days: int = 0  # 0 = forever


@dataclass(frozen=True)
class ApiKeyRecord(FromRow):
    id: str
    org_id: str
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    scopes: list[str] = field(default_factory=list)  # ingest | read | admin
    expires_at: dt.datetime | None = None
    created_by: str | None = None

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or dt.datetime.now(dt.UTC))
