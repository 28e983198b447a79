"""The call's row as an `EngineJobStore`: remote job ids live with the call in PostgreSQL.

PostgreSQL, not the worker or Redis, because the point is surviving the worker: the
next worker to take the call's job reads the id and resumes the remote job.
"""

from __future__ import annotations

from callsight.db.calls_repo import CallRepository


class CallEngineJobs:
    def __init__(self, calls: CallRepository, call_uid: str) -> None:
        self.calls = calls
        self.call_uid = call_uid

    def load(self, key: str) -> str | None:
        return self.calls.engine_job(self.call_uid, key)

    def save(self, key: str, job_id: str) -> None:
        self.calls.save_engine_job(self.call_uid, key, job_id)

    def forget(self, key: str) -> None:
        self.calls.forget_engine_job(self.call_uid, key)
