#!/usr/bin/env bash
# Takes a screenshot of the admin listener's status page while traffic flows, with headless Chromium, so that
# a person can look at it (issue 13).
#
#   bash scripts/status-screenshot.sh [OUTPUT.png]      (default: status-page.png in the current directory)
#
# Starts this tree's `calzino serve --admin` on loopback, a local HTTP server as the destination, a few curl
# sessions through the proxy (one of them slow, so that it is open when the page is taken), then Chromium.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-status-page.png}")"
cd "$root"
swift build --product calzino >/dev/null
work=$(mktemp -d /tmp/calzino-screenshot.XXXXXX)
head -c 5000000 /dev/urandom > "$work/big.bin"
head -c 60000000 /dev/zero > "$work/huge.bin"
echo hello > "$work/index.html"
python3 -m http.server 18181 --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 &
web=$!
.build/debug/calzino serve --listen 127.0.0.1:11080 --admin 127.0.0.1:19180 2>"$work/serve.log" &
server=$!
trap 'kill $server $web 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT
sleep 1
for _ in 1 2 3 4 5; do curl -s --socks5-hostname 127.0.0.1:11080 http://127.0.0.1:18181/ >/dev/null; done
curl -s --socks5 127.0.0.1:11080 http://127.0.0.1:9/ >/dev/null || true
# A slow download keeps one session open while the page is taken; repeated downloads make steady traffic.
curl -s --limit-rate 100K --socks5-hostname 127.0.0.1:11080 http://127.0.0.1:18181/huge.bin -o /dev/null &
slow=$!
(for _ in $(seq 200); do curl -s --socks5-hostname 127.0.0.1:11080 http://127.0.0.1:18181/big.bin -o /dev/null; sleep 0.05; done) &
load=$!
sleep 1
# Real time: the page measures throughput between its refreshes, two seconds apart (Chromium's DevTools
# protocol through scripts/screenshot.mjs, with Node's WebSocket).
chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$work/profile" \
    --remote-debugging-port=19222 about:blank 2>/dev/null &
browser=$!
sleep 2
node --experimental-websocket scripts/screenshot.mjs 19222 "http://127.0.0.1:19180/" 9 "$out" 2>/dev/null
kill $browser 2>/dev/null || true
kill $slow $load 2>/dev/null || true
echo "screenshot: $out"
