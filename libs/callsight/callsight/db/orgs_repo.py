"""OrgRepository: organisations and their API keys."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from callsight import apikeys
from callsight.db.records import ApiKeyRecord, OrgRecord
from callsight.db.schema import api_keys, organizations


class ApiKeyExpired(Exception):
    """The key is right but past its expiry date."""

    def __init__(self, key: ApiKeyRecord) -> None:
        super().__init__(f"API key {key.prefix} expired")
        self.key = key


# last_used_at is written at most this often per key, so a busy key costs no write per request
LAST_USED_RESOLUTION = "interval '60 seconds'"


class OrgRepository:
    def __init__(self, engine: Engine, peppers: list[str] | None = None) -> None:
        """`peppers`: the current API key pepper first; only the gateway and the admin
        command, which make and check keys, need them."""
        self.engine = engine
        self.peppers = [p for p in peppers or [] if p]

    def ensure_org(self, org_id: str, name: str, default_language: str = "ja-JP") -> OrgRecord:
        with self.engine.begin() as conn:
            conn.execute(
                pg_insert(organizations)
                .values(id=org_id, name=name, default_language=default_language)
                .on_conflict_do_nothing(index_elements=[organizations.c.id])
            )
        org = self.get(org_id)
        assert org is not None
        return org

    def get(self, org_id: str) -> OrgRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(organizations).where(organizations.c.id == org_id)).first()
        return OrgRecord.from_row(row) if row else None

    def update_settings(self, org_id: str, **values: object) -> OrgRecord | None:
        allowed = {"name", "default_language", "auto_generate_analytics", "operator_channel", "redact_pii", "engine"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown organisation settings: {sorted(unknown)}")
        with self.engine.begin() as conn:
            conn.execute(update(organizations).where(organizations.c.id == org_id).values(**values))
        return self.get(org_id)

    def set_retention(self, org_id: str, audio_days: int, transcript_days: int) -> OrgRecord | None:
        """Days to keep recordings, and transcripts with their analyses (0 = forever);
        validated by the caller (callsight.retention)."""
        with self.engine.begin() as conn:
            conn.execute(update(organizations).where(organizations.c.id == org_id).values(
                audio_retention_days=audio_days, transcript_retention_days=transcript_days))
        return self.get(org_id)

    def set_qa_form(self, org_id: str, form: dict[str, Any] | None) -> OrgRecord | None:
        """Store the organisation's QA form (validated by the caller); None restores the default."""
        with self.engine.begin() as conn:
            conn.execute(update(organizations).where(organizations.c.id == org_id).values(qa_form=form))
        return self.get(org_id)

    def set_vocabulary(self, org_id: str, terms: list[dict[str, Any]]) -> OrgRecord | None:
        """Replace the organisation's custom vocabulary (validated by the caller: callsight.vocabulary)."""
        with self.engine.begin() as conn:
            conn.execute(update(organizations).where(organizations.c.id == org_id).values(vocabulary=terms))
        return self.get(org_id)

    def set_engine_settings(self, org_id: str, engine: str, settings: dict[str, Any] | None) -> OrgRecord | None:
        """Store the organisation's settings for one engine (validated by the caller); None: the defaults."""
        current = func.coalesce(organizations.c.engine_settings, text("'{}'::jsonb"))
        value = current.op("-")(engine) if settings is None else current.op("||")(literal({engine: settings}, JSONB))
        with self.engine.begin() as conn:
            conn.execute(update(organizations).where(organizations.c.id == org_id).values(engine_settings=value))
        return self.get(org_id)

    # ---- API keys ----------------------------------------------------------------

    def create_api_key(self, org_id: str, name: str, scopes: Sequence[str] = apikeys.SCOPES,
                       expires_at: dt.datetime | None = None, created_by: str | None = None,
                       ) -> tuple[str, ApiKeyRecord]:
        """Returns the plaintext key (to show once) and the stored record. `scopes`: what the
        key may do (all of them unless said); `expires_at`: None = never."""
        unknown = set(scopes) - set(apikeys.SCOPES)
        if unknown or not scopes:
            raise ValueError(f"scopes must be a non-empty subset of {apikeys.SCOPES}")
        new = apikeys.generate(self.peppers[0])
        ordered = [s for s in apikeys.SCOPES if s in scopes]
        with self.engine.begin() as conn:
            row = conn.execute(
                api_keys.insert()
                .values(id=str(uuid.uuid4()), org_id=org_id, name=name, prefix=new.prefix, key_hash=new.key_hash,
                        scopes=ordered, expires_at=expires_at, created_by=created_by)
                .returning(*api_keys.c)
            ).one()
        return new.plaintext, ApiKeyRecord.from_row(row)

    def authenticate(self, presented: str) -> ApiKeyRecord | None:
        """The active key matching `presented`, or None (unknown, wrong or revoked); raises
        ApiKeyExpired for a right key past its expiry (the caller says so)."""
        prefix = apikeys.prefix_of(presented)
        if prefix is None:
            return None
        with self.engine.begin() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
            if row is None or row.revoked_at is not None:
                return None
            if not apikeys.matches(presented, row.key_hash, self.peppers):
                return None
            record = ApiKeyRecord.from_row(row)
            if record.expired():
                raise ApiKeyExpired(record)
            conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == row.id,
                    (api_keys.c.last_used_at.is_(None))
                    | (api_keys.c.last_used_at < func.now() - text(LAST_USED_RESOLUTION)),
                )
                .values(last_used_at=func.now())
            )
        return ApiKeyRecord.from_row(row)

    def get_api_key(self, org_id: str, key_id: str) -> ApiKeyRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.org_id == org_id, api_keys.c.id == key_id)).first()
        return ApiKeyRecord.from_row(row) if row else None

    def list_api_keys(self, org_id: str) -> list[ApiKeyRecord]:
        q = select(api_keys).where(api_keys.c.org_id == org_id).order_by(api_keys.c.created_at.desc())
        with self.engine.connect() as conn:
            return [ApiKeyRecord.from_row(r) for r in conn.execute(q).all()]

    def revoke_api_key(self, org_id: str, key_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.org_id == org_id, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=func.now())
            )
        return bool(result.rowcount)
