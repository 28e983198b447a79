#!/usr/bin/env bash
# Installs ElasticMQ (the local stack's SQS server) from Maven Central with Maven: the
# server artifact pinned in stack/elasticmq/pom.xml and its runtime dependencies, as jars
# into $CALLSIGHT_ELASTICMQ_HOME (default ~/.cache/callsight/elasticmq/<version>/lib).
# Runs on the machine's Java 17. Idempotent: a second run returns at once.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$REPO/stack/elasticmq/pom.xml"
VERSION="$(sed -n 's:.*<elasticmq.version>\(.*\)</elasticmq.version>.*:\1:p' "$POM")"
HOME_DIR="${CALLSIGHT_ELASTICMQ_HOME:-$HOME/.cache/callsight/elasticmq/$VERSION}"
log() { printf 'install-elasticmq: %s\n' "$*" >&2; }

want="$(sha256sum "$POM" | cut -c1-16)"
if [[ -f "$HOME_DIR/.installed" && "$(cat "$HOME_DIR/.installed")" == "$want" ]]; then
    exit 0
fi
command -v java >/dev/null || { log "Java 17 is required (apt-get install openjdk-17-jre-headless)"; exit 1; }
command -v mvn >/dev/null || { log "Maven is required (apt-get install maven)"; exit 1; }
log "fetching ElasticMQ $VERSION from Maven Central into $HOME_DIR"
rm -rf "$HOME_DIR/lib"
mkdir -p "$HOME_DIR"
mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$HOME_DIR/lib" >"$HOME_DIR/mvn.log" 2>&1 \
    || { cat "$HOME_DIR/mvn.log" >&2; log "mvn failed"; exit 1; }
ls "$HOME_DIR/lib/elasticmq-server_2.13-$VERSION.jar" >/dev/null
echo "$want" >"$HOME_DIR/.installed"
log "ElasticMQ $VERSION ready ($(ls "$HOME_DIR/lib" | wc -l) jars)"
