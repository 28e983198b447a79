"""AnalysisRepository: one analysis per call (upserted), with the figures aggregates read.

The full result stays in `result` (JSONB); the figures scorecards group by are copied
into columns when it is written, so aggregates never open the JSON.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, null, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from callsight.db.records import FromRow
from callsight.db.schema import analyses

DENORMALISED = (
    "qa_score", "qa_items", "operator_talk_share", "silence_total_s", "longest_silence_s", "interruptions",
    "customer_sentiment_start", "customer_sentiment_end", "customer_sentiment_change",
)


@dataclass(frozen=True)
class AnalysisRecord(FromRow):
    call_uid: str
    org_id: str
    analysis_version: str
    form_fingerprint: str | None
    result: dict[str, Any]
    qa_score: float | None
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def denormalise(result: dict[str, Any]) -> dict[str, Any]:
    """The columns copied out of an `analyse_call` result (None where it has no value)."""
    metrics = result.get("metrics") or {}
    scorecard = result.get("scorecard") or {}
    interruptions = metrics.get("interruptions")
    return {
        "qa_score": scorecard.get("score"),
        "qa_items": {i["id"]: i.get("passed") for i in scorecard.get("items", []) if "id" in i} or None,
        "operator_talk_share": _get(metrics, "speakers", "operator", "talk_share"),
        "silence_total_s": metrics.get("silence_time_s"),
        "longest_silence_s": _get(metrics, "longest_gap", "duration_s"),
        "interruptions": len(interruptions) if isinstance(interruptions, list) else None,
        "customer_sentiment_start": _get(result, "sentiment", "customer_start"),
        "customer_sentiment_end": _get(result, "sentiment", "customer_end"),
        "customer_sentiment_change": _get(result, "sentiment", "customer_change"),
    }


class AnalysisRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(self, call_uid: str, org_id: str, result: dict[str, Any]) -> None:
        """Store (or replace) the call's analysis; a repeated job leaves one row."""
        values = {
            "analysis_version": result.get("analysis_version", ""),
            "form_fingerprint": _get(result, "config", "form", "fingerprint"),
            "result": result,
            "error": None,
            **denormalise(result),
        }
        self._upsert(call_uid, org_id, values)

    def record_error(self, call_uid: str, org_id: str, analysis_version: str, error: str) -> None:
        """The analysis failed: keep the reason (no figures, so aggregates leave the call out)."""
        values: dict[str, Any] = dict.fromkeys(DENORMALISED)
        values.update(analysis_version=analysis_version, form_fingerprint=None, error=error[:2000],
                      result={"analysis_version": analysis_version, "error": error[:2000]})
        self._upsert(call_uid, org_id, values)

    def _upsert(self, call_uid: str, org_id: str, values: dict[str, Any]) -> None:
        if values.get("qa_items") is None:
            values["qa_items"] = null()  # SQL NULL, not the JSON value null
        stmt = pg_insert(analyses).values(call_uid=call_uid, org_id=org_id, **values)
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[analyses.c.call_uid],
                set_={k: stmt.excluded[k] for k in values} | {"updated_at": func.now()},
            ))

    def get(self, org_id: str, call_uid: str) -> AnalysisRecord | None:
        q = select(analyses).where(analyses.c.org_id == org_id, analyses.c.call_uid == call_uid)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return AnalysisRecord.from_row(row) if row else None
