"""Health, readiness and metrics of the gateway, and its OpenAPI document.

gunicorn listens on two ports: the public one (web app, APIs, /healthz) and the ops port
(OPS_PORT: /healthz, /readyz, /metrics). Which one a request came in on is read from the
socket it arrived on, never from a header, so the public port (and any ingress in front
of it) cannot serve readiness details or metrics, and the ops port serves nothing else.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import yaml
from flask import Blueprint, Flask, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import text

from callsight_upload.core.connections import connections
from callsight_upload.core.metrics import render

bp = Blueprint("ops", __name__)
OPENAPI = Path(__file__).parents[1] / "openapi.yaml"
OPS_ONLY = {"ops.readyz", "ops.metrics"}
ON_BOTH = {"ops.healthz"}


def arrived_on_port() -> int | None:
    """The local port of the connection this request came in on (None outside gunicorn)."""
    sock = request.environ.get("gunicorn.socket")
    try:
        return int(sock.getsockname()[1]) if sock is not None else None
    except (OSError, IndexError, TypeError, ValueError):
        return None


def register_port_split(app: Flask, ops_port: int) -> None:
    @app.before_request
    def _by_port() -> None:
        on_ops = arrived_on_port() == ops_port
        if request.endpoint in ON_BOTH:
            return
        if on_ops != (request.endpoint in OPS_ONLY):
            abort(404)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready when what uploads and reads need answers: PostgreSQL, S3, SQS and the status
    service (itself NOT_SERVING without its PostgreSQL); Redis down only degrades."""
    svc = connections()
    checks: dict[str, str] = {}
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"down: {type(exc).__name__}"
    try:
        svc.audio.ping()
        checks["s3"] = "ok"
    except Exception as exc:
        checks["s3"] = f"down: {type(exc).__name__}"
    try:
        svc.queue.depth()
        checks["sqs"] = "ok"
    except Exception as exc:
        checks["sqs"] = f"down: {type(exc).__name__}"
    try:
        stub = health_pb2_grpc.HealthStub(svc.status_channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        checks["status_service"] = "ok" if reply.status == health_pb2.HealthCheckResponse.SERVING else "not serving"
    except grpc.RpcError as exc:
        checks["status_service"] = f"down: {exc.code().name}"
    checks["redis"] = "ok" if svc.cache.ping() else "down (degraded)"
    ready = all(v == "ok" for k, v in checks.items() if k != "redis")
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), 200 if ready else 503


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    body, content_type = render(connections().settings.prometheus_multiproc_dir)
    return Response(body, content_type=content_type)


@bp.get("/api/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(yaml.safe_load(OPENAPI.read_text()))
