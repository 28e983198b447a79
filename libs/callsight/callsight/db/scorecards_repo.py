"""ScorecardRepository: figures across calls, as PostgreSQL aggregates.

Every query is one GROUP BY over the organisation's Done calls in a date range
(the partial covering index `ix_calls_done_org_date`) joined to `analyses` by key;
the figures come from the columns the worker denormalised, never from the JSON,
except per-item pass rates, which expand the small `qa_items` object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

from callsight.db.records import CallRecord

# A figure's public name -> its SQL aggregate (analyses a, calls c)
FIGURES = {
    "calls": "count(*)",
    "analysed_calls": "count(a.call_uid) FILTER (WHERE a.error IS NULL)",
    "mean_qa_score": "avg(a.qa_score)",
    "mean_operator_talk_share": "avg(a.operator_talk_share)",
    "mean_silence_s": "avg(a.silence_total_s)",
    "mean_longest_silence_s": "avg(a.longest_silence_s)",
    "mean_interruptions": "avg(a.interruptions)",
    "mean_customer_sentiment_change": "avg(a.customer_sentiment_change)",
}
SORTABLE = ("operator_id", *FIGURES)
SCOPED_COLUMNS = ", ".join(f"a.{c}" for c in (
    "call_uid", "error", "qa_score", "qa_items", "operator_talk_share", "silence_total_s", "longest_silence_s",
    "interruptions", "customer_sentiment_change"))
MAX_CALLS = 500


@dataclass(frozen=True)
class ScopeFilter:
    org_id: str
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    department: str | None = None


@dataclass
class Figures:
    calls: int = 0
    analysed_calls: int = 0
    mean_qa_score: float | None = None
    mean_operator_talk_share: float | None = None
    mean_silence_s: float | None = None
    mean_longest_silence_s: float | None = None
    mean_interruptions: float | None = None
    mean_customer_sentiment_change: float | None = None
    items: list[dict[str, Any]] = field(default_factory=list)  # item_id, evaluated, passed, pass_rate


def _where(scope: ScopeFilter, params: dict[str, Any]) -> str:
    params["org_id"] = scope.org_id
    # a call being deleted counts nowhere (and the partial index covers exactly these rows)
    clauses = ["c.org_id = :org_id", "c.status = 'Done'", "c.deleted_at IS NULL"]
    if scope.date_from:
        clauses.append("c.call_date >= :date_from")
        params["date_from"] = scope.date_from
    if scope.date_to:
        clauses.append("c.call_date <= :date_to")
        params["date_to"] = scope.date_to
    if scope.department:
        clauses.append("c.department = :department")
        params["department"] = scope.department
    return " AND ".join(clauses)


def _figures(row: Any) -> Figures:
    m = row._mapping
    values: dict[str, Any] = {name: (float(m[name]) if m[name] is not None and name.startswith("mean_") else m[name])
                              for name in FIGURES}
    return Figures(**values)


class ScorecardRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _grouped(self, key: str, scope: ScopeFilter, extra_where: str = "", extra: dict[str, Any] | None = None,
                 order: str = "k") -> dict[Any, Figures]:
        """Figures per value of the SQL expression `key`, item pass rates included, in one statement.

        The scoped calls are read once (index-only on `ix_calls_done_org_date`, then each
        analysis from the covering `ix_analyses_figures`) into a materialised CTE that both
        aggregates read. Item rates first count identical `qa_items` objects per group
        (a form has few items, so there are few distinct outcomes) and only then expand them.
        """
        params: dict[str, Any] = dict(extra or {})
        where = _where(scope, params) + extra_where
        select_figures = ", ".join(f"{sql} AS {name}" for name, sql in FIGURES.items())
        sql = f"""
            WITH scoped AS MATERIALIZED (
                SELECT {key} AS k, {SCOPED_COLUMNS} FROM calls c
                LEFT JOIN analyses a ON a.call_uid = c.uid WHERE {where}),
            figures AS (SELECT k, {select_figures} FROM scoped a GROUP BY k),
            outcomes AS (SELECT k, qa_items, count(*) AS n FROM scoped
                         WHERE jsonb_typeof(qa_items) = 'object' GROUP BY k, qa_items),
            item_rates AS (
                SELECT k, i.key AS item_id,
                       sum(n) FILTER (WHERE jsonb_typeof(i.value) = 'boolean') AS evaluated,
                       sum(n) FILTER (WHERE i.value = 'true'::jsonb) AS passed
                FROM outcomes CROSS JOIN LATERAL jsonb_each(qa_items) i GROUP BY k, i.key),
            items AS (SELECT k, jsonb_object_agg(item_id, jsonb_build_array(evaluated, coalesce(passed, 0))) AS items
                      FROM item_rates WHERE evaluated > 0 GROUP BY k)
            SELECT figures.*, items.items FROM figures LEFT JOIN items USING (k) ORDER BY {order}"""
        groups: dict[Any, Figures] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(text(sql), params):
                figures = groups[row.k] = _figures(row)
                figures.items = [
                    {"item_id": item_id, "evaluated": int(evaluated), "passed": int(passed),
                     "pass_rate": int(passed) / int(evaluated)}
                    for item_id, (evaluated, passed) in sorted((row.items or {}).items())
                ]
        return groups

    def operator_scorecards(self, scope: ScopeFilter, sort: str = "operator_id",
                            descending: bool = False) -> list[tuple[str, Figures]]:
        if sort not in SORTABLE:
            raise ValueError(f"sort must be one of {', '.join(SORTABLE)}")
        direction = "DESC" if descending else "ASC"
        order = f"{'k' if sort == 'operator_id' else sort} {direction} NULLS LAST, k"
        groups = self._grouped("c.operator_id", scope, " AND c.operator_id IS NOT NULL", order=order)
        return list(groups.items())

    def operator_scorecard(self, scope: ScopeFilter, operator_id: str) -> tuple[Figures, list[tuple[str, Figures]]]:
        """The operator's figures over the range and the same figures per ISO week."""
        only = " AND c.operator_id = :operator_id"
        params = {"operator_id": operator_id}
        total = self._grouped("c.operator_id", scope, only, params).get(operator_id, Figures())
        weeks = self._grouped("to_char(c.call_date, 'IYYY-\"W\"IW')", scope, only, params)
        return total, list(weeks.items())

    def department_analytics(self, scope: ScopeFilter) -> list[tuple[str, int, Figures]]:
        groups = self._grouped("coalesce(c.department, '')", scope)
        params: dict[str, Any] = {}
        sql = (f"SELECT coalesce(c.department, '') AS k, count(DISTINCT c.operator_id) AS n FROM calls c "
               f"WHERE {_where(scope, params)} GROUP BY 1")
        with self.engine.connect() as conn:
            operators = {row.k: int(row.n) for row in conn.execute(text(sql), params)}
        return [(k, operators.get(k, 0), f) for k, f in groups.items()]

    def calls(self, scope: ScopeFilter, *, operator_id: str | None = None, customer_id: str | None = None,
              any_status: bool = False, newest_first: bool = True, limit: int = MAX_CALLS) -> list[dict[str, Any]]:
        """Calls with their headline figures, for an operator's page or a customer's history."""
        params: dict[str, Any] = {"limit": limit}
        where = _where(scope, params)
        if any_status:
            where = where.replace(" AND c.status = 'Done'", "")
        if operator_id is not None:
            where += " AND c.operator_id = :operator_id"
            params["operator_id"] = operator_id
        if customer_id is not None:
            where += " AND c.customer_id = :customer_id"
            params["customer_id"] = customer_id
        direction = "DESC" if newest_first else "ASC"
        sql = ("SELECT c.call_id, c.status, c.call_date, c.operator_id, c.customer_id, c.department, c.duration_s, "
               "a.qa_score, a.operator_talk_share, a.silence_total_s AS silence_s, a.interruptions, "
               "a.customer_sentiment_change FROM calls c LEFT JOIN analyses a ON a.call_uid = c.uid "
               f"WHERE {where} ORDER BY c.call_date {direction}, c.created_at {direction} LIMIT :limit")
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(text(sql), params)]

    def done_calls(self, scope: ScopeFilter, operator_id: str | None = None, limit: int = 10_000) -> list[CallRecord]:
        """Done calls to analyse again (the re-run for a filtered set), oldest first."""
        params: dict[str, Any] = {"limit": limit}
        where = _where(scope, params)
        if operator_id:
            where += " AND c.operator_id = :operator_id"
            params["operator_id"] = operator_id
        sql = f"SELECT c.* FROM calls c WHERE {where} ORDER BY c.call_date, c.uid LIMIT :limit"
        with self.engine.connect() as conn:
            return [CallRecord.from_row(row) for row in conn.execute(text(sql), params)]
