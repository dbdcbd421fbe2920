#!/usr/bin/env bash
# Builds the DocC catalog with warnings as errors (missing parameter docs, broken symbol links).
set -euo pipefail
cd "$(dirname "$0")/.."
# A build directory of its own: SwiftPM does not rebuild for changed -Xswiftc flags, so sharing
# .build would leave the symbol graphs stale or missing. Graphs are rewritten on every compile.
scratch=.build/docs-build
out=$scratch/symbol-graphs
mkdir -p "$out"
swift build --scratch-path "$scratch" --target ClusterKit \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$out" >/dev/null
log=.build/docc.log
if ! docc convert Sources/ClusterKit/ClusterKit.docc \
    --additional-symbol-graph-dir "$out" \
    --fallback-display-name ClusterKit --fallback-bundle-identifier org.clusterkit.ClusterKit \
    --output-path .build/ClusterKit.doccarchive --warnings-as-errors >"$log" 2>&1; then
    # Show what DocC complained about, not only that it did.
    grep -E "(warning|error):" "$log" || cat "$log"
    exit 1
fi
echo "docs: ok"
