"""Helpers of the tests of a call's life after Done: an organisation of their own (so
retention and deletion never touch another test's calls), waiting for a condition, what
S3 holds, a signed-in browserless session, and a real HTTP receiver for webhooks."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import requests

from callsight.db.users_repo import UserRepository
from tests.conftest import Api, unique
from tests.web_login import post_login

T = TypeVar("T")
PASSWORD = "quiet harbour lanterns drift 47"  # passes the password policy (zxcvbn score 3)


def wait_until(condition: Callable[[], T], timeout_s: float = 30, what: str = "the condition") -> T:
    """The first truthy value of `condition()`, polled until `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.2)


class OrgApi(Api):
    """A client of one organisation of the tests' own, with its administrator's key."""

    def __init__(self, url: str, key: str, org_id: str) -> None:
        super().__init__(url, key)
        self.org_id = org_id


class WebSession(requests.Session):
    """A signed-in browserless session: who it is, and the CSRF token its writes send."""

    email = ""
    csrf = ""


def new_org(admin: Any, api: Api, prefix: str, language: str = "en-US") -> OrgApi:
    """A fresh organisation with an administrator's key (every scope)."""
    org_id = unique(prefix)
    admin.orgs.ensure_org(org_id, org_id, language)
    key, _ = admin.orgs.create_api_key(org_id, f"{prefix} admin")
    return OrgApi(api.url, key, org_id)


def s3_keys(s3: Any, prefix: str, bucket: str = "callsight") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def call_row(admin: Any, org_id: str, call_id: str) -> dict[str, Any] | None:
    from sqlalchemy import text

    with admin.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM calls WHERE org_id = :o AND call_id = :c ORDER BY created_at DESC"),
                           {"o": org_id, "c": call_id}).first()
    return dict(row._mapping) if row else None


def uid_of(admin: Any, org_id: str, call_id: str) -> str:
    row = call_row(admin, org_id, call_id)
    assert row is not None, f"no call {call_id} in {org_id}"
    return str(row["uid"])


def sql(admin: Any, statement: str, **params: Any) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with admin.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return [dict(r._mapping) for r in result] if result.returns_rows else []


def web_session(admin: Any, url: str, org_id: str, role: str = "admin") -> tuple[WebSession, str]:
    """A signed-in session of a new user of `org_id`, and its CSRF token."""
    email = f"{unique(role)}@lifecycle.test"
    UserRepository(admin.engine).create(org_id, email, f"{role} of {org_id}", PASSWORD, role=role, locale="en")
    session = WebSession()
    r = post_login(session, url, email, PASSWORD)
    assert r.status_code == 302, r.text
    page = session.get(f"{url}/dashboard", timeout=10).text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    session.email, session.csrf = email, match.group(1)
    return session, match.group(1)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on loopback that records every POST and answers with the next
    planned status (then 200), optionally after a delay."""

    answers: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/hooks/callsight"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                payload = b'{"ok": true}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the deliverer gave up waiting

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def of_event(self, event: str, call_id: str | None = None) -> list[Received]:
        return [r for r in self.received if r.headers.get("X-Callsight-Event") == event
                and (call_id is None or r.json()["call"]["call_id"] == call_id)]
