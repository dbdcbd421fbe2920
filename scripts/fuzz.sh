#!/usr/bin/env bash
# Builds and runs ClusterKit's libFuzzer targets (Docs/fuzzing.md).
#
#   scripts/fuzz.sh --list                       the target names, one per line
#   scripts/fuzz.sh NAME [libFuzzer args|dirs]   build NAME and run it on its corpus (Fuzz/corpus/NAME) and
#                                                any directories given; exits non-zero on a crash, a leak, a
#                                                timeout or an out-of-memory
#   scripts/fuzz.sh --ci [SECONDS]               every target for SECONDS (default 20) each, two at a time,
#                                                as CI runs them
#
# New inputs that libFuzzer finds go to a scratch directory (.build-fuzz/found/NAME), never into the checked-in
# corpus; a crash is written to .build-fuzz/crashes/NAME/. Builds use their own folder (.build-fuzz), so the
# normal build is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(broker-json json node-cfg management-ini layout-script zeek-conf websocket-handshake websocket-frames broker-scalars)
scratch=.build-fuzz

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

build() {
    local name=$1
    CLUSTERKIT_FUZZ=1 swift build -c release --scratch-path "$scratch" --product "fuzz-$name" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing \
        -Xswiftc -g -Xswiftc -use-ld=lld >&2
}

run() {
    local name=$1
    shift
    local binary="$scratch/release/fuzz-$name"
    mkdir -p "$scratch/found/$name" "$scratch/crashes/$name"
    # The checked-in corpus is read; new inputs go to the scratch folder, which comes first so libFuzzer writes
    # there. A leak, a timeout (over 10 s for one input) or over 2 GB of memory is a failure like a crash.
    # Swift's own crash handler is off: it reads memory in ways AddressSanitizer reports as a crash.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" "$binary" \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$scratch/crashes/$name/" \
        "$@" "$scratch/found/$name" "Fuzz/corpus/$name"
}

valid() {
    local name=$1
    for target in "${targets[@]}"; do [[ $target == "$name" ]] && return 0; done
    return 1
}

[[ $# -ge 1 ]] || usage
case $1 in
--list)
    printf '%s\n' "${targets[@]}"
    ;;
--ci)
    seconds=${2:-20}
    mkdir -p "$scratch"
    echo "=== fuzz: building ${#targets[@]} targets"
    for name in "${targets[@]}"; do
        build "$name" 2>"$scratch/ci-build.log" || { tail -n 40 "$scratch/ci-build.log"; exit 1; }
    done
    # Two at a time (CI machines have two cores); each writes its own log, printed in order afterwards.
    failed=()
    for ((index = 0; index < ${#targets[@]}; index += 2)); do
        pids=()
        for name in "${targets[@]:index:2}"; do
            run "$name" -max_total_time="$seconds" >"$scratch/ci-$name.log" 2>&1 &
            pids+=("$!")
        done
        for position in "${!pids[@]}"; do
            wait "${pids[$position]}" || failed+=("${targets[index + position]}")
        done
    done
    for name in "${targets[@]}"; do
        echo "=== fuzz $name (${seconds} s)"
        grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
            "$scratch/ci-$name.log" || true
    done
    for name in "${failed[@]}"; do
        echo "=== fuzz $name failed; the input is in $scratch/crashes/$name/"
        tail -n 40 "$scratch/ci-$name.log"
    done
    [[ ${#failed[@]} -eq 0 ]] || exit 1
    ;;
-h | --help)
    usage
    ;;
*)
    name=$1
    shift
    valid "$name" || { echo "fuzz: no target '$name' (scripts/fuzz.sh --list)" >&2; exit 2; }
    build "$name"
    run "$name" "$@"
    ;;
esac
