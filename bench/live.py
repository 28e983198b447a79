"""Live dashboards at scale: one gateway process holding 500 event streams.

A stack of its own (one gunicorn worker process for the gateway, no transcription
workers): 500 signed-in viewers open /web/events at once; then status events are
published on the real bus (Redis → the status service's WatchCalls → the gateway's one
stream per organisation → every viewer). Measured: the gateway process's memory and
threads with every stream open, and for each event and each viewer the time from
publishing to the viewer reading it.

    python -m bench --only live          (or: python -m bench.live)
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psutil
import requests

from bench.system import MB, Figure, pct
from callsight.status_cache import StatusCache
from callsight.v1 import calls_pb2
from callsight_stack.stack import Stack
from tests.web_login import post_login

VIEWERS = 500
EVENTS = 20
MEMORY_BOUND_MB = 400.0  # the gateway process with 500 open streams (docs/live-status.md)
DEADLINE_S = 1.0
COMMAND = "python -m bench --only live"


class Viewer:
    def __init__(self) -> None:
        self.received: dict[int, float] = {}  # event number -> when read
        self.connected = asyncio.Event()


async def _view(host: str, port: int, cookie: str, viewer: Viewer, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write((f"GET /web/events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                  f"Cookie: {cookie}\r\n\r\n").encode())
    await writer.drain()
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            text = line.decode(errors="replace")
            if text.startswith("retry:"):
                viewer.connected.set()
            elif text.startswith("data:"):
                body = json.loads(text[5:])
                progress = body.get("progress") or {}
                if body.get("call_id") == "bench-live" and progress:
                    viewer.received.setdefault(round(progress["fraction"] * 100), time.perf_counter())
    finally:
        writer.close()


def _event(number: int) -> calls_pb2.Call:
    call = calls_pb2.Call(org_id="demo", call_id="bench-live", uid="bench-live", status=calls_pb2.CALL_STATUS_PROCESSING,
                          generation=1, attempts=1)
    call.progress.fraction = number / 100
    call.progress.step = "transcribe"
    return call


async def _measure(url: str, cookie: str, cache: StatusCache, worker_pid: int) -> dict[str, float]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    process = psutil.Process(worker_pid)
    idle_rss = process.memory_info().rss / MB
    stop = asyncio.Event()
    viewers = [Viewer() for _ in range(VIEWERS)]
    tasks = []
    opened = time.perf_counter()
    for viewer in viewers:  # in waves, as a morning's dashboards open
        tasks.append(asyncio.create_task(_view(host, port, cookie, viewer, stop)))
        if len(tasks) % 50 == 0:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(v.connected.wait() for v in viewers)), 120)
    connect_s = time.perf_counter() - opened
    await asyncio.sleep(2)  # every stream registered on the gateway's organisation stream
    held_rss = process.memory_info().rss / MB
    threads = process.num_threads()
    sent: dict[int, float] = {}
    for number in range(1, EVENTS + 1):
        sent[number] = time.perf_counter()
        cache.publish(_event(number), calls_pb2.CALL_STATUS_PROCESSING)
        await asyncio.sleep(0.5)
    await asyncio.sleep(DEADLINE_S + 1)
    latencies = [v.received[n] - sent[n] for v in viewers for n in sent if n in v.received]
    missing = sum(1 for v in viewers for n in sent if n not in v.received)
    on_time = sum(1 for v in viewers if all(n in v.received and v.received[n] - sent[n] <= DEADLINE_S for n in sent))
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"idle_rss": idle_rss, "held_rss": held_rss, "threads": float(threads), "connect_s": connect_s,
            "p50": pct(latencies, 50), "p99": pct(latencies, 99), "max": max(latencies) if latencies else float("inf"),
            "missing": float(missing), "on_time": float(on_time)}


def live_streams() -> Iterator[Figure]:
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-bench-live-", dir="/tmp"))
    run_dir.chmod(0o755)
    stack = Stack(run_dir, workers=0, random_ports=True, env_overrides={
        # every viewer connects from 127.0.0.1: no bound per client address here (bench.slow_clients measures it)
        "WEB_CONCURRENCY": "1", "CALLSIGHT_RATE_LIMIT_PER_MINUTE": "0", "CALLSIGHT_MAX_CONNECTIONS_PER_CLIENT": "0"})
    try:
        stack.start()
        url = stack.env["CALLSIGHT_URL"]
        session = requests.Session()
        r = post_login(session, url, stack.env["CALLSIGHT_DEMO_USER"], stack.env["CALLSIGHT_DEMO_PASSWORD"])
        if r.status_code not in (302, 303):
            raise RuntimeError(f"the demo user could not sign in: HTTP {r.status_code}")
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        master = psutil.Process(stack.pid("upload"))
        workers = master.children()
        assert len(workers) == 1, f"expected one gateway worker process, found {len(workers)}"
        found = asyncio.run(_measure(url, cookie, StatusCache(stack.env["CALLSIGHT_REDIS_URL"]), workers[0].pid))
    finally:
        stack.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    section = f"live dashboards ({VIEWERS} event streams on one gateway process)"
    yield Figure(section, "gateway process memory, idle (RSS)", found["idle_rss"], "MB", COMMAND)
    yield Figure(section, f"gateway process memory with {VIEWERS} streams open (RSS)", found["held_rss"], "MB", COMMAND)
    yield Figure(section, f"memory bound stated for {VIEWERS} streams (docs/live-status.md)", MEMORY_BOUND_MB, "MB", COMMAND)
    yield Figure(section, "memory per open stream", (found["held_rss"] - found["idle_rss"]) * 1024 / VIEWERS, "KB",
                 COMMAND)
    yield Figure(section, f"gateway process threads with {VIEWERS} streams open", found["threads"], "threads", COMMAND)
    yield Figure(section, f"time to open all {VIEWERS} streams", found["connect_s"], "s", COMMAND)
    yield Figure(section, f"event → viewer latency p50 ({EVENTS} events × {VIEWERS} viewers)", found["p50"] * 1000,
                 "ms", COMMAND)
    yield Figure(section, "event → viewer latency p99", found["p99"] * 1000, "ms", COMMAND)
    yield Figure(section, "event → viewer latency max", found["max"] * 1000, "ms", COMMAND)
    yield Figure(section, "deliveries missed", found["missing"], "events", COMMAND)
    yield Figure(section, f"viewers that received every event within {DEADLINE_S:.0f} s", found["on_time"],
                 f"of {VIEWERS}", COMMAND)
    if found["held_rss"] > MEMORY_BOUND_MB or found["on_time"] < VIEWERS:
        print(f"live: OUTSIDE THE STATED BOUNDS: {found}", flush=True)


if __name__ == "__main__":
    for figure in live_streams():
        print(f"{figure.name}: {figure.value:.3f} {figure.unit}")
