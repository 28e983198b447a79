"""Entry point: `python -m callsight_status` serves gRPC on $PORT and ops HTTP on $OPS_PORT."""

from __future__ import annotations

import sys

from callsight.logs import setup_logging
from callsight.settings import Settings, SettingsError
from callsight.telemetry import setup_tracing
from callsight_status.server import run


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"callsight-status: {exc}", file=sys.stderr)
        return 2
    setup_logging("status", settings.log_format)
    setup_tracing("callsight-status")
    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
