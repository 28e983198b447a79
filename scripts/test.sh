#!/usr/bin/env bash
# The whole test suite: lint, then unit, integration and end-to-end tests against real
# servers the tests start themselves on random loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-k8s-tools.sh
.venv/bin/ruff check .
bash scripts/audit-deps.sh
exec .venv/bin/python -m pytest "$@"
