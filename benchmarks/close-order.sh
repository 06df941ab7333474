#!/usr/bin/env bash
# The connection rate with the target closing first (`calzino bench --scenarios rate-target-close`), and what
# calzino's defaults cost there: the access log (`--log-level info`, one line per session, here to a file)
# and one event loop per core while the process is pinned to a single core. Each server is pinned to CPU 0
# and started fresh; the load generator runs on CPU 1; rounds interleave the variants.
#
# usage: benchmarks/close-order.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
seconds="${2:-5}"
if ! command -v microsocks >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq microsocks >/dev/null
fi
swift build -c release --product calzino >/dev/null
bin=.build/release/calzino
work=$(mktemp -d /tmp/calzino-close-order.XXXXXX)
port=21095
. benchmarks/server-lifecycle.sh

start() {  # start VARIANT
    case "$1" in
        quiet) taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" --threads 1 --log-level warning 2>>"$work/quiet.log" & ;;
        logged) taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" --threads 1 2>>"$work/logged.log" & ;;
        loops) taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" --log-level warning 2>>"$work/loops.log" & ;;
        defaults) taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" 2>>"$work/defaults.log" & ;;
        microsocks) taskset -c 0 microsocks -i 127.0.0.1 -p "$port" >/dev/null 2>&1 & ;;
    esac
    server=$!
    wait_listening "$port"
}

variants=(quiet logged loops defaults microsocks)
for round in $(seq 1 "$rounds"); do
    for variant in "${variants[@]}"; do
        start "$variant"
        taskset -c 1 "$bin" bench --threads 1 --scenarios rate-target-close --rate-seconds "$seconds" \
            --proxy "socks5://127.0.0.1:$port" --proxy-pid "$server" --proxy-cpu 0 \
            --json "$work/$variant-$round.json" >"$work/$variant-$round.txt" 2>&1 || true
        stop_server
        sleep 1
    done
done

python3 - "$work" "$rounds" "${variants[@]}" <<'PY'
import json, os, statistics, sys
work, rounds, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
labels = {
    "quiet": "calzino --threads 1 --log-level warning",
    "logged": "calzino --threads 1 (access log on)",
    "loops": "calzino, one event loop per core (2), --log-level warning",
    "defaults": "calzino defaults (2 event loops, access log on)",
    "microsocks": "microsocks",
}
def values(variant, key):
    out = []
    for r in range(1, rounds + 1):
        path = os.path.join(work, f"{variant}-{r}.json")
        if os.path.exists(path):
            v = json.load(open(path)).get(key)
            if v is not None:
                out.append(v)
    return out
print("| server (pinned to one core) | sessions/s | proxy CPU per session, us | failures | rounds (sessions/s) |")
print("|---|---|---|---|---|")
for v in variants:
    rate = values(v, "rate_target_close_sessions_per_s")
    cpu = values(v, "rate_target_close_proxy_cpu_us_per_session")
    fail = values(v, "rate_target_close_failures")
    med = lambda xs: f"{statistics.median(xs):,.0f}" if xs else "-"
    print(f"| {labels[v]} | {med(rate)} | {med(cpu)} | {sum(fail):.0f} | {', '.join(f'{x:,.0f}' for x in rate)} |")
PY
echo "# raw runs in $work" >&2
