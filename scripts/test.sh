#!/usr/bin/env bash
# The test command: installs the interoperability peer (zeek-client 1.5.0) if needed, builds with CI's
# strict flags, and runs the whole Swift Testing suite. Extra arguments go to `swift test`.
#
# Without arguments, the unit tests (Tests/ClusterKitTests) and the end-to-end tests (Tests/zeekctlTests) run one
# suite after the other, each in parallel: on a small machine, the end-to-end tests' node processes and peers beside
# the unit tests' timing tests (handshake and connect limits of a few seconds) made those fail.
set -euo pipefail
cd "$(dirname "$0")/.."
ZEEK_CLIENT="$(scripts/setup-zeek-client.sh)"
export ZEEK_CLIENT
swift build --build-tests -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error
if [ $# -gt 0 ]; then
    swift test --skip-build --disable-xctest "$@"
else
    swift test --skip-build --disable-xctest --filter ClusterKitTests
    swift test --skip-build --disable-xctest --filter zeekctlTests
fi
