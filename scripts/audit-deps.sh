#!/usr/bin/env bash
# Known-vulnerability check of every pinned requirement (pip-audit against PyPI's advisory data),
# from a virtualenv of its own so the audit tool never changes the project's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/audit
if [ ! -x "$venv/bin/pip-audit" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pip-audit==2.10.1
fi
# the dev lock holds every version any image installs (the service locks are compiled against it)
rc=0
out=$("$venv/bin/pip-audit" -r requirements/dev.txt --require-hashes --progress-spinner off 2>&1) || rc=$?
# packages the registry's JSON API does not list are reported as skipped, not as failures
printf '%s\n' "$out" | grep -v "could not be audited" || true
exit "$rc"
