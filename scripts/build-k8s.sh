#!/usr/bin/env bash
# Builds the local Kubernetes used by the live deploy tests (tests/deploy/test_live_cluster.py)
# from pinned upstream sources through the Go module proxy, once, into a cache outside
# the repository:
#
#   $CALLSIGHT_K8S_CACHE/<kubernetes version>/     (default ~/.cache/callsight/k8s)
#     bin/etcd kube-apiserver kube-controller-manager kube-scheduler   stack/k8s/control-plane/go.mod
#     bin/kwok keda-operator keda-adapter                              stack/k8s/addons/go.mod
#     keda-crds/*.yaml      KEDA's CRDs from the same KEDA source as the operator
#     kwok-stages.yaml      kwok's default node and pod stages from the same kwok source
#     build.stamp           what was built (hash of the go.mod/go.sum files and RECIPE below)
#
# The versions are the go.mod files' (go.sum pins every module's hash). A warm run
# compares the stamp and returns at once; a cold one takes ~20-30 min on 2 cores and runs
# under `nice` so the machine stays usable. Prints the folder on its last line.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONTROL_PLANE="$REPO/stack/k8s/control-plane"
ADDONS="$REPO/stack/k8s/addons"
CACHE_ROOT="${CALLSIGHT_K8S_CACHE:-$HOME/.cache/callsight/k8s}"

log() { printf 'build-k8s: %s\n' "$*" >&2; }

command -v go >/dev/null || { log "Go is required (Go 1.26: the go.mod files say which)"; exit 1; }

export GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN=local
# A build cache of its own, removed after a good build (CALLSIGHT_K8S_KEEP_GOCACHE=1 keeps it).
export GOCACHE="$CACHE_ROOT/go-build"

module_version() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }
module_dir() { (cd "$1" && go list -m -f '{{.Dir}}' "$2"); }

# Bump when the way of building changes (flags, files made), so caches rebuild.
RECIPE=1
stamp_of() {
    { cat "$CONTROL_PLANE/go.mod" "$CONTROL_PLANE/go.sum" "$ADDONS/go.mod" "$ADDONS/go.sum"; echo "recipe $RECIPE"; } \
        | sha256sum | cut -c1-16
}

# The Kubernetes version names the folder; read it from go.mod without the network.
KUBE_VERSION="$(sed -n 's/^\tk8s.io\/kubernetes \(v[^ ]*\).*/\1/p' "$CONTROL_PLANE/go.mod" | head -1)"
[[ -n "$KUBE_VERSION" ]] || { log "no k8s.io/kubernetes requirement in $CONTROL_PLANE/go.mod"; exit 1; }
OUT="$CACHE_ROOT/$KUBE_VERSION"
WANT="$(stamp_of)"
if [[ -f "$OUT/build.stamp" && "$(cat "$OUT/build.stamp")" == "$WANT" ]]; then
    log "Kubernetes $KUBE_VERSION, KEDA and kwok present in $OUT"
    echo "$OUT"
    exit 0
fi

started=$(date +%s)
mkdir -p "$OUT/bin" "$GOCACHE"
rm -f "$OUT/build.stamp"
build() { nice -n 10 go build -trimpath "$@"; }

# Version strings the binaries report: helm checks the chart's kubeVersion against the
# API server's, and an unstamped build says v0.0.0-master.
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kube_ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
log "building Kubernetes $KUBE_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler) and etcd"
(cd "$CONTROL_PLANE" && go mod download \
    && build -ldflags "$kube_ldflags" -o "$OUT/bin/" \
        k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler \
    && build -ldflags "-s -w" -o "$OUT/bin/etcd" go.etcd.io/etcd/server/v3)

KEDA_VERSION="$(module_version "$ADDONS" github.com/kedacore/keda/v2)"
KWOK_VERSION="$(module_version "$ADDONS" sigs.k8s.io/kwok)"
log "building KEDA $KEDA_VERSION (operator, metrics API server) and kwok $KWOK_VERSION"
keda_ldflags="-s -w -X github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION#v}"
(cd "$ADDONS" && go mod download \
    && build -ldflags "$keda_ldflags" -o "$OUT/bin/keda-operator" github.com/kedacore/keda/v2/cmd/operator \
    && build -ldflags "$keda_ldflags" -o "$OUT/bin/keda-adapter" github.com/kedacore/keda/v2/cmd/adapter \
    && build -ldflags "-s -w" -o "$OUT/bin/kwok" sigs.k8s.io/kwok/cmd/kwok)

# The CRDs and stages come from the very module sources the binaries were built from.
keda_src="$(module_dir "$ADDONS" github.com/kedacore/keda/v2)"
kwok_src="$(module_dir "$ADDONS" sigs.k8s.io/kwok)"
rm -rf "$OUT/keda-crds" && mkdir -p "$OUT/keda-crds"
install -m 0644 "$keda_src"/config/crd/bases/*.yaml "$OUT/keda-crds/"
{
    # What `kwokctl` runs by default: nodes initialised at once and kept alive through
    # leases; pods ready at once, Job pods completed, deleted pods gone.
    for f in "$kwok_src"/kustomize/stage/node/fast/*.yaml \
             "$kwok_src"/kustomize/stage/node/heartbeat-with-lease/*.yaml \
             "$kwok_src"/kustomize/stage/pod/fast/*.yaml; do
        [[ "$(basename "$f")" == kustomization.yaml ]] && continue
        echo "---"
        cat "$f"
    done
} >"$OUT/kwok-stages.yaml"
printf 'kubernetes=%s\nkeda=%s\nkwok=%s\n' "$KUBE_VERSION" "$KEDA_VERSION" "$KWOK_VERSION" >"$OUT/versions"

echo "$WANT" >"$OUT/build.stamp"
log "built in $(( $(date +%s) - started )) s into $OUT"
# The compiled packages (~7 GB) are worth nothing once the binaries exist, unless asked to keep them.
[[ "${CALLSIGHT_K8S_KEEP_GOCACHE:-0}" == 1 ]] || rm -rf "$GOCACHE"
echo "$OUT"
