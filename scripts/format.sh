#!/usr/bin/env bash
# Formats every tracked Swift file in place, then lints with --strict.
# With --check, only lints (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
files() { git ls-files -z '*.swift'; git ls-files -z --others --exclude-standard '*.swift'; }
if [[ "${1:-}" != "--check" ]]; then
    files | xargs -0 swift format format --configuration .swift-format --parallel --in-place
fi
files | xargs -0 swift format lint --configuration .swift-format --strict --parallel
