#!/usr/bin/env bash
# Benchmarks calzino against Dante and microsocks, and against no proxy at all, in one run.
#
# The proxy under test is pinned to CPU 0 and the load generator (`calzino bench`, which also runs the
# targets) to CPU 1. Targets run in interleaved rounds, each round starting one target later (direct calzino
# dante microsocks, then calzino dante microsocks direct, ...), so that drift and the state a run leaves
# behind hit all alike; each proxy is started fresh for its run, so that its memory per idle tunnel is
# not inflated by earlier loads. The proxy's CPU time is CPU 0's busy time. The table gives medians over the
# rounds with ratios to direct and to Dante, and is written to benchmarks/results/.
#
# Dante binds every outbound socket to a port before connecting, so its ports cannot be shared between
# destinations and TIME_WAIT exhausts the default range within one connection-rate run; the script widens
# net.ipv4.ip_local_port_range for the run and restores it after.
#
# usage: benchmarks/compare.sh [ROUNDS] [extra calzino bench options...]
#   ROUNDS defaults to 3. A quick look: benchmarks/compare.sh 1 --bytes 256M --rate-seconds 3 --idle-tunnels 2000
#   CALZINO_BASELINE=/path/to/older/calzino adds that build as one more target ("before"), run the same way,
#   for a change that must not make calzino slower: build the older commit beside this tree, e.g.
#   git worktree add /tmp/calzino-old COMMIT && (cd /tmp/calzino-old && swift build -c release --product calzino)
#   CALZINO_ADMIN=1 adds this build with the admin listener on ("admin"), its /metrics scraped every second
#   while it runs: the metrics' cost, which must stay within 3% (issue 13). CALZINO_ONLY="direct calzino admin"
#   runs only the targets named.
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
old_range=$(sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')
proxy_pid=""
stop_proxy() {
    if [ -n "$proxy_pid" ]; then
        kill "$proxy_pid" 2>/dev/null || true
        pkill -P "$proxy_pid" 2>/dev/null || true
        wait "$proxy_pid" 2>/dev/null || true
        proxy_pid=""
    fi
}
cleanup() {
    stop_proxy
    sysctl -qw net.ipv4.ip_local_port_range="$old_range" || true
}
trap cleanup EXIT
sysctl -qw net.ipv4.ip_local_port_range="1024 65535" || echo "# could not widen the port range; Dante may run out of ports" >&2

port=21080
cat >"$work/danted.conf" <<CONF
logoutput: $work/danted.log
internal: 127.0.0.1 port = $port
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }
CONF

start_proxy() {
    case "$1" in
        calzino) taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" --threads 1 --log-level warning 2>>"$work/calzino.log" & ;;
        before) taskset -c 0 "$CALZINO_BASELINE" serve --listen "127.0.0.1:$port" --threads 1 --log-level warning 2>>"$work/before.log" & ;;
        admin) taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" --threads 1 --log-level warning --admin "127.0.0.1:$((port + 1))" 2>>"$work/admin.log" & ;;
        dante) taskset -c 0 danted -f "$work/danted.conf" -N 2 & ;;
        microsocks) taskset -c 0 microsocks -i 127.0.0.1 -p "$port" >/dev/null 2>&1 & ;;
    esac
    proxy_pid=$!
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "# $1 did not start" >&2
    return 1
}

order=(direct calzino dante microsocks)
if [ -n "${CALZINO_BASELINE:-}" ]; then
    order+=(before)
fi
if [ -n "${CALZINO_ADMIN:-}" ]; then
    order+=(admin)
fi
if [ -n "${CALZINO_ONLY:-}" ]; then
    # A narrower run, e.g. CALZINO_ADMIN=1 CALZINO_ONLY="direct calzino admin" for the admin listener's cost.
    read -r -a order <<<"$CALZINO_ONLY"
fi
scraper_pid=""
for round in $(seq 1 "$rounds"); do
    # Each round starts one target later (A B C D, B C D A, ...), so that no target always follows the same
    # one: a run inherits the kernel state its predecessor left (TIME_WAIT sockets, caches).
    shift_by=$(( (round - 1) % ${#order[@]} ))
    for target in "${order[@]:shift_by}" "${order[@]:0:shift_by}"; do
        echo "# round $round: $target" >&2
        args=(bench --threads 1 --json "$work/$target-$round.json")
        if [ "$target" = direct ]; then
            args+=(--proxy direct)
        else
            start_proxy "$target"
            args+=(--proxy "socks5://127.0.0.1:$port" --proxy-pid "$proxy_pid" --proxy-cpu 0)
        fi
        if [ "$target" = admin ]; then
            # As a Prometheus would, only more often: the scrape's cost lands in the proxy's figures.
            (while true; do curl -s -o /dev/null "http://127.0.0.1:$((port + 1))/metrics" || true; sleep 1; done) &
            scraper_pid=$!
        fi
        if ! taskset -c 1 "$bin" "${args[@]}" "${extra[@]}" >"$work/$target-$round.txt" 2>&1; then
            echo "# $target round $round reported failures:" >&2
            tail -3 "$work/$target-$round.txt" >&2
        fi
        if [ -n "$scraper_pid" ]; then
            kill "$scraper_pid" 2>/dev/null || true
            wait "$scraper_pid" 2>/dev/null || true
            scraper_pid=""
        fi
        stop_proxy
        sleep 1
    done
done

stamp=$(date -u +%Y-%m-%d-%H%M)
out="benchmarks/results/$stamp.md"
{
    echo "# calzino benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
    echo "- calzino $(git rev-parse --short HEAD) (release, 1 event loop), $(danted -v 2>&1 | head -1 | cut -d. -f1-3), microsocks $(dpkg-query -W -f='${Version}' microsocks 2>/dev/null)"
    echo "- each proxy pinned to CPU 0 and started fresh for each run; load generator and targets on CPU 1; $rounds interleaved rounds, each starting one target later, medians; options: ${extra[*]:-defaults}"
    echo
    python3 benchmarks/summarize.py "$work" "$rounds"
} | tee "$out"
echo "# written to $out; raw runs in $work" >&2
