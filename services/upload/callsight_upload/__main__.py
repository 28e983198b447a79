"""Entry point: `python -m callsight_upload` serves the gateway under gunicorn on $PORT."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

from callsight.logs import setup_logging
from callsight.settings import SettingsError
from callsight_upload.settings import GatewaySettings


class Gateway(BaseApplication):
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        worker_class: Any = s.web_worker_class
        if worker_class == "gevent":
            # imported here, after PROMETHEUS_MULTIPROC_DIR is set: its metric is shared by the workers
            from callsight_upload.core.guarded_worker import guarded_worker

            # a body-read timeout and a bound per client address, which gunicorn lacks
            worker_class = guarded_worker(s.body_read_timeout_s, s.max_connections_per_client)
        options: dict[str, Any] = {
            # public port first; the ops port serves only /healthz, /readyz, /metrics (api/ops.py)
            "bind": [f"{s.bind_host}:{s.port}", f"{s.bind_host}:{s.ops_port}"],
            "workers": s.web_concurrency,
            # gevent: a live dashboard or a slow client costs a greenlet, not one of a few threads
            "worker_class": worker_class,
            "worker_connections": s.web_connections,
            "threads": s.web_threads,
            # uploads of 500 MB over slow links take minutes
            "timeout": 900,
            "graceful_timeout": 30,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "limit_request_field_size": 16384,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            # the gevent worker has patched the standard library by now (gunicorn loads the
            # app after patching); gRPC must then wait on the gevent loop, not block it
            from grpc.experimental import gevent as grpc_gevent

            grpc_gevent.init_gevent()
        from callsight.telemetry import setup_tracing
        from callsight_upload.app import create_app
        from callsight_upload.core.wsgi import wrap

        # per gunicorn worker: exporter threads do not survive fork
        setup_tracing(self.settings.otel_service_name or "callsight-upload", kind=self.settings.otel_traces_exporter)
        return wrap(create_app(self.settings), self.settings.trusted_proxy_hops)


def main() -> int:
    try:
        settings = GatewaySettings.from_env()
    except SettingsError as exc:
        print(f"callsight-upload: {exc}", file=sys.stderr)
        return 2
    if settings.web_concurrency > 1 and not settings.prometheus_multiproc_dir:
        settings = settings.model_copy(update={"prometheus_multiproc_dir": tempfile.mkdtemp(prefix="callsight-metrics-")})
    if settings.prometheus_multiproc_dir:
        # prometheus_client reads this variable itself, in every gunicorn worker
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.prometheus_multiproc_dir
    setup_logging("upload", settings.log_format)
    Gateway(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
