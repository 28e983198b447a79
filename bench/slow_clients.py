"""What one gateway pod survives (issue 18, row 2): clients that send a request body's
first bytes and stop, live event streams, and one address opening connection after
connection, while `/healthz` is asked from elsewhere.

A stack of its own with the gateway as the chart runs one pod (2 gunicorn gevent
processes, the default 30 s body-read timeout and 256 connections per client address
per process), no transcription workers. For each load level: that many stalled
`POST /login` bodies (declaring 1,000 bytes, sending 7; spread over loopback addresses
127.0.1.x, 100 each) and signed-in event streams are held open, then `/healthz` is asked
60 times from 127.0.0.2 and timed. The figure that matters: the largest level at which
its p99 stays under 100 ms. First, one address opens 1,000 such connections: how many
the pod keeps (the rest answered 429 at once), and `/healthz` beside them.

    python -m bench --only slowclients          (or: python -m bench.slow_clients)
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import requests

from bench.system import Figure, pct
from callsight_stack.stack import Stack
from tests.web_login import post_login

LEVELS = ((0, 0), (500, 250), (1000, 500), (2000, 1000), (3000, 1000))  # (stalled bodies, event streams)
PER_ADDRESS = 100
HEALTHZ_PROBES = 60
TARGET_MS = 100.0
ONE_ADDRESS = 1000
COMMAND = "python -m bench --only slowclients"


async def _stall(host: str, port: int, source: str, opened: list[asyncio.StreamWriter]) -> None:
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    writer.write((f"POST /login HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/x-www-form-urlencoded"
                  "\r\nContent-Length: 1000\r\n\r\nemail=a").encode())
    await writer.drain()
    opened.append(writer)


async def _stream(host: str, port: int, cookie: str, source: str, opened: list[asyncio.StreamWriter]) -> None:
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    writer.write((f"GET /web/events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                  f"Cookie: {cookie}\r\n\r\n").encode())
    await writer.drain()
    while not (await reader.readline()).startswith(b"retry:"):
        pass
    opened.append(writer)


async def _healthz(host: str, port: int) -> tuple[list[float], int]:
    """Latencies (s) of /healthz asked one after another from 127.0.0.2, and failures."""
    latencies, failures = [], 0
    for _ in range(HEALTHZ_PROBES):
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, local_addr=("127.0.0.2", 0)), 5)
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            status = await asyncio.wait_for(reader.readline(), 5)
            await asyncio.wait_for(reader.read(), 5)
            writer.close()
            if b" 200 " not in status:
                failures += 1
                continue
            latencies.append(time.perf_counter() - t0)
        except (TimeoutError, OSError):
            failures += 1
        await asyncio.sleep(0.02)
    return latencies, failures


def _source(i: int) -> str:
    return f"127.0.1.{1 + i // PER_ADDRESS}"


async def _level(host: str, port: int, cookie: str, stalled: int, streams: int) -> dict[str, float]:
    opened: list[asyncio.StreamWriter] = []
    t0 = time.perf_counter()
    jobs = [_stall(host, port, _source(i), opened) for i in range(stalled)]
    jobs += [_stream(host, port, cookie, _source(stalled + i), opened) for i in range(streams)]
    results = await asyncio.gather(*(asyncio.wait_for(j, 60) for j in jobs), return_exceptions=True)
    refused = sum(1 for r in results if isinstance(r, BaseException))
    held_s = time.perf_counter() - t0
    latencies, failures = await _healthz(host, port)
    for writer in opened:
        writer.close()
    await asyncio.sleep(1)
    return {"p50": pct(latencies, 50) * 1000 if latencies else float("inf"),
            "p99": pct(latencies, 99) * 1000 if latencies else float("inf"),
            "failures": float(failures), "not_opened": float(refused), "held_s": held_s}


async def _one_address(host: str, port: int) -> dict[str, float]:
    """1,000 connections from 127.0.0.9, each sending a stalled body: how many are kept."""
    kept: list[asyncio.StreamWriter] = []
    refused = 0

    async def attempt() -> None:
        nonlocal refused
        reader, writer = await asyncio.open_connection(host, port, local_addr=("127.0.0.9", 0))
        writer.write((f"POST /login HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/x-www-form-urlencoded"
                      "\r\nContent-Length: 1000\r\n\r\nemail=a").encode())
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readline(), 2)
        except TimeoutError:
            kept.append(writer)  # held: its body is being waited for
            return
        if b" 429 " in line:
            refused += 1
        writer.close()

    await asyncio.gather(*(attempt() for _ in range(ONE_ADDRESS)), return_exceptions=True)
    latencies, failures = await _healthz(host, port)
    for writer in kept:
        writer.close()
    await asyncio.sleep(1)
    return {"kept": float(len(kept)), "refused": float(refused), "p99": pct(latencies, 99) * 1000 if latencies else
            float("inf"), "failures": float(failures)}


def slow_clients() -> Iterator[Figure]:
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-bench-slow-", dir="/tmp"))
    run_dir.chmod(0o755)
    stack = Stack(run_dir, workers=0, random_ports=True, env_overrides={
        "WEB_CONCURRENCY": "2", "CALLSIGHT_RATE_LIMIT_PER_MINUTE": "0"})
    found: list[tuple[int, int, dict[str, float]]] = []
    try:
        stack.start()
        url = stack.env["CALLSIGHT_URL"]
        session = requests.Session()
        post_login(session, url, stack.env["CALLSIGHT_DEMO_USER"], stack.env["CALLSIGHT_DEMO_PASSWORD"]).raise_for_status()
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        parsed = urlparse(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
        one = asyncio.run(_one_address(host, port))
        print(f"    one address: {one}", flush=True)
        for stalled, streams in LEVELS:
            time.sleep(3)  # the previous level's connections are let go
            found.append((stalled, streams, asyncio.run(_level(host, port, cookie, stalled, streams))))
            print(f"    {stalled} stalled + {streams} streams: {found[-1][2]}", flush=True)
    finally:
        stack.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    section = "Slow clients and streams on one gateway pod (2 gevent processes)"
    for stalled, streams, f in found:
        what = f"{stalled} stalled bodies + {streams} event streams"
        yield Figure(section, f"/healthz p50, {what}", f["p50"], "ms", COMMAND)
        yield Figure(section, f"/healthz p99, {what}", f["p99"], "ms", COMMAND)
        yield Figure(section, f"/healthz failures of {HEALTHZ_PROBES}, {what}", f["failures"], "requests", COMMAND)
        yield Figure(section, f"connections not opened, {what}", f["not_opened"], "connections", COMMAND)
    survived = [(s, m) for s, m, f in found if f["p99"] < TARGET_MS and not f["failures"] and not f["not_opened"]]
    best = max(survived, default=(0, 0))
    yield Figure(section, f"largest level with /healthz p99 < {TARGET_MS:.0f} ms: stalled bodies", best[0], "clients",
                 COMMAND)
    yield Figure(section, f"largest level with /healthz p99 < {TARGET_MS:.0f} ms: event streams", best[1], "streams",
                 COMMAND)
    yield Figure(section, f"one address opening {ONE_ADDRESS} connections: kept (256 per process)", one["kept"],
                 "connections", COMMAND)
    yield Figure(section, f"one address opening {ONE_ADDRESS} connections: answered 429 at once", one["refused"],
                 "connections", COMMAND)
    yield Figure(section, "/healthz p99 from another address meanwhile", one["p99"], "ms", COMMAND)


if __name__ == "__main__":
    for figure in slow_clients():
        print(f"{figure.section} | {figure.name}: {figure.value:.3f} {figure.unit}")
