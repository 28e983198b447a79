"""Builds and runs the gRPC server of the status deployment: the CallsService and the
AnalyticsService (one servicer each), health, reflection, ops HTTP."""

from __future__ import annotations

import logging
import signal
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import text

from callsight import grpc_tls
from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.engine import make_engine
from callsight.db.reruns_repo import RerunRepository
from callsight.db.scorecards_repo import ScorecardRepository
from callsight.ops_http import serve_ops
from callsight.status_cache import StatusCache
from callsight.v1 import analytics_pb2, analytics_pb2_grpc, calls_pb2, calls_pb2_grpc
from callsight_status.analytics_servicer import AnalyticsServicer
from callsight_status.calls_servicer import CallsServicer
from callsight_status.interceptors import MetricsInterceptor
from callsight_status.settings import StatusSettings

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    calls_pb2.DESCRIPTOR.services_by_name["CallsService"].full_name,
    analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name,
)


def build_server(settings: StatusSettings, address: str) -> tuple[grpc.Server, health.HealthServicer, int]:
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=10)
    cache = StatusCache(settings.redis_url.get_secret_value())
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="grpc"),
        interceptors=[MetricsInterceptor()],
        maximum_concurrent_rpcs=256,
    )
    calls = CallRepository(engine)
    calls_pb2_grpc.add_CallsServiceServicer_to_server(CallsServicer(calls, cache), server)
    analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(
        AnalyticsServicer(calls, AnalysisRepository(engine), ScorecardRepository(engine), RerunRepository(engine)),
        server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = grpc_tls.add_port(server, address, settings.grpc_tls)

    def ready() -> tuple[bool, dict[str, str]]:
        checks = {"postgres": "ok", "redis": "ok" if cache.ping() else "down (degraded: reading PostgreSQL)"}
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # readiness reports, never raises
            checks["postgres"] = f"down: {type(exc).__name__}"
        return checks["postgres"] == "ok", checks

    serve_ops(settings.ops_port, ready, host=settings.bind_host)
    return server, health_servicer, port


def run(settings: StatusSettings) -> None:
    server, health_servicer, port = build_server(settings, f"{settings.bind_host}:{settings.port}")
    server.start()
    for name in (*SERVICE_NAMES, ""):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("status service listening on port %d", port)
    stopped = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        health_servicer.enter_graceful_shutdown()
        server.stop(grace=10).wait()
        stopped.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    stopped.wait()
