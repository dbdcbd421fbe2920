#!/usr/bin/env bash
# Builds the DocC catalog with warnings as errors (missing parameter docs, broken symbol links).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/symbol-graphs
rm -rf "$out" && mkdir -p "$out"
swift build --target ClusterKit -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$out" >/dev/null
docc convert Sources/ClusterKit/ClusterKit.docc \
    --additional-symbol-graph-dir "$out" \
    --fallback-display-name ClusterKit --fallback-bundle-identifier org.clusterkit.ClusterKit \
    --output-path .build/ClusterKit.doccarchive --warnings-as-errors >/dev/null
echo "docs: ok"
