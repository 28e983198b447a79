#!/usr/bin/env bash
# The whole test suite: lint, import contracts, types, then unit, integration and
# end-to-end tests against real servers the tests start themselves on random loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-k8s-tools.sh
# The live control plane and KEDA for tests/deploy/test_live_cluster.py: seconds when
# cached in ~/.cache/callsight/k8s, ~20-40 min the first time on a 2-core machine.
bash scripts/build-k8s.sh >/dev/null
.venv/bin/ruff check .
# the architecture's rules (services independent, the gateway reads over gRPC, layers): .importlinter
.venv/bin/lint-imports --no-cache
# types of the library, the services, the launcher and the tests (settings in pyproject.toml)
.venv/bin/mypy
bash scripts/audit-deps.sh
exec .venv/bin/python -m pytest "$@"
