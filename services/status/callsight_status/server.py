"""Builds and runs the gRPC server of the status deployment: the CallsService and the
AnalyticsService (one servicer each), health, reflection, ops HTTP.

The server is grpc.aio: the watch stream is a coroutine (a viewer costs no thread) fed
by one Redis subscription per process (WatchHub); the unary reads are plain functions
over SQLAlchemy, run in a bounded thread pool. The event loop lives in its own thread,
so the entry point and tests drive the server with plain calls (`start`, `stop`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Coroutine
from concurrent import futures
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from callsight import grpc_tls
from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.engine import make_engine
from callsight.db.reruns_repo import RerunRepository
from callsight.db.scorecards_repo import ScorecardRepository
from callsight.health import Check, DependencyMonitor, postgres_probe
from callsight.internal_auth import OrgAssertions
from callsight.ops_http import serve_ops
from callsight.status_cache import StatusCache
from callsight.v1 import analytics_pb2, analytics_pb2_grpc, calls_pb2, calls_pb2_grpc
from callsight_status.analytics_servicer import AnalyticsServicer
from callsight_status.caller_auth import CallerInterceptor
from callsight_status.calls_servicer import CallsServicer
from callsight_status.interceptors import MetricsInterceptor
from callsight_status.settings import StatusSettings
from callsight_status.watch_hub import WatchHub

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE_NAMES = (
    calls_pb2.DESCRIPTOR.services_by_name["CallsService"].full_name,
    analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name,
)
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


class Health:
    """gRPC health of every service name, set from plain threads (the dependency monitor, tests)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.servicer = health.aio.HealthServicer()

    def set(self, service: str, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        asyncio.run_coroutine_threadsafe(self.servicer.set(service, status), self.loop).result(5)

    def set_all(self, ready: bool) -> None:
        for name in (*SERVICE_NAMES, ""):
            self.set(name, SERVING if ready else NOT_SERVING)


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def aio_loop() -> asyncio.AbstractEventLoop:
    """The process's one event loop for grpc.aio, running in its own thread. One for the
    process's life: gRPC's asyncio layer binds to a loop, and servers made and stopped
    again (tests) must not leave its objects behind on a dead one."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            _LOOP = asyncio.new_event_loop()
            threading.Thread(target=_LOOP.run_forever, name="grpc-aio", daemon=True).start()
        return _LOOP


class StatusServer:
    """The aio server on the process's event loop thread."""

    def __init__(self, settings: StatusSettings, address: str) -> None:
        self.settings = settings
        self.address = address
        self.loop = aio_loop()
        self.pool = futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="grpc")
        self.engine = make_engine(settings.database_url.get_secret_value(), pool_size=10)
        self.cache = StatusCache(settings.redis_url.get_secret_value())
        self.calls = CallRepository(self.engine)
        self.health = Health(self.loop)
        self.hub, self.server, self.port = self._run(self._build())
        self.monitor = DependencyMonitor([
            Check("postgres", postgres_probe(self.engine)),
            Check("redis", self._redis_probe, required=False),
        ], on_change=self._readiness_changed)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def _build(self) -> tuple[WatchHub, grpc.aio.Server, int]:
        # metrics outermost (they count refusals too), then who is asking and for which organisation
        caller = CallerInterceptor(OrgAssertions(self.settings.internal_auth_key.get_secret_value().encode()))
        server = grpc.aio.server(migration_thread_pool=self.pool, interceptors=[MetricsInterceptor(), caller],
                                 maximum_concurrent_rpcs=10_000)
        hub = WatchHub(self.settings.redis_url.get_secret_value(), self.calls, self.pool)
        calls_pb2_grpc.add_CallsServiceServicer_to_server(CallsServicer(self.calls, self.cache, hub), server)
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(
            AnalyticsServicer(self.calls, AnalysisRepository(self.engine), ScorecardRepository(self.engine),
                              RerunRepository(self.engine)), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, server)
        if self.settings.grpc_reflection:  # development only: it lists every service and message to anyone
            reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
        port = grpc_tls.add_port(server, self.address, self.settings.grpc_tls)
        return hub, server, port

    def _redis_probe(self) -> None:
        if not self.cache.ping():
            raise ConnectionError("redis does not answer")

    def _readiness_changed(self, ready: bool) -> None:
        # NOT_SERVING without PostgreSQL: the gateway's /readyz and Kubernetes see it
        self.health.set_all(ready)

    def ready(self) -> tuple[bool, dict[str, str]]:
        return self.monitor.state()

    def start(self) -> None:
        async def begin() -> None:
            await self.server.start()
            self.hub.start()

        self._run(begin())
        self.monitor.start()

    def stop(self, grace: float | None = None) -> None:
        self.monitor.stop()

        async def end() -> None:
            await self.health.servicer.enter_graceful_shutdown()
            await self.hub.stop()
            await self.server.stop(grace)

        try:
            self._run(end())
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)


def build_server(settings: StatusSettings, address: str) -> tuple[StatusServer, Health, int]:
    server = StatusServer(settings, address)
    serve_ops(settings.ops_port, server.ready, host=settings.bind_host)
    return server, server.health, server.port


def run(settings: StatusSettings) -> None:
    server, _, port = build_server(settings, f"{settings.bind_host}:{settings.port}")
    server.start()
    log.info("status service listening on port %d", port)
    stopped = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    stopped.wait()
    server.stop(grace=10)
