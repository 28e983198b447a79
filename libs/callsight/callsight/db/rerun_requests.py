"""RerunRequests: the gateway's write of a re-run request, and nothing else.

Like the call row at ingest, the request row is an outbox: the analysis workers'
producer finds it and enqueues its calls in batches at a drip rate, outside any HTTP
request. Its progress is read over gRPC from the status deployment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine

from callsight.db.schema import analysis_reruns


@dataclass(frozen=True)
class RerunFilter:
    """Which Done calls of the organisation a re-run covers (None = any)."""

    department: str | None = None
    operator_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


class RerunRequests:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, org_id: str, scope: RerunFilter, expected_calls: int) -> str:
        """Record the request; `expected_calls` is the count when asked (the producer
        replaces it by the number it enqueued)."""
        rerun_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(analysis_reruns.insert().values(
                id=rerun_id, org_id=org_id, department=scope.department, operator_id=scope.operator_id,
                date_from=scope.date_from, date_to=scope.date_to, total=expected_calls,
            ))
        return rerun_id
