#!/usr/bin/env bash
# Counts the proxy's heap allocations per session (handshake, CONNECT, 64-byte echo, close) and per relayed
# megabyte, with an LD_PRELOAD counter (benchmarks/malloc-count) around `calzino bench` runs. Only the
# server's allocations count: the load generator is another process.
#
# usage: benchmarks/allocations.sh [SERVER_BINARY]
#   SERVER_BINARY: the calzino to measure (default: this tree's release build); the load comes from this
#   tree's build either way, so that two servers are measured with one generator.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product calzino >/dev/null
bin=.build/release/calzino
server_bin="${1:-$bin}"
work=$(mktemp -d /tmp/calzino-allocations.XXXXXX)
gcc -O2 -shared -fPIC -o "$work/libmalloc_count.so" benchmarks/malloc-count/malloc_count.c -ldl

port=21090
MALLOC_COUNT_FILE="$work/count" LD_PRELOAD="$work/libmalloc_count.so" \
    "$server_bin" serve --listen "127.0.0.1:$port" --threads 1 --log-level warning &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1

count() {
    rm -f "$work/count"
    kill -USR2 "$server"
    for _ in $(seq 100); do [ -s "$work/count" ] && break; sleep 0.01; done
    cat "$work/count"
}
figure() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# Warm up lazily initialised state (metadata caches, pools) before counting.
"$bin" bench --proxy "socks5://127.0.0.1:$port" --threads 1 --scenarios rate --rate-seconds 1 --workers 8 >/dev/null

before=$(count)
"$bin" bench --proxy "socks5://127.0.0.1:$port" --threads 1 --scenarios rate --rate-seconds 3 --workers 8 --json "$work/rate.json" >/dev/null
after=$(count)
sessions=$(figure "$work/rate.json" rate_sessions)

before_bulk=$(count)
"$bin" bench --proxy "socks5://127.0.0.1:$port" --threads 1 --scenarios throughput --bytes 1G --parallel 8 >/dev/null
after_bulk=$(count)

python3 - "$before" "$after" "$sessions" "$before_bulk" "$after_bulk" <<'PY'
import sys
before, after, sessions, before_bulk, after_bulk = map(float, sys.argv[1:])
per_session = (after - before) / sessions
# The throughput run moves 1 GiB up and 1 GiB down through one tunnel, then again over 8 tunnels.
megabytes = 4 * 1024
tunnels = 2 * (1 + 8)
per_mb = (after_bulk - before_bulk - tunnels * per_session) / megabytes
print(f"| measure | allocations |")
print(f"|---|---|")
print(f"| per session (greeting, CONNECT, 64-byte echo, close), {sessions:.0f} sessions | {per_session:.1f} |")
print(f"| per relayed MiB (4 GiB moved, tunnel set-up subtracted) | {per_mb:.1f} |")
PY
