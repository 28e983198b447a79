"""System benchmarks against a real local stack (its own, on random ports).

Each function returns rows (figure, value, unit, how measured). `python -m bench`
runs them all and writes bench/results.md.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import os
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import psutil
import requests

from callsight.v1 import calls_pb2, calls_pb2_grpc
from callsight_stack.stack import Stack
from tests import audio
from tests.grpc_client import status_channel

MB = 1024 * 1024


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    command: str


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def gateway_pids(stack: Stack) -> list[int]:
    parent = psutil.Process(stack.pid("upload"))
    return [parent.pid] + [c.pid for c in parent.children(recursive=True)]


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / MB


class Sampler:
    """Samples the peak RSS of the busiest gateway process while a block runs."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak = 0.0
        self.stop = threading.Event()

    def __enter__(self) -> Sampler:
        self.base = max(rss_mb([p]) for p in self.pids)

        def loop() -> None:
            while not self.stop.wait(0.05):
                self.peak = max(self.peak, max(rss_mb([p]) for p in self.pids))

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _stream_upload(url: str, key: str, size: int, call_id: str) -> tuple[int, float]:
    """POST a WAV of `size` bytes, generated while sending (the client holds no file)."""
    boundary = "benchboundary0123456789"
    header = (f'--{boundary}\r\nContent-Disposition: form-data; name="call_id"\r\n\r\n{call_id}\r\n'
              f'--{boundary}\r\nContent-Disposition: form-data; name="language"\r\n\r\nen-US\r\n'
              f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
              "Content-Type: audio/wav\r\n\r\n").encode()
    trailer = f"\r\n--{boundary}--\r\n".encode()
    data_bytes = size - 44
    wav_header = (b"RIFF" + (36 + data_bytes).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
                  + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little")
                  + (16000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
                  + b"data" + data_bytes.to_bytes(4, "little"))
    block = (np.random.default_rng(1).standard_normal(MB // 2) * 300).astype("<i2").tobytes()
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    conn.putrequest("POST", "/api/ingest/upload")
    conn.putheader("X-API-Key", key)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(header) + size + len(trailer)))
    conn.endheaders()
    t0 = time.perf_counter()
    conn.send(header + wav_header)
    left = data_bytes
    while left > 0:
        chunk = block[: min(left, len(block))]
        conn.send(chunk)
        left -= len(chunk)
    conn.send(trailer)
    response = conn.getresponse()
    response.read()
    return response.status, time.perf_counter() - t0


def upload_throughput(stack: Stack) -> Iterator[Figure]:
    url, key = stack.env["CALLSIGHT_URL"], stack.env["CALLSIGHT_API_KEY"]
    pids = gateway_pids(stack)
    for size_mb in (100, 500):
        with Sampler(pids) as s:
            status, seconds = _stream_upload(url, key, size_mb * MB, f"bench-big-{size_mb}-{os.urandom(3).hex()}")
        assert status == 201, status
        cmd = "python -m bench --only upload"
        yield Figure("Upload", f"{size_mb} MB through the Ingest API: throughput", size_mb / seconds, "MB/s", cmd)
        yield Figure("Upload", f"{size_mb} MB: gateway process memory growth (peak - idle)", s.peak - s.base, "MB", cmd)


def ingest_rate(stack: Stack, clients: int = 32, total: int = 320) -> Iterator[Figure]:
    url, key = stack.env["CALLSIGHT_URL"], stack.env["CALLSIGHT_API_KEY"]
    body = audio.encode(Path("/tmp/bench-1mb.wav"), [audio.noise(32.0, 0.01)], "wav").read_bytes()[: MB]
    latencies: list[float] = []
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=clients, pool_maxsize=clients)
    session.mount("http://", adapter)

    def one(i: int) -> int:
        t0 = time.perf_counter()
        r = session.post(f"{url}/api/ingest/upload", headers={"X-API-Key": key},
                         files={"file": ("r.wav", body)}, data={"call_id": f"bench-rate-{os.getpid()}-{i}-{os.urandom(2).hex()}"},
                         timeout=120)
        latencies.append(time.perf_counter() - t0)
        return r.status_code

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        codes = list(pool.map(one, range(total)))
    elapsed = time.perf_counter() - t0
    cmd = "python -m bench --only ingest"
    yield Figure("Ingest rate", f"accepted uploads/s, {clients} clients, 1 MB files", codes.count(201) / elapsed, "uploads/s", cmd)
    yield Figure("Ingest rate", "latency p50", pct(latencies, 50) * 1000, "ms", cmd)
    yield Figure("Ingest rate", "latency p99", pct(latencies, 99) * 1000, "ms", cmd)


