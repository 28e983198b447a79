"""Plain records read from PostgreSQL, shared by the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class CallRecord:
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

    @classmethod
    def from_row(cls, row: Any) -> CallRecord:
        m = dict(row._mapping)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in m.items() if k in names})


@dataclass(frozen=True)
class OrgRecord:
    id: str
    name: str
    default_language: str
    auto_generate_analytics: bool
    operator_channel: str
    redact_pii: bool
    engine: str | None
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> OrgRecord:
        m = dict(row._mapping)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in m.items() if k in names})


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    org_id: str
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Any) -> ApiKeyRecord:
        m = dict(row._mapping)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in m.items() if k in names})
