"""Every WatchCalls stream of this process from one Redis subscription.

One pattern subscription (`cs:events:*`) on one connection carries every
organisation's status events; the hub hands each to the queues of that
organisation's watchers. A watcher costs a queue and a coroutine, never a thread or a
Redis connection. While Redis is down, one poller per watched organisation reads
PostgreSQL's recent changes instead (the system of record), until Redis is back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

import redis
import redis.asyncio as aioredis
from prometheus_client import Gauge

from callsight.convert import call_to_proto
from callsight.db.calls_repo import CallRepository
from callsight.status_cache import channel
from callsight.v1 import calls_pb2

log = logging.getLogger(__name__)

WATCHERS = Gauge("callsight_status_watchers", "Open WatchCalls streams")
BUS_UP = Gauge("callsight_status_bus_up", "1 while the Redis event subscription is live")
PATTERN = channel("*")
PREFIX = channel("")
QUEUE_SIZE = 1000


class WatcherOverflow(Exception):
    """A watcher fell this far behind: its stream ends and the client starts a fresh one."""


class Watcher:
    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self.queue: asyncio.Queue[calls_pb2.CallEvent | None] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, event: calls_pb2.CallEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue.get_nowait()
            self.queue.put_nowait(None)  # wakes the reader to end the stream

    async def events(self) -> AsyncIterator[calls_pb2.CallEvent]:
        while True:
            event = await self.queue.get()
            if event is None or self.overflowed:
                raise WatcherOverflow(self.org_id)
            yield event


class WatchHub:
    def __init__(self, redis_url: str, calls: CallRepository, executor: Executor, poll_interval_s: float = 1.0) -> None:
        self.redis_url = redis_url
        self.calls = calls
        self.executor = executor
        self.poll_interval_s = poll_interval_s
        self.watchers: dict[str, set[Watcher]] = {}
        self.bus_up = asyncio.Event()
        self._pollers: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None

    # ---- watchers ----------------------------------------------------------------------

    @contextmanager
    def watch(self, org_id: str) -> Iterator[Watcher]:
        watcher = Watcher(org_id)
        self.watchers.setdefault(org_id, set()).add(watcher)
        WATCHERS.inc()
        if not self.bus_up.is_set():
            self._start_poller(org_id)
        try:
            yield watcher
        finally:
            WATCHERS.dec()
            group = self.watchers.get(org_id, set())
            group.discard(watcher)
            if not group:
                self.watchers.pop(org_id, None)

    def _fan_out(self, org_id: str, event: calls_pb2.CallEvent) -> None:
        for watcher in list(self.watchers.get(org_id, ())):
            watcher.offer(event)

    # ---- the Redis subscription ---------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._subscribe_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for task in self._pollers.values():
            task.cancel()

    async def _subscribe_forever(self) -> None:
        while True:
            client = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=10)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(PATTERN)
                self._bus_is_up(True)
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None:
                        self._deliver(message)
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                if self.bus_up.is_set():
                    log.warning("status events: Redis subscription lost (%s); watchers read PostgreSQL", exc)
                self._bus_is_up(False)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except (redis.RedisError, OSError):
                    pass
            await asyncio.sleep(2.0)

    def _deliver(self, message: dict[str, Any]) -> None:
        name = message["channel"].decode() if isinstance(message["channel"], bytes) else str(message["channel"])
        org_id = name[len(PREFIX):]
        if org_id not in self.watchers:
            return
        try:
            event = calls_pb2.CallEvent.FromString(message["data"])
        except Exception:
            log.warning("status events: an unreadable event on %s", name)
            return
        self._fan_out(org_id, event)

    def _bus_is_up(self, up: bool) -> None:
        BUS_UP.set(1 if up else 0)
        if up:
            if not self.bus_up.is_set():
                log.info("status events: Redis subscription live")
            self.bus_up.set()
        else:
            self.bus_up.clear()
            for org_id in self.watchers:
                self._start_poller(org_id)

    # ---- PostgreSQL while Redis is down ------------------------------------------------------

    def _start_poller(self, org_id: str) -> None:
        if org_id in self._pollers and not self._pollers[org_id].done():
            return
        self._pollers[org_id] = asyncio.get_running_loop().create_task(self._poll(org_id))

    async def _poll(self, org_id: str) -> None:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
        loop = asyncio.get_running_loop()
        # one last pass after Redis is back covers what changed while it reconnected
        last_pass = False
        while org_id in self.watchers and not last_pass:
            last_pass = self.bus_up.is_set()
            try:
                records = await loop.run_in_executor(self.executor, self.calls.changed_since, org_id, since)
            except Exception as exc:
                log.warning("status events: PostgreSQL polling failed: %s", exc)
                records = []
            for record in records:
                since = max(since, record.updated_at, record.progress_at or record.updated_at)
                self._fan_out(org_id, calls_pb2.CallEvent(call=call_to_proto(record)))
            if not last_pass:
                try:
                    await asyncio.wait_for(self.bus_up.wait(), self.poll_interval_s)
                except TimeoutError:
                    pass