def status_reads(stack: Stack, n: int = 2000) -> Iterator[Figure]:
    channel = status_channel(stack.env)
    stub = calls_pb2_grpc.CallsServiceStub(channel)
    org = stack.env["CALLSIGHT_ORG"]
    calls = stub.ListCalls(calls_pb2.ListCallsRequest(org_id=org, page_size=1), timeout=10).calls
    call_id = calls[0].call_id
    from callsight.status_cache import StatusCache

    cache = StatusCache(stack.env["CALLSIGHT_REDIS_URL"])
    cmd = "python -m bench --only reads"
    for label, evict in (("cache hit (Redis)", False), ("cache miss (PostgreSQL)", True)):
        latencies = []
        t0 = time.perf_counter()
        for _ in range(n):
            if evict:
                cache.forget(org, call_id)
            s = time.perf_counter()
            stub.GetCall(calls_pb2.GetCallRequest(org_id=org, call_id=call_id), timeout=5)
            latencies.append(time.perf_counter() - s)
        elapsed = time.perf_counter() - t0
        yield Figure("Status reads", f"GetCall {label}: calls/s (1 client, sequential)", n / elapsed, "calls/s", cmd)
        yield Figure("Status reads", f"GetCall {label}: p50", pct(latencies, 50) * 1000, "ms", cmd)
        yield Figure("Status reads", f"GetCall {label}: p99", pct(latencies, 99) * 1000, "ms", cmd)

    def parallel(_: int) -> None:
        for _ in range(200):
            stub.GetCall(calls_pb2.GetCallRequest(org_id=org, call_id=call_id), timeout=5)

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(parallel, range(16)))
    yield Figure("Status reads", "GetCall cache hit: calls/s (16 concurrent clients)", 3200 / (time.perf_counter() - t0), "calls/s", cmd)


def list_calls_at_1m(stack: Stack, rows: int = 1_000_000) -> Iterator[Figure]:
    """ListCalls with filters over an organisation holding `rows` generated calls."""
    from sqlalchemy import text

    from callsight.db.engine import make_engine

    engine = make_engine(stack.env["CALLSIGHT_DATABASE_URL"], pool_size=1)
    org = "bench-1m"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organizations (id, name) VALUES (:o, 'Bench 1M') ON CONFLICT DO NOTHING"), {"o": org})
        have = conn.execute(text("SELECT count(*) FROM calls WHERE org_id = :o"), {"o": org}).scalar_one()
        if have < rows:
            t0 = time.perf_counter()
            conn.execute(text("""
                INSERT INTO calls (uid, org_id, call_id, status, status_rank, error, language, operator_id, customer_id,
                                   department, call_date, audio_format, size_bytes, audio_key, created_at, updated_at)
                SELECT md5(:o || g)::uuid::text, :o, 'CALL-' || g,
                       CASE WHEN g % 20 = 0 THEN 'Queued' WHEN g % 20 = 1 THEN 'Failed' ELSE 'Done' END,
                       CASE WHEN g % 20 = 0 THEN 0 ELSE 2 END,
                       CASE WHEN g % 20 = 1 THEN 'bench' END,
                       CASE WHEN g % 3 = 0 THEN 'ja-JP' ELSE 'en-US' END,
                       'op-' || (g % 200), 'cust-' || (g % 50000), 'dept-' || (g % 12),
                       DATE '2025-01-01' + (g % 365), 'wav', 1000, 'k', now() - (g || ' seconds')::interval, now()
                FROM generate_series(:start, :stop) AS g
                ON CONFLICT DO NOTHING"""), {"o": org, "start": have + 1, "stop": rows})
            conn.execute(text("ANALYZE calls"))
            yield Figure("Status reads", f"generate {rows - have} calls (INSERT ... generate_series)", time.perf_counter() - t0, "s",
                         "python -m bench --only list1m")
    stub = calls_pb2_grpc.CallsServiceStub(status_channel(stack.env))
    queries = {
        "newest 50, no filter": calls_pb2.ListCallsRequest(org_id=org, page_size=50),
        "status=Failed": calls_pb2.ListCallsRequest(org_id=org, statuses=[4], page_size=50),
        "department + date range": calls_pb2.ListCallsRequest(
            org_id=org, department="dept-3", call_date_from="2025-03-01", call_date_to="2025-03-31", page_size=50),
        "operator": calls_pb2.ListCallsRequest(org_id=org, operator_id="op-7", page_size=50),
        "customer": calls_pb2.ListCallsRequest(org_id=org, customer_id="cust-123", page_size=50),
    }
    for label, request in queries.items():
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            stub.ListCalls(request, timeout=60)
            times.append(time.perf_counter() - t0)
        yield Figure("Status reads", f"ListCalls on 1M calls, {label} (median of 7, with total_count)",
                     statistics.median(times) * 1000, "ms", "python -m bench --only list1m")


