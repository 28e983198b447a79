"""Entry point: `python -m callsight_status` serves gRPC on $PORT and ops HTTP on $OPS_PORT."""

from __future__ import annotations

import sys

from callsight.logs import setup_logging
from callsight.settings import SettingsError
from callsight.telemetry import setup_tracing
from callsight_status.server import run
from callsight_status.settings import StatusSettings


def main() -> int:
    try:
        settings = StatusSettings.from_env()
    except SettingsError as exc:
        print(f"callsight-status: {exc}", file=sys.stderr)
        return 2
    setup_logging("status", settings.log_format)
    setup_tracing(settings.otel_service_name or "callsight-status", kind=settings.otel_traces_exporter)
    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
