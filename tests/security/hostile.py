"""Tools of the hostile-client tests: raw HTTP on a socket (bodies that lie about their
length, bodies that stop), and a gateway of the test's own beside the session's stack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests


def connect(url: str, timeout: float = 5.0) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout)


def read_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body up to its Content-Length (what of it arrives before the
    connection ends or `timeout` passes): the server may send head and body in separate
    packets, so stopping at the end of the head could miss a body that was sent."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0") or 0)
    try:
        while len(body) < length and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except OSError:  # reset or timeout: what arrived is the answer
        pass
    return status, headers, body


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """True when the server closes the connection within `timeout` (whatever body was left)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True
    return False


def request_head(method: str, path: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


@contextmanager
def own_gateway(stack: Any, tmp: Path, **overrides: str) -> Iterator[dict[str, str]]:
    """A second gateway process (the real `python -m callsight_upload`) on free ports, with
    `overrides` in its environment; its Redis database is its own (db 1) unless overridden,
    so what it counts (sign-in failures) never locks the session's gateway."""
    from callsight_stack.servers import free_port

    port, ops = free_port(), free_port()
    redis_url = stack.env["CALLSIGHT_REDIS_URL"].rsplit("/", 1)[0] + "/1"
    env = {**os.environ, **stack.env, "PORT": str(port), "OPS_PORT": str(ops), "CALLSIGHT_REDIS_URL": redis_url,
           "WEB_CONCURRENCY": "1", **overrides}
    log = (tmp / "gateway.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "callsight_upload"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{ops}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"own gateway did not start:\n{(tmp / 'gateway.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"url": f"http://127.0.0.1:{port}", "ops_url": f"http://127.0.0.1:{ops}", "log": str(tmp / "gateway.log")}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