def _wait_done(url: str, key: str, call_id: str, timeout: float = 3600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call = requests.get(f"{url}/api/calls/{call_id}", headers={"X-API-Key": key}, timeout=10).json()
        if call["status"] in ("Done", "Failed"):
            return call  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise TimeoutError(call_id)


def _step_seconds(stack: Stack) -> dict[str, float]:
    """Sum of callsight_worker_step_seconds per step over every worker (from /metrics)."""
    totals: dict[str, float] = {}
    for name, r in stack.running.items():
        if not name.startswith("worker-") or r.proc.poll() is not None:
            continue
        text_ = requests.get(f"http://127.0.0.1:{r.spec.env['OPS_PORT']}/metrics", timeout=5).text
        for line in text_.splitlines():
            if line.startswith("callsight_worker_step_seconds_sum{"):
                step = line.split('step="', 1)[1].split('"', 1)[0]
                totals[step] = totals.get(step, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def pipeline(stack: Stack, minutes: list[float]) -> Iterator[Figure]:
    """Upload to Done through the stack for real-speech calls (bench.speed.real_call)."""
    from sqlalchemy import text

    from bench.speed import real_call
    from callsight.db.engine import make_engine

    url, key = stack.env["CALLSIGHT_URL"], stack.env["CALLSIGHT_API_KEY"]
    engine = make_engine(stack.env["CALLSIGHT_DATABASE_URL"], pool_size=1)
    for m in minutes:
        path, truth = real_call(m)
        duration = float(truth["duration_s"])
        call_id = f"bench-pipe-{m}-{os.urandom(3).hex()}"
        steps_before = _step_seconds(stack)
        t0 = time.perf_counter()
        r = requests.post(f"{url}/api/ingest/upload", headers={"X-API-Key": key},
                          files={"file": ("c.wav", path.read_bytes())}, data={"call_id": call_id, "language": "en-US"}, timeout=600)
        assert r.status_code == 201, r.text
        call = _wait_done(url, key, call_id)
        total = time.perf_counter() - t0
        assert call["status"] == "Done", call
        with engine.connect() as conn:
            pickup = conn.execute(text("SELECT extract(epoch FROM started_at - created_at) FROM calls "
                                       "WHERE call_id = :c"), {"c": call_id}).scalar_one()
        cmd = f"python -m bench --only pipeline --minutes {m:g}"
        label = f"{duration / 60:.1f}-min real-speech stereo call (μ-law WAV)"
        yield Figure("Pipeline", f"{label}: upload to Done", total, "s", cmd)
        yield Figure("Pipeline", f"{label}: real-time factor (upload to Done / duration)", total / duration, "x", cmd)
        yield Figure("Pipeline", f"{label}: queue pickup latency (created -> Processing)", float(pickup) * 1000, "ms", cmd)
        steps_after = _step_seconds(stack)
        for step in ("download", "decode", "speech_activity", "transcribe", "analyse", "store"):
            yield Figure("Pipeline", f"{label}: step {step}", steps_after.get(step, 0.0) - steps_before.get(step, 0.0),
                         "s", cmd)


def cold_start(stack: Stack) -> Iterator[Figure]:
    """A new worker process, a call waiting: seconds from the process start to the call taken."""
    from sqlalchemy import text

    from bench.speed import real_call
    from callsight.db.engine import make_engine

    for name in [n for n in stack.running if n.startswith("worker-")]:
        stack.stop_process(name)
    url, key = stack.env["CALLSIGHT_URL"], stack.env["CALLSIGHT_API_KEY"]
    path, _ = real_call(1.0)
    call_id = f"bench-cold-{os.urandom(3).hex()}"
    r = requests.post(f"{url}/api/ingest/upload", headers={"X-API-Key": key}, files={"file": ("c.wav", path.read_bytes())},
                      data={"call_id": call_id, "language": "en-US"}, timeout=120)
    assert r.status_code == 201, r.text
    engine = make_engine(stack.env["CALLSIGHT_DATABASE_URL"], pool_size=1)
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, **stack.env, "OPS_PORT": str(port), "CALLSIGHT_WORKER_ID": "bench-cold"}
    env.pop("CALLSIGHT_WHISPER_THREADS", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "callsight_worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        taken = None
        while taken is None and time.perf_counter() - t0 < 300 and proc.poll() is None:
            with engine.connect() as conn:
                taken = conn.execute(text("SELECT started_at FROM calls WHERE call_id = :c"), {"c": call_id}).scalar_one()
            if taken is None:
                time.sleep(0.05)
        accepted = time.perf_counter() - t0
        assert taken is not None, "the new worker took no job"
        _wait_done(url, key, call_id)
    finally:
        proc.terminate()
        proc.wait(60)
    yield Figure("Cold start", "worker process start to first job accepted (model load included)", accepted, "s",
                 "python -m bench --only coldstart")


def stop_workers(stack: Stack) -> Iterator[Figure]:
    for name in [n for n in stack.running if n.startswith("worker-")]:
        stack.stop_process(name)
    return iter(())


def scaling(stack: Stack, calls: int = 6, minutes: float = 1.0) -> Iterator[Figure]:
    """Calls per hour with the stack's two workers, then with one (the other stopped)."""
    from bench.speed import real_call

    url, key = stack.env["CALLSIGHT_URL"], stack.env["CALLSIGHT_API_KEY"]
    path, truth = real_call(minutes)
    body = path.read_bytes()
    worker_rss = [rss_mb([stack.pid(f"worker-{i}")]) for i in (1, 2)]
    cmd = "python -m bench --only scaling"
    yield Figure("Scaling", "model + worker memory per worker process, idle (RSS)", max(worker_rss), "MB", cmd)
    for workers in (2, 1):
        if workers == 1:
            stack.stop_process("worker-2")
        ids = [f"bench-scale-{workers}-{i}-{os.urandom(2).hex()}" for i in range(calls)]
        t0 = time.perf_counter()
        for call_id in ids:
            requests.post(f"{url}/api/ingest/upload", headers={"X-API-Key": key}, files={"file": ("c.wav", body)},
                          data={"call_id": call_id, "language": "en-US"}, timeout=120)
        for call_id in ids:
            _wait_done(url, key, call_id)
        elapsed = time.perf_counter() - t0
        yield Figure("Scaling", f"{truth['duration_s'] / 60:.1f}-min real-speech calls per hour, {workers} worker(s) "
                     "on the machine's cores", calls * 3600 / elapsed, "calls/h", cmd)
