"""Entry point: `python -m callsight_upload` serves the gateway under gunicorn on $PORT."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from callsight.logs import setup_logging
from callsight.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"callsight-upload: {exc}", file=sys.stderr)
        return 2
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="callsight-metrics-")
    setup_logging("upload", settings.log_format)

    from gunicorn.app.base import BaseApplication

    class Gateway(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            bind = os.environ.get("BIND_HOST", "0.0.0.0")
            options: dict[str, Any] = {
                "bind": f"{bind}:{settings.port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": int(os.environ.get("WEB_THREADS", "8")),
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
            from callsight.telemetry import setup_tracing
            from callsight_upload.app import create_app

            setup_tracing("callsight-upload")  # per gunicorn worker: exporter threads do not survive fork

            return create_app(settings)

    Gateway().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
