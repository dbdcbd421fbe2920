#!/usr/bin/env bash
# The public API of `import ClusterKit`, one declaration per line, from the umbrella module's symbol graph (every
# layer's public symbols, re-exported). `scripts/public-api.sh` prints it; `--check` compares it with the baseline
# Docs/public-api.txt and fails with the difference; `--update` rewrites the baseline. CI runs `--check`, so the
# public API changes only together with its baseline, on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=Docs/public-api.txt
scratch=.build/docs-build
out=$scratch/symbol-graphs
mkdir -p "$out"
# See check-docs.sh: the umbrella is compiled every time so that its graph is current.
touch Sources/ClusterKit/ClusterKit.swift
swift build --scratch-path "$scratch" --target ClusterKit \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$out" >/dev/null
current=$(python3 - "$out" <<'PYTHON'
import json, glob, sys
lines = set()
for path in [sys.argv[1] + "/ClusterKit.symbols.json"] + sorted(glob.glob(sys.argv[1] + "/ClusterKit@*.symbols.json")):
    graph = json.load(open(path))
    extended = path.split("@")[1].split(".")[0] + "." if "@" in path else ""
    for symbol in graph["symbols"]:
        if symbol.get("accessLevel") not in ("public", "open"):
            continue
        name = extended + ".".join(symbol["pathComponents"])
        declaration = "".join(fragment["spelling"] for fragment in symbol.get("declarationFragments", []))
        lines.add(f"{name} | {' '.join(declaration.split())}")
print("\n".join(sorted(lines)))
PYTHON
)
case "${1:-}" in
--update)
    printf '%s\n' "$current" >"$baseline"
    echo "public API: $(wc -l <"$baseline") declarations written to $baseline"
    ;;
--check)
    if ! diff -u "$baseline" <(printf '%s\n' "$current"); then
        echo "public API: differs from $baseline (above); if the change is meant, run scripts/public-api.sh --update"
        exit 1
    fi
    echo "public API: unchanged ($(wc -l <"$baseline") declarations)"
    ;;
"") printf '%s\n' "$current" ;;
*)
    echo "usage: scripts/public-api.sh [--check | --update]" >&2
    exit 64
    ;;
esac
