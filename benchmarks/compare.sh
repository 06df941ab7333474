#!/usr/bin/env bash
# Benchmarks calzino against Dante and microsocks, and against no proxy at all, in one run.
#
# The proxy under test is pinned to CPU 0 and the load generator (`calzino bench`, which also runs the
# targets) to CPU 1. Targets run in interleaved rounds (direct, calzino, dante, microsocks, direct, ...) so
# that drift hits all alike; the table gives medians over the rounds with ratios to direct and to Dante.
#
# usage: benchmarks/compare.sh [ROUNDS] [extra calzino bench options...]
#   ROUNDS defaults to 3. Example for a quick look: benchmarks/compare.sh 1 --bytes 256M --rate-seconds 3
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
shift || true
extra=("$@")

if ! command -v danted >/dev/null || ! command -v microsocks >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dante-server microsocks >/dev/null
fi
swift build -c release --product calzino >/dev/null
bin=.build/release/calzino

work=$(mktemp -d /tmp/calzino-compare.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

calzino_port=21080; dante_port=21081; micro_port=21082

taskset -c 0 "$bin" serve --listen "127.0.0.1:$calzino_port" --threads 1 --log-level warning 2>"$work/calzino.log" &
pids+=($!); calzino_pid=$!

cat >"$work/danted.conf" <<CONF
logoutput: $work/danted.log
internal: 127.0.0.1 port = $dante_port
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }
CONF
taskset -c 0 danted -f "$work/danted.conf" -p "$work/danted.pid" -N 2 &
pids+=($!); dante_pid=$!

taskset -c 0 microsocks -i 127.0.0.1 -p "$micro_port" >/dev/null 2>&1 &
pids+=($!); micro_pid=$!
sleep 2

declare -A route=(
    [direct]="direct"
    [calzino]="socks5://127.0.0.1:$calzino_port"
    [dante]="socks5://127.0.0.1:$dante_port"
    [microsocks]="socks5://127.0.0.1:$micro_port"
)
declare -A pidof=([direct]="" [calzino]="$calzino_pid" [dante]="$dante_pid" [microsocks]="$micro_pid")

for round in $(seq 1 "$rounds"); do
    for target in direct calzino dante microsocks; do
        echo "# round $round: $target" >&2
        args=(bench --proxy "${route[$target]}" --threads 1 --json "$work/$target-$round.json")
        [ -n "${pidof[$target]}" ] && args+=(--proxy-pid "${pidof[$target]}")
        if ! taskset -c 1 "$bin" "${args[@]}" "${extra[@]}" >"$work/$target-$round.txt" 2>&1; then
            echo "# $target round $round reported failures:" >&2
            tail -3 "$work/$target-$round.txt" >&2
        fi
    done
done

stamp=$(date -u +%Y-%m-%d-%H%M)
out="benchmarks/results/$stamp.md"
{
    echo "# calzino benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
    echo "- calzino $(git rev-parse --short HEAD) (release, 1 event loop), $(danted -v 2>&1 | head -1 | cut -d. -f1-3), microsocks $(dpkg-query -W -f='${Version}' microsocks 2>/dev/null)"
    echo "- proxy pinned to CPU 0, load generator and targets to CPU 1; $rounds interleaved rounds, medians; options: ${extra[*]:-defaults}"
    echo
    python3 benchmarks/summarize.py "$work" "$rounds"
} | tee "$out"
echo "# written to $out; raw runs in $work" >&2
