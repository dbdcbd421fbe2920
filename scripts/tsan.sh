#!/usr/bin/env bash
# The unit tests (Tests/ClusterKitTests) under ThreadSanitizer, as CI runs them (Docs/load-and-faults.md,
# "ThreadSanitizer"). Fails on any test failure and on any ThreadSanitizer report.
#
#   scripts/tsan.sh            build with CLUSTERKIT_TSAN=1 --sanitize thread (.build-tsan) and run the unit tests
#   scripts/tsan.sh --all      the end-to-end tests (Tests/zeekctlTests) as well: about 4 minutes more
#
# CLUSTERKIT_TSAN=1 makes `Guarded` tell ThreadSanitizer about its mutex, which TSan cannot see by itself. The tests
# run one at a time: under TSan's slowdown, the heavy tests would otherwise starve the timing tests beside them on a
# small machine. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."

scope=(--filter ClusterKitTests)
if [ "${1:-}" = "--all" ]; then
    shift
    # `ulimit -f` (a file size limit) makes TSan's own runtime die with SIGBUS in the child: not ClusterKit's.
    scope=(--skip aLayoutWriteThatFailsLeavesTheOldFileIntact)
    ZEEK_CLIENT="$(scripts/setup-zeek-client.sh)"
    export ZEEK_CLIENT
fi
export CLUSTERKIT_TSAN=1
swift build --build-tests --sanitize thread --build-path .build-tsan
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
TSAN_OPTIONS="halt_on_error=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}" swift test --skip-build --build-path .build-tsan \
    --sanitize thread --disable-xctest --no-parallel "${scope[@]}" "$@" 2>&1 | tee "$log" || status=$?
reports=$(grep -c '^WARNING: ThreadSanitizer' "$log" || true)
if [ "$reports" -gt 0 ]; then
    echo "tsan: $reports ThreadSanitizer reports (see above)" >&2
    status=1
fi
if ! grep -q 'threadSanitizerSeesTheMutexExactlyInItsOwnBuild() passed' "$log"; then
    echo "tsan: the build does not show its mutexes to ThreadSanitizer (GuardedTests did not pass)" >&2
    status=1
fi
exit $status
