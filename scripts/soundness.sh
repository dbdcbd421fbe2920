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
if grep -n '\.package(' Package.swift; then fail "Package.swift depends on a package"; fi
exit $status
