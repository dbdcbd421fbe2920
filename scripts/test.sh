#!/usr/bin/env bash
# The test command: installs the interoperability peer (zeek-client 1.5.0) if needed, builds with CI's
# strict flags, and runs the whole Swift Testing suite. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
ZEEK_CLIENT="$(scripts/setup-zeek-client.sh)"
export ZEEK_CLIENT
swift build --build-tests -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error
swift test --skip-build --disable-xctest "$@"
