#!/usr/bin/env bash
# Copies the web UI's third-party browser code into the gateway's static folder, from
# npm packages pinned here: the app runs with no internet (no CDN) and a strict CSP.
# Chart.js is MIT-licensed; its licence is copied next to it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
CHARTJS_VERSION=4.4.9
vendor=services/upload/callsight_upload/static/vendor
stamp="$vendor/.chartjs-$CHARTJS_VERSION"
[ -f "$stamp" ] && exit 0
command -v npm >/dev/null || { echo "install-web-assets: npm is required (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "chart.js@$CHARTJS_VERSION" >/dev/null && tar -xzf chart.js-*.tgz)
mkdir -p "$vendor"
rm -f "$vendor"/.chartjs-*
cp "$tmp/package/dist/chart.umd.js" "$vendor/chart.umd.js"
cp "$tmp/package/LICENSE.md" "$vendor/chart.js.LICENSE.md"
touch "$stamp"
echo "install-web-assets: chart.js $CHARTJS_VERSION in $vendor"
