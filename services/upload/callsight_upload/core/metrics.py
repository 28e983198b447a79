"""Prometheus metrics of the gateway (multi-process safe under gunicorn)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

UPLOADS = Counter("callsight_uploads_total", "Ingest uploads by outcome", ["outcome"])
UPLOAD_BYTES = Counter("callsight_upload_bytes_total", "Bytes of accepted recordings")
REQUEST_SECONDS = Histogram("callsight_http_request_seconds", "HTTP request latency", ["endpoint", "method", "code"])


def render(multiproc_dir: str | None) -> tuple[bytes, str]:
    """The metrics of every gunicorn process when they share `multiproc_dir`."""
    if multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
