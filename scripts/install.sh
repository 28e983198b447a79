#!/usr/bin/env bash
# Installs everything Callsight needs on a fresh Debian machine with Python 3.11:
# system packages (as root, only what is missing) and the project's virtualenv. The offline
# speech model is joined and hash-checked by the launcher when it starts (once). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3

apt_missing=()
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_missing+=(postgresql postgresql-contrib)
have_pkg pocketsphinx-testdata || apt_missing+=(pocketsphinx-testdata)
# real telephone speech with transcripts for the turn-timeline tests and benchmark (Allison's prompts)
have_pkg asterisk-core-sounds-en-wav || apt_missing+=(asterisk-core-sounds-en-wav)
have_pkg asterisk-core-sounds-en || apt_missing+=(asterisk-core-sounds-en)
command -v npm >/dev/null || apt_missing+=(npm)  # web assets (Chart.js) come from npm packs
command -v java >/dev/null || apt_missing+=(openjdk-17-jre-headless)  # ElasticMQ, the local SQS server
command -v mvn >/dev/null || apt_missing+=(maven)  # fetches ElasticMQ from Maven Central
if [ "${CALLSIGHT_BROWSER_TESTS:-1}" = "1" ] && ! command -v chromium >/dev/null; then apt_missing+=(chromium); fi
# Japanese glyphs in the browser tests' screenshots
if [ "${CALLSIGHT_BROWSER_TESTS:-1}" = "1" ] && ! have_pkg fonts-ipafont-gothic; then apt_missing+=(fonts-ipafont-gothic); fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "install: apt-get install ${apt_missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
  else
    echo "install: please install with apt: ${apt_missing[*]}" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.callsight-installed
want=$(cat requirements/dev.txt libs/callsight/pyproject.toml services/*/pyproject.toml stack/pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  # the dev lock: every service's packages, the stack's servers and the test tools, each
  # pinned with its hashes (scripts/lock-requirements.sh makes it from requirements/dev.in)
  .venv/bin/pip install -q --require-hashes -r requirements/dev.txt
  .venv/bin/pip install -q --no-deps -e libs/callsight -e services/upload -e services/status -e services/worker -e services/webhooks -e stack
  echo "$want" > "$stamp"
fi
scripts/install-web-assets.sh
scripts/install-elasticmq.sh
# the speaker encoder for mono calls: its weights out of the hash-pinned Resemblyzer wheel (once; no torch)
.venv/bin/python -m callsight_worker.speech.speaker_encoder prepare >/dev/null
echo "install: ready (.venv)"
