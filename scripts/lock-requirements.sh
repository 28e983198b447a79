#!/usr/bin/env bash
# Compiles every requirements .in into its lock with hashes (pip-tools), from PyPI.
# Run after changing a .in file; CI and the images install the locks with --require-hashes.
# The dev lock comes first; each service lock is compiled against it, so the versions
# in every image are the ones the tests ran with.
set -euo pipefail
cd "$(dirname "$0")/.."
compile() {  # compile IN OUT [constraint]
  local extra=()
  [[ $# -ge 3 ]] && extra=(--constraint "$3")
  .venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
    --resolver=backtracking "${extra[@]}" --output-file "$2" "$1"
}
compile requirements/dev.in requirements/dev.txt
compile services/upload/requirements.in services/upload/requirements.txt requirements/dev.txt
compile services/status/requirements.in services/status/requirements.txt requirements/dev.txt
compile services/worker/requirements-analysis.in services/worker/requirements-analysis.txt requirements/dev.txt
compile services/worker/requirements.in services/worker/requirements.txt requirements/dev.txt
compile services/worker/requirements-lifecycle.in services/worker/requirements-lifecycle.txt requirements/dev.txt
compile services/webhooks/requirements.in services/webhooks/requirements.txt requirements/dev.txt
echo "lock-requirements: done"
