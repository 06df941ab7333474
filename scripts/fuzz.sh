#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/Sources) with the fuzzer and address sanitizers and runs each for a
# bounded time against the seed corpus in Fuzz/Corpus.
#
#   bash scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS ...]     (default 10 s, every harness)
#
# New inputs go to a scratch corpus under .build/fuzz-work, never into the repository. A crash, a leak or a
# broken property stops the run with libFuzzer's report and leaves the input in .build/fuzz-work/crashes;
# copy it to Fuzz/Corpus/<harness>/ and make it a regression test. Prints one line per harness:
#   <harness>: <runs> runs in <seconds> s, corpus <n> inputs, <crashes> crashes
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
shift || true
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
    harnesses=(FuzzHandshake FuzzMessages FuzzConfig FuzzRules FuzzSession)
fi

work=.build/fuzz-work
mkdir -p "$work/crashes"
# One build of every library and harness, then a check that each harness sees the libraries' coverage.
# SwiftPM keeps its sanitizers in a Set and passes each as its own `-sanitize=` flag in the Set's order, which
# changes from run to run; the Swift driver keeps only the last `-sanitize=` flag, so Swift code got either the
# fuzzer's coverage or the address sanitizer, never both (C code, given both to clang, was fine). The
# `-Xswiftc` flag comes last on every swiftc line and names both. `-enable-testing` lets FuzzSession drive
# the server's internal session state machine (`@testable import`).
# A build that fails stops the script with its errors: the harnesses of an earlier build would otherwise be
# fuzzed as if they were these (issue 14).
build_log="$work/build.log"
if ! CALZINO_FUZZ=1 swift build --scratch-path .build/fuzz -c release --sanitize=fuzzer --sanitize=address \
    -Xswiftc -sanitize=address,fuzzer -Xswiftc -enable-testing >"$build_log" 2>&1; then
    grep -E "error" "$build_log" >&2 || tail -20 "$build_log" >&2
    echo "error: the fuzz build failed (full log: $build_log)" >&2
    exit 1
fi
grep -E "Compiling Fuzz|Build " "$build_log" || true
for harness in "${harnesses[@]}"; do
    counters=$(".build/fuzz/release/$harness" -runs=0 2>&1 | grep -oE "\(([0-9]+) inline 8-bit counters\)" | grep -oE "[0-9]+" | head -1)
    if [ "${counters:-0}" -lt 5000 ]; then
        # Without the libraries' coverage the mutations are blind: a fuzz run that only looks like one.
        echo "error: $harness: only ${counters:-0} coverage counters: the Swift libraries are not instrumented" >&2
        exit 1
    else
        echo "$harness: ${counters} coverage counters"
    fi
done

status=0
# Swift's backtracer would take minutes to symbolicate a crash under the address sanitizer, and hide the
# fatal error's message (the broken property) in its output: libFuzzer's own report is enough.
export SWIFT_BACKTRACE=enable=no
for harness in "${harnesses[@]}"; do
    binary=.build/fuzz/release/$harness
    corpus="$work/corpus/$harness"
    mkdir -p "$corpus"
    log="$work/$harness.log"
    # The first corpus directory receives new inputs; the repository's seeds are only read.
    if "$binary" "$corpus" "Fuzz/Corpus/$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -artifact_prefix="$work/crashes/$harness-" -print_final_stats=1 > "$log" 2>&1; then
        crashes=0
    else
        crashes=1
        status=1
        tail -40 "$log"
    fi
    runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
    inputs=$(find "$corpus" -type f | wc -l)
    echo "$harness: $runs runs in $seconds s, corpus $inputs inputs, $crashes crashes"
done
exit $status
