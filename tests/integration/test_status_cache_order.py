"""The Redis status cache and bus never step back, whatever order the writers run in.

A real redis-server (the launcher's binary) on a random loopback port; every writer of
the system is played: the gateway's Queued, a worker's Processing and progress, Done,
the reconciler's Failed, a retry's new generation, the status service's cache fill.
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from callsight.status_cache import StatusCache
from callsight.v1 import calls_pb2
from callsight_stack.servers import redis_server_binary

pytestmark = pytest.mark.integration
Q, P, D, F = (calls_pb2.CALL_STATUS_QUEUED, calls_pb2.CALL_STATUS_PROCESSING, calls_pb2.CALL_STATUS_DONE,
              calls_pb2.CALL_STATUS_FAILED)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--dir", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def state(status: int, generation: int = 1, attempts: int = 0, progress: float | None = None,
          call_id: str = "c-1") -> calls_pb2.Call:
    call = calls_pb2.Call(org_id="org-a", call_id=call_id, status=status, generation=generation, attempts=attempts)  # type: ignore[arg-type]  # enum values as ints
    if progress is not None:
        call.progress.fraction = progress
    return call


def label(call: calls_pb2.Call) -> tuple[int, int, int, float]:
    return call.generation, call.status, call.attempts, round(call.progress.fraction, 3)


# one call's life as its writers produce it, oldest first
LIFE = [state(Q), state(P, attempts=1, progress=0.0), state(P, attempts=1, progress=0.4),
        state(P, attempts=1, progress=0.8), state(D, attempts=1)]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(LIFE))))[::7])
def test_any_order_of_writes_leaves_the_newest_state_and_announces_only_forward(redis_url: str,
                                                                               order: tuple[int, ...]) -> None:
    cache = StatusCache(redis_url)
    call_id = f"perm-{''.join(map(str, order))}"
    sub = cache.client.pubsub(ignore_subscribe_messages=True)
    sub.subscribe("cs:events:org-a")
    for i in order:
        call = calls_pb2.Call()
        call.CopyFrom(LIFE[i])
        call.call_id = call_id
        cache.publish(call, Q)
    stored = cache.get("org-a", call_id)
    assert stored is not None and label(stored) == label(LIFE[-1])
    cache.client.publish("cs:events:org-a", b"")  # the end of this test's writes
    announced = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        message = sub.get_message(timeout=0.1)  # None also for the (ignored) subscribe reply
        if message is None:
            continue
        event = calls_pb2.CallEvent.FromString(message["data"])
        if not event.call.call_id:
            break
        if event.call.call_id == call_id:
            announced.append(LIFE.index(next(c for c in LIFE if label(c) == label(event.call))))
    sub.close()
    assert announced == sorted(announced) and len(set(announced)) == len(announced), announced
    assert announced[-1] == len(LIFE) - 1


def test_the_gateways_late_queued_never_hides_processing(redis_url: str) -> None:
    cache = StatusCache(redis_url)
    assert cache.publish(state(P, attempts=1, progress=0.1, call_id="late"), Q)
    assert not cache.publish(state(Q, call_id="late"), Q)  # the gateway's, after the worker's
    stored = cache.get("org-a", "late")
    assert stored is not None and stored.status == P


def test_a_retry_starts_a_new_generation_above_an_old_failure(redis_url: str) -> None:
    cache = StatusCache(redis_url)
    assert cache.publish(state(F, attempts=3, call_id="retry"), P)
    assert cache.publish(state(Q, generation=2, call_id="retry"), F)
    # a late report of the first generation's worker is refused
    assert not cache.publish(state(P, generation=1, attempts=3, progress=0.9, call_id="retry"), Q)
    assert not cache.publish(state(F, generation=1, attempts=3, call_id="retry"), P)
    stored = cache.get("org-a", "retry")
    assert stored is not None and (stored.generation, stored.status) == (2, Q)


def test_a_redelivered_job_restarts_progress_and_the_old_attempt_is_refused(redis_url: str) -> None:
    cache = StatusCache(redis_url)
    assert cache.publish(state(P, attempts=1, progress=0.7, call_id="again"), Q)
    assert cache.publish(state(P, attempts=2, progress=0.0, call_id="again"), P)
    assert not cache.publish(state(P, attempts=1, progress=0.9, call_id="again"), P)
    stored = cache.get("org-a", "again")
    assert stored is not None and (stored.attempts, stored.progress.fraction) == (2, 0.0)


def test_a_cache_fill_from_an_older_read_never_replaces_a_newer_state(redis_url: str) -> None:
    cache = StatusCache(redis_url)
    assert cache.publish(state(D, attempts=1, call_id="fill"), P)
    assert not cache.put(state(P, attempts=1, progress=0.5, call_id="fill"))
    assert cache.put(state(D, attempts=1, call_id="fill"))  # the same state refreshes, announces nothing
    stored = cache.get("org-a", "fill")
    assert stored is not None and stored.status == D


def test_redis_down_degrades_to_not_cached(tmp_path: Path) -> None:
    cache = StatusCache("redis://127.0.0.1:1/0")
    assert cache.get("org-a", "x") is None
    assert cache.publish(state(Q, call_id="x"), Q) is False
    assert cache.put(state(Q, call_id="x")) is False
