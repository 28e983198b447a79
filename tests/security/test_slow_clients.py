"""Issue 18, row 2, against the real gateway (`python -m callsight_upload`, one worker
process): clients that send a body's first bytes and stop, and one address opening
connection after connection, hold nothing for long and take nothing from others."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import count_audio_objects
from tests.security.hostile import closed_by_server, own_gateway, read_response, request_head

pytestmark = pytest.mark.integration
READ_TIMEOUT_S = 4
PER_CLIENT = 40


@pytest.fixture(scope="module")
def gateway(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with own_gateway(stack, tmp_path_factory.mktemp("slow"), CALLSIGHT_BODY_READ_TIMEOUT_S=str(READ_TIMEOUT_S),
                     CALLSIGHT_MAX_CONNECTIONS_PER_CLIENT=str(PER_CLIENT)) as gw:
        yield gw


def stalled_login(url: str, source: str = "127.0.0.1") -> socket.socket:
    """POST /login declaring 1,000 bytes and sending 7 (the attack of row 2)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10, source_address=(source, 0))
    head = request_head("POST", "/login", f"{parts.hostname}:{parts.port}",
                        {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "1000"})
    sock.sendall(head + b"email=a")
    return sock


def healthz_s(url: str, source: str = "127.0.0.1") -> float:
    parts = urlsplit(url)
    t0 = time.perf_counter()
    with socket.create_connection((parts.hostname, parts.port), timeout=10, source_address=(source, 0)) as sock:
        sock.sendall(request_head("GET", "/healthz", f"{parts.hostname}:{parts.port}", {"Connection": "close"}))
        status, _, _ = read_response(sock, 10)
    assert status == 200
    return time.perf_counter() - t0


def test_bodies_that_stop_arriving_are_cut_off_and_healthz_stays_fast(gateway: dict[str, str]) -> None:
    stalled = [stalled_login(gateway["url"]) for _ in range(36)]
    try:
        time.sleep(0.5)  # every stalled request is inside the app, reading its body
        worst = max(healthz_s(gateway["url"], "127.0.0.2") for _ in range(10))
        assert worst < 1.0, f"/healthz took {worst:.2f} s beside 36 stalled bodies"
        t0 = time.monotonic()
        for sock in stalled:
            status, headers, _ = read_response(sock, READ_TIMEOUT_S + 10)
            assert status == 408 and headers.get("connection") == "close"
            assert closed_by_server(sock, 5)
        assert time.monotonic() - t0 < READ_TIMEOUT_S + 10
    finally:
        for sock in stalled:
            sock.close()


def test_an_upload_that_stops_arriving_is_408_and_stores_nothing(gateway: dict[str, str], api: Any, s3: Any) -> None:
    parts = urlsplit(gateway["url"])
    before = count_audio_objects(s3)
    boundary = "stall"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode() + b"RIFF" + b"\0" * 4096
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request_head("POST", "/api/ingest/upload", f"{parts.hostname}:{parts.port}", {
            "X-API-Key": api.key, "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": "10000000"}) + head)
        status, headers, body = read_response(sock, READ_TIMEOUT_S + 10)
        assert status == 408 and headers.get("connection") == "close", body
        assert b"stopped arriving" in body
    assert count_audio_objects(s3) == before


def test_one_address_gets_a_bounded_number_of_connections(gateway: dict[str, str]) -> None:
    held = [stalled_login(gateway["url"]) for _ in range(PER_CLIENT)]
    try:
        time.sleep(0.5)
        parts = urlsplit(gateway["url"])
        extra = socket.create_connection((parts.hostname, parts.port), timeout=5)
        status, headers, body = read_response(extra, 5)
        assert status == 429 and int(headers["retry-after"]) > 0, (status, headers)
        assert b"too many connections" in body
        extra.close()
        # another address is not affected
        assert healthz_s(gateway["url"], "127.0.0.3") < 1.0
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the held connections are let go: the address is served again
        if requests.get(f"{gateway['url']}/healthz", timeout=5).status_code == 200:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the address stayed refused after its connections closed")
    metrics = requests.get(f"{gateway['ops_url']}/metrics", timeout=5).text
    assert "callsight_connections_refused_total" in metrics


def test_the_log_says_who_was_refused(gateway: dict[str, str]) -> None:
    assert "refused a connection from 127.0.0.1" in Path(gateway["log"]).read_text()
