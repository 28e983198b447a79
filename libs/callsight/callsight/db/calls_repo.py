"""CallRepository: the reads of calls and transcripts (the status service's read models,
the worker's own lookups) and the worker's guarded writes. The gateway's writes (the
new call at ingest, a retry: the outbox) are in `call_outbox`.

Status changes are guarded in SQL so they only move forward (Queued -> Processing ->
Done | Failed) and only for the current generation of a call: a late duplicate job
can never move a call backwards or write a second result.
"""

from __future__ import annotations

import base64
import builtins
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, exists, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from callsight.db.records import CallRecord
from callsight.db.schema import STATUS_RANK, calls, transcripts


@dataclass
class CallFilters:
    statuses: list[str] = field(default_factory=list)
    department: str | None = None
    operator_id: str | None = None
    customer_id: str | None = None
    call_date_from: dt.date | None = None
    call_date_to: dt.date | None = None
    query: str | None = None


@dataclass(frozen=True)
class LanguageDecision:
    """The language a call was transcribed in, and why (see the worker's language step)."""

    language: str
    source: str  # "request" | "default" | "detected"
    detected: str | None = None  # what the audio sounds like, when detection ran
    confidence: float | None = None


@dataclass(frozen=True)
class CallPage:
    calls: list[CallRecord]
    next_page_token: str
    total_count: int


# A call whose deletion was asked for is gone for every reader and every worker at once; the
# lifecycle worker removes its rows and objects later (call_deletions).
LIVE = calls.c.deleted_at.is_(None)


def _has_transcript() -> Any:
    return exists().where(transcripts.c.call_uid == calls.c.uid).label("has_transcript")


def _encode_token(created_at: dt.datetime, uid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at.isoformat(), uid]).encode()).decode()


