#!/usr/bin/env bash
# Builds the DocC catalog with warnings as errors (missing parameter docs, broken symbol links).
set -euo pipefail
cd "$(dirname "$0")/.."
# A build directory of its own: SwiftPM does not rebuild for changed -Xswiftc flags, so sharing
# .build would leave the symbol graphs stale or missing. Graphs are rewritten on every compile.
scratch=.build/docs-build
out=$scratch/symbol-graphs
mkdir -p "$out"
# The umbrella re-exports the layers' symbols with their documentation: compile it again every time, since a
# doc comment changed in a layer does not change the layer's interface and would not rebuild it.
touch Sources/ClusterKit/ClusterKit.swift
swift build --scratch-path "$scratch" --target ClusterKit \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$out" >/dev/null
# The umbrella's graph holds every symbol of the layers it re-exports, under `ClusterKit`; the layers' own graphs
# would make DocC see six modules, so only the umbrella's go in.
umbrella=$scratch/umbrella-symbol-graphs
rm -rf "$umbrella" && mkdir -p "$umbrella"
cp "$out"/ClusterKit.symbols.json "$out"/ClusterKit@*.symbols.json "$umbrella"/
log=.build/docc.log
if ! docc convert Sources/ClusterKit/ClusterKit.docc \
    --additional-symbol-graph-dir "$umbrella" \
    --fallback-display-name ClusterKit --fallback-bundle-identifier org.clusterkit.ClusterKit \
    --output-path .build/ClusterKit.doccarchive --warnings-as-errors >"$log" 2>&1; then
    # Show what DocC complained about, not only that it did.
    grep -E "(warning|error):" "$log" || cat "$log"
    exit 1
fi
echo "docs: ok"
