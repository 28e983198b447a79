#!/usr/bin/env bash
# Regenerates the committed gRPC/protobuf stubs from proto/ (tests fail when they are stale).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-libs/callsight}"
python -m grpc_tools.protoc -Iproto --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" proto/callsight/v1/*.proto