def _decode_token(token: str) -> tuple[dt.datetime, str]:
    try:
        created, uid = json.loads(base64.urlsafe_b64decode(token.encode()))
        return dt.datetime.fromisoformat(created), str(uid)
    except Exception as exc:
        raise ValueError("page_token is not valid") from exc


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CallRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- reads ---------------------------------------------------------------------

    def get(self, org_id: str, call_id: str) -> CallRecord | None:
        q = select(calls, _has_transcript()).where(calls.c.org_id == org_id, calls.c.call_id == call_id, LIVE)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return CallRecord.from_row(row) if row else None

    def get_by_uid(self, uid: str) -> CallRecord | None:
        q = select(calls, _has_transcript()).where(calls.c.uid == uid, LIVE)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return CallRecord.from_row(row) if row else None

    def list(self, org_id: str, filters: CallFilters, page_size: int = 50, page_token: str = "") -> CallPage:
        conditions: list[Any] = [calls.c.org_id == org_id, LIVE]
        if filters.statuses:
            conditions.append(calls.c.status.in_(filters.statuses))
        if filters.department:
            conditions.append(calls.c.department == filters.department)
        if filters.operator_id:
            conditions.append(calls.c.operator_id == filters.operator_id)
        if filters.customer_id:
            conditions.append(calls.c.customer_id == filters.customer_id)
        if filters.call_date_from:
            conditions.append(calls.c.call_date >= filters.call_date_from)
        if filters.call_date_to:
            conditions.append(calls.c.call_date <= filters.call_date_to)
        if filters.query:
            pattern = f"%{_escape_like(filters.query)}%"
            conditions.append(
                exists().where(
                    transcripts.c.call_uid == calls.c.uid, transcripts.c.text.ilike(pattern, escape="\\")
                )
            )
        where = and_(*conditions)
        q = select(calls, _has_transcript()).where(where)
        if page_token:
            created, uid = _decode_token(page_token)
            q = q.where(
                or_(calls.c.created_at < created, and_(calls.c.created_at == created, calls.c.uid < uid))
            )
        q = q.order_by(calls.c.created_at.desc(), calls.c.uid.desc()).limit(page_size + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            total = conn.execute(select(func.count()).select_from(calls).where(where)).scalar_one()
        records = [CallRecord.from_row(r) for r in rows[:page_size]]
        token = _encode_token(records[-1].created_at, records[-1].uid) if len(rows) > page_size else ""
        return CallPage(calls=records, next_page_token=token, total_count=int(total))

    def changed_since(self, org_id: str, since: dt.datetime, limit: int = 200) -> builtins.list[CallRecord]:
        """Calls changed (or whose progress moved) after `since`, oldest change first (the
        watch stream's fallback)."""
        changed = func.greatest(calls.c.updated_at, calls.c.progress_at)
        q = (
            select(calls, _has_transcript())
            .where(calls.c.org_id == org_id, changed > since, LIVE)
            .order_by(changed)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [CallRecord.from_row(r) for r in conn.execute(q).all()]

    def get_transcript(self, call_uid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(transcripts).where(transcripts.c.call_uid == call_uid)).first()
        return dict(row._mapping) if row else None

    # ---- the worker's writes (guarded, idempotent) ---------------------------------

    def claim(self, uid: str, generation: int, worker_id: str) -> CallRecord | None:
        """Take a call for processing; None if it is finished or belongs to a newer generation."""
        q = (
            update(calls)
            .where(calls.c.uid == uid, calls.c.generation == generation, calls.c.status_rank < 2, LIVE)
            .values(
                status="Processing",
                status_rank=STATUS_RANK["Processing"],
                attempts=calls.c.attempts + 1,
                worker_id=worker_id,
                heartbeat_at=func.now(),
                started_at=func.now(),  # this attempt's: what its progress and ETA are measured from
                updated_at=func.now(),
                progress=0.0, progress_step="download", progress_at=func.now(), eta_at=None,
            )
            .returning(*calls.c)
        )
        with self.engine.begin() as conn:
            row = conn.execute(q).first()
        return CallRecord.from_row(row) if row else None

    def heartbeat(self, uid: str, generation: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(calls)
                .where(calls.c.uid == uid, calls.c.generation == generation, calls.c.status == "Processing")
                .values(heartbeat_at=func.now())
            )

    def set_progress(self, uid: str, generation: int, attempt: int, fraction: float, step: str,
                     eta: dt.datetime | None) -> CallRecord | None:
        """Record how far this attempt is; None when the call is no longer this attempt's to
        report on (finished, retried, or taken over by another worker after a redelivery)."""
        q = (
            update(calls)
            .where(calls.c.uid == uid, calls.c.generation == generation, calls.c.attempts == attempt,
                   calls.c.status == "Processing")
            .values(progress=fraction, progress_step=step, progress_at=func.now(), eta_at=eta)
            .returning(*calls.c)
        )
        with self.engine.begin() as conn:
            row = conn.execute(q).first()
        return CallRecord.from_row(row) if row else None

    def set_media_info(self, uid: str, duration_s: float, channels: int, sample_rate: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(calls)
                .where(calls.c.uid == uid)
                .values(duration_s=duration_s, channels=channels, sample_rate=sample_rate, updated_at=func.now())
            )

    def complete(
        self, uid: str, generation: int, transcript: dict[str, Any], s3_key: str | None,
        language: LanguageDecision | None = None, warnings: builtins.list[dict[str, str]] | None = None,
        speakers: dict[str, Any] | None = None,
    ) -> CallRecord | None:
        """Store the transcript and mark Done in one transaction; None if already final.

        `s3_key`: None since the transcript's S3 copy (which nothing read) was dropped.
        `language`: what the worker decided the call's language is (and why); `warnings`:
        what a supervisor should know about the result. Both are written with Done.
        """
        values = {
            "call_uid": uid,
            "language": transcript["language"],
            "engine": transcript["engine"],
            "model": transcript["model"],
            "speaker_mode": transcript["speaker_mode"],
            "duration_s": transcript["duration_s"],
            "text": transcript["text"],
            "turns": transcript["turns"],
            "meta": transcript.get("meta"),
            "s3_key": s3_key,
        }
        # the call's remote engine jobs are done with: nothing to resume any more
        call_values: dict[str, Any] = {"status": "Done", "status_rank": 2, "error": None, "finished_at": func.now(),
                                       "updated_at": func.now(), "engine_jobs": {}}
        if language is not None:
            call_values.update(language=language.language, language_source=language.source,
                               detected_language=language.detected, language_confidence=language.confidence)
        if warnings is not None:
            call_values["warnings"] = warnings
        if speakers is not None:
            call_values["speakers"] = speakers
        with self.engine.begin() as conn:
            row = conn.execute(
                update(calls)
                .where(calls.c.uid == uid, calls.c.generation == generation, calls.c.status_rank < 2, LIVE)
                .values(**call_values)
                .returning(*calls.c)
            ).first()
            if row is None:
                return None
            values["org_id"] = row.org_id
            stmt = pg_insert(transcripts).values(**values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[transcripts.c.call_uid],
                    set_={k: stmt.excluded[k] for k in values if k != "call_uid"} | {"updated_at": func.now()},
                )
            )
        return CallRecord.from_row(row)

    # ---- remote engine jobs: a restarted or redelivered job resumes them -----------

    def engine_job(self, uid: str, key: str) -> str | None:
        """The id of the remote job an engine started for this call under `key`, if any."""
        q = select(calls.c.engine_jobs[key]["job_id"].astext).where(calls.c.uid == uid)
        with self.engine.connect() as conn:
            value = conn.execute(q).scalar()
        return str(value) if value else None

    def save_engine_job(self, uid: str, key: str, job_id: str) -> None:
        entry = {key: {"job_id": job_id, "saved_at": dt.datetime.now(dt.UTC).isoformat()}}
        with self.engine.begin() as conn:
            conn.execute(update(calls).where(calls.c.uid == uid)
                         .values(engine_jobs=calls.c.engine_jobs.op("||")(literal(entry, JSONB))))

    def forget_engine_job(self, uid: str, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(calls).where(calls.c.uid == uid)
                         .values(engine_jobs=calls.c.engine_jobs.op("-")(key)))

    def set_speaker_roles(self, uid: str, transcript: dict[str, Any], speakers: dict[str, Any],
                          warnings: builtins.list[dict[str, str]]) -> None:
        """A supervisor's role swap on a Done call: its turns, transcript meta and the call's
        speakers and warnings, in one transaction; status unchanged."""
        with self.engine.begin() as conn:
            conn.execute(update(transcripts).where(transcripts.c.call_uid == uid).values(
                text=transcript["text"], turns=transcript["turns"], meta=transcript.get("meta"),
                updated_at=func.now()))
            conn.execute(update(calls).where(calls.c.uid == uid).values(
                speakers=speakers, warnings=warnings, updated_at=func.now()))

    def replace_transcript_text(self, uid: str, text: str, turns: builtins.list[dict[str, Any]]) -> None:
        """Overwrite a stored transcript's words (a re-analysis that redacted PII); status unchanged."""
        with self.engine.begin() as conn:
            conn.execute(update(transcripts).where(transcripts.c.call_uid == uid)
                         .values(text=text, turns=turns, updated_at=func.now()))

    def fail(self, uid: str, generation: int | None, reason: str) -> CallRecord | None:
        """Mark Failed with a reason a person can read; None if already final."""
        conditions = [calls.c.uid == uid, calls.c.status_rank < 2, LIVE]
        if generation is not None:
            conditions.append(calls.c.generation == generation)
        with self.engine.begin() as conn:
            row = conn.execute(
                update(calls)
                .where(*conditions)
                .values(status="Failed", status_rank=2, error=reason[:2000], finished_at=func.now(),
                        updated_at=func.now())
                .returning(*calls.c)
            ).first()
        return CallRecord.from_row(row) if row else None

    # ---- the reconciler: nothing lost, nothing stuck --------------------------------

    def claim_unqueued(
        self, requeue_after_s: int, lost_before: dt.datetime | None, grace_s: int = 5, limit: int = 50
    ) -> Iterator[tuple[Any, CallRecord]]:
        """Queued calls whose job never reached SQS (or was lost), locked for re-enqueueing.

        Yields (connection, call) inside one transaction per batch: the caller sends the
        job and the row's `enqueued_at` is updated before the transaction commits.
        """
        lost = [calls.c.enqueued_at < lost_before] if lost_before else []
        q = (
            select(calls)
            .where(
                calls.c.status == "Queued",
                LIVE,
                or_(
                    and_(calls.c.enqueued_at.is_(None),
                         calls.c.created_at < func.now() - text(f"interval '{int(grace_s)} seconds'")),
                    calls.c.enqueued_at < func.now() - text(f"interval '{int(requeue_after_s)} seconds'"),
                    *lost,
                ),
            )
            .order_by(calls.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            for row in conn.execute(q).all():
                yield conn, CallRecord.from_row(row)

    def stale_processing(self, stale_after_s: int, lost_before: dt.datetime | None, limit: int = 50) -> builtins.list[CallRecord]:
        """Processing calls whose worker stopped sending heartbeats (or whose job was lost)."""
        cutoff = calls.c.heartbeat_at < func.now() - text(f"interval '{int(stale_after_s)} seconds'")
        conditions = [cutoff]
        if lost_before:
            conditions.append(and_(calls.c.heartbeat_at < lost_before,
                                   calls.c.heartbeat_at < func.now() - text("interval '30 seconds'")))
        q = select(calls).where(calls.c.status == "Processing", LIVE, or_(*conditions)).limit(limit)
        with self.engine.connect() as conn:
            return [CallRecord.from_row(r) for r in conn.execute(q).all()]

    def touch_requeued(self, conn: Any, uid: str) -> None:
        conn.execute(update(calls).where(calls.c.uid == uid).values(enqueued_at=func.now()))

    def mark_requeued_processing(self, uid: str, generation: int) -> None:
        """Give a stale Processing call a fresh heartbeat window after its job is re-sent."""
        with self.engine.begin() as conn:
            conn.execute(
                update(calls)
                .where(calls.c.uid == uid, calls.c.generation == generation, calls.c.status == "Processing")
                .values(heartbeat_at=func.now(), enqueued_at=func.now())
            )
