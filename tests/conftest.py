"""One real local stack per test session, on random loopback ports (the launcher `make up` uses)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from callsight_stack.stack import Stack


class Api:
    """A client of the public HTTP API, as a CRM integration would use it."""

    def __init__(self, url: str, key: str, ops_url: str = "") -> None:
        self.url = url
        self.key = key
        self.ops_url = ops_url  # the gateway's /readyz and /metrics (not on the public port)

    def upload(self, path: Path | None = None, key: str | None = None, content: bytes | None = None,
               filename: str | None = None, **fields: str) -> requests.Response:
        headers = {"X-API-Key": self.key if key is None else key}
        assert content is not None or path is not None, "upload a path or content"
        data = content if content is not None else path.read_bytes()  # type: ignore[union-attr]  # the assert above: path is set here
        name = filename if filename is not None else (path.name if path else "recording.wav")
        return requests.post(f"{self.url}/api/ingest/upload", headers=headers,
                             files={"file": (name, data)}, data=fields, timeout=60)

    def get(self, path: str, key: str | None = None, **params: Any) -> requests.Response:
        return requests.get(f"{self.url}{path}", headers={"X-API-Key": self.key if key is None else key},
                            params=params, timeout=30)

    def send(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> requests.Response:
        """Any request with the key (or another): DELETE, PUT, POST with `json=`..."""
        headers = {"X-API-Key": self.key if key is None else key, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def call(self, call_id: str) -> dict[str, Any]:
        r = self.get(f"/api/calls/{call_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_final(self, call_id: str, timeout_s: float = 180) -> dict[str, Any]:
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            call = self.call(call_id)
            if not seen or seen[-1] != call["status"]:
                seen.append(call["status"])
            if call["status"] in ("Done", "Failed"):
                call["_seen"] = seen
                return call
            time.sleep(0.3)
        raise AssertionError(f"call {call_id} not finished after {timeout_s} s (statuses seen: {seen})")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-test-", dir="/tmp"))
    run_dir.chmod(0o755)
    s = Stack(run_dir, workers=2, random_ports=True, env_overrides={
        "CALLSIGHT_VISIBILITY_TIMEOUT_S": "30",
        "CALLSIGHT_WHISPER_THREADS": "1",
        # tests poll hard with one key; the limit itself is tested with its own app
        "CALLSIGHT_RATE_LIMIT_PER_MINUTE": "100000",
        # every test signs in from 127.0.0.1: the per-address lock is tested on a gateway of its own
        "CALLSIGHT_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
        # short clips still show several progress reports; a quiet stream beats soon
        "CALLSIGHT_PROGRESS_INTERVAL_S": "0.5",
        "CALLSIGHT_SSE_HEARTBEAT_S": "2",
        # a call's life after Done in seconds, not hours: deletions, the retention reaper, webhook retries
        "CALLSIGHT_DELETION_INTERVAL_S": "0.5",
        "CALLSIGHT_RETENTION_INTERVAL_S": "2",
        "CALLSIGHT_WEBHOOK_POLL_S": "0.3",
        "CALLSIGHT_WEBHOOK_TIMEOUT_S": "2",
        "CALLSIGHT_WEBHOOK_RETRY_BASE_S": "0.5",
        "CALLSIGHT_WEBHOOK_RETRY_MAX_DELAY_S": "2",
        "CALLSIGHT_WEBHOOK_RETRY_FOR_S": "15",
    })
    try:
        s.start()
    except Exception:
        for log in sorted((run_dir / "logs").glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    s.start_supervisor()
    yield s
    s.stop()
    if not os.environ.get("CALLSIGHT_KEEP_TEST_STACK"):
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack.env["CALLSIGHT_URL"], stack.env["CALLSIGHT_API_KEY"],
               stack.env.get("CALLSIGHT_GATEWAY_OPS_URL", stack.env["CALLSIGHT_URL"]))


@pytest.fixture(scope="session")
def admin(stack: Stack):
    """Direct access to the system of record, for setting up organisations and keys."""
    from callsight.db.call_outbox import CallOutbox
    from callsight.db.calls_repo import CallRepository
    from callsight.db.engine import make_engine
    from callsight.db.orgs_repo import OrgRepository

    engine = make_engine(stack.env["CALLSIGHT_DATABASE_URL"], pool_size=2)

    class Admin:
        orgs = OrgRepository(engine, [stack.env["CALLSIGHT_API_KEY_PEPPER"]])
        calls = CallRepository(engine)
        outbox = CallOutbox(engine)

    Admin.engine = engine  # type: ignore[attr-defined]  # a class used as a namespace of repositories
    return Admin


@pytest.fixture(scope="session")
def s3(stack: Stack):
    from callsight.aws import clients_from_env

    return clients_from_env(stack.env)[0]


@pytest.fixture(scope="session")
def sqs(stack: Stack):
    from callsight.aws import clients_from_env

    return clients_from_env(stack.env)[1]


def count_audio_objects(s3: Any, prefix: str = "orgs/demo/", bucket: str = "callsight") -> int:
    """Recordings stored under `prefix`: what an upload must leave exactly one of, or none."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sum(1 for page in pages for obj in page.get("Contents", []) if obj["Key"].endswith("/audio"))


def unique(prefix: str) -> str:
    return f"{prefix}-{os.urandom(4).hex()}"
