#!/usr/bin/env bash
# Grep-enforced rules from STYLE.md §13. Prints every violation, fails if there is one.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
fail() { echo "soundness: $1"; status=1; }

if grep -rn --include='*.swift' 'import XCTest' Tests; then fail "XCTest imported under Tests/ (use Swift Testing)"; fi
if grep -rn --include='*.swift' -E '(^|[^A-Za-z_.])print\(' Sources/ClusterKit*; then fail "print( in the library targets, Sources/ClusterKit* (return values or use a sink)"; fi
if grep -rn --include='*.swift' -E 'try!|fatalError\(|DispatchQueue|DispatchSemaphore' Sources; then
    fail "try!, fatalError(, DispatchQueue or DispatchSemaphore in Sources/"
fi
while IFS=: read -r file line _; do
    previous=$((line - 1))
    if ! sed -n "${previous}p" "$file" | grep -q '// Safe because'; then
        fail "$file:$line: @unchecked Sendable without a '// Safe because' comment on the line above"
    fi
done < <(grep -rn --include='*.swift' '@unchecked Sendable' Sources || true)
# Shared state sits behind `Guarded`, which ThreadSanitizer can see (scripts/tsan.sh), never a bare `Mutex`.
if grep -rn --include='*.swift' -E '(^|[^A-Za-z_.])Mutex[<(]' Sources Tests Benchmarks Fuzz | grep -v 'Sources/ClusterKitModel/Support/Guarded.swift'; then
    fail "a bare Mutex (use Guarded: Sources/ClusterKitModel/Support/Guarded.swift)"
fi
if grep -n '\.package(' Package.swift; then fail "Package.swift depends on a package"; fi
# No god files: no library source file over 700 lines (issue 11).
while read -r lines file; do
    [ "$file" = total ] && continue
    if [ "$lines" -gt 700 ]; then fail "$file: $lines lines, more than 700 (split it by concern)"; fi
done < <(find Sources -path 'Sources/ClusterKit*' -name '*.swift' -print0 | xargs -0 wc -l)
exit $status
