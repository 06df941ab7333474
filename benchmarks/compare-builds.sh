#!/usr/bin/env bash
# Compares two builds of calzino in one run: a baseline binary (an older commit built beside this tree) and
# this tree's release build, on the connection-rate scenarios whose figures a refactoring must keep
# (sessions/s and proxy CPU per session, with the client and with the target closing first), in interleaved rounds that alternate which build goes first, each
# server pinned to CPU 0 and started fresh, the load generator (always this tree's) on CPU 1. Then the
# allocations per session of each (benchmarks/allocations.sh).
#
# usage: benchmarks/compare-builds.sh BASELINE_BINARY [ROUNDS] [extra calzino bench options...]
#   e.g.  git worktree add /tmp/calzino-old COMMIT && (cd /tmp/calzino-old && swift build -c release --product calzino)
#         benchmarks/compare-builds.sh /tmp/calzino-old/.build/release/calzino 6
set -euo pipefail
cd "$(dirname "$0")/.."
baseline="${1:?usage: compare-builds.sh BASELINE_BINARY [ROUNDS] [bench options...]}"
rounds="${2:-6}"
shift 2 || shift $#
extra=("$@")
swift build -c release --product calzino >/dev/null
bin=.build/release/calzino
work=$(mktemp -d /tmp/calzino-compare-builds.XXXXXX)
port=21085
. benchmarks/server-lifecycle.sh

run() {  # run NAME BINARY ROUND
    taskset -c 0 "$2" serve --listen "127.0.0.1:$port" --threads 1 --log-level warning 2>>"$work/$1.log" &
    server=$!
    wait_listening "$port" || true
    taskset -c 1 "$bin" bench --threads 1 --scenarios rate,rate-target-close --proxy "socks5://127.0.0.1:$port" \
        --proxy-pid "$server" --proxy-cpu 0 --json "$work/$1-$3.json" "${extra[@]}" >"$work/$1-$3.txt" 2>&1 || true
    stop_server
    sleep 1
}

for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then run before "$baseline" "$round"; run after "$bin" "$round"
    else run after "$bin" "$round"; run before "$baseline" "$round"; fi
done

python3 - "$work" "$rounds" <<'PY'
import json, os, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
keys = [("sessions/s", "rate_sessions_per_s"), ("proxy CPU per session, us", "rate_proxy_cpu_us_per_session"),
        ("failures", "rate_failures"),
        ("sessions/s, target closes first", "rate_target_close_sessions_per_s"),
        ("proxy CPU per session, target closes first, us", "rate_target_close_proxy_cpu_us_per_session"),
        ("failures, target closes first", "rate_target_close_failures")]
print("| measure | before (median) | after (median) | after/before | rounds before | rounds after |")
print("|---|---|---|---|---|---|")
for label, key in keys:
    vals = {}
    for name in ("before", "after"):
        vals[name] = []
        for r in range(1, rounds + 1):
            path = os.path.join(work, f"{name}-{r}.json")
            if os.path.exists(path):
                value = json.load(open(path)).get(key)
                if value is not None:
                    vals[name].append(value)
    b = statistics.median(vals["before"]) if vals["before"] else None
    a = statistics.median(vals["after"]) if vals["after"] else None
    ratio = f"{a / b:.3f}" if a is not None and b else "-"
    fmt = lambda v: "-" if v is None else f"{v:,.1f}"
    print(f"| {label} | {fmt(b)} | {fmt(a)} | {ratio} | {', '.join(f'{v:,.0f}' for v in vals['before'])} | {', '.join(f'{v:,.0f}' for v in vals['after'])} |")
PY
echo
echo "allocations, before:"; bash benchmarks/allocations.sh "$baseline" | grep -i 'per session'
echo "allocations, after:";  bash benchmarks/allocations.sh | grep -i 'per session'
echo "# raw runs in $work" >&2
