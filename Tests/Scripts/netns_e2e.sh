#!/usr/bin/env bash
# Builds two networks with no route between them (a "lan" namespace, a "wan" namespace, and calzino in a
# third joined to both by veth pairs, with forwarding off), starts calzino and the wan targets, runs the lan
# client of netns_e2e.py, and tears everything down. Exit 77, with the reason: namespaces cannot be made here
# (not root, or no iproute2); the test reports that as a skip, except in CI, where it fails.
#
# usage: netns_e2e.sh CALZINO_BINARY
set -u
calzino="$1"
here="$(cd "$(dirname "$0")" && pwd)"
s=$$
lan=czlan$s wan=czwan$s px=czpx$s

command -v ip >/dev/null 2>&1 || { echo "ip (Debian's iproute2) is not installed"; exit 77; }
if ! why="$(ip netns add "$lan" 2>&1)"; then
    echo "cannot create network namespaces (root needed): $why"
    exit 77
fi
cleanup() {
    for n in "$lan" "$wan" "$px"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$n" 2>/dev/null
    done
}
trap cleanup EXIT
set -e
ip netns add "$wan"
ip netns add "$px"
ip link add "czl$s" netns "$lan" type veth peer name "czpl$s" netns "$px"
ip link add "czw$s" netns "$wan" type veth peer name "czpw$s" netns "$px"
ip -n "$lan" addr add 10.201.1.2/24 dev "czl$s"
ip -n "$px" addr add 10.201.1.1/24 dev "czpl$s"
ip -n "$wan" addr add 10.202.1.2/24 dev "czw$s"
ip -n "$px" addr add 10.202.1.1/24 dev "czpw$s"
for n in "$lan" "$wan" "$px"; do ip -n "$n" link set lo up; done
ip -n "$lan" link set "czl$s" up
ip -n "$px" link set "czpl$s" up
ip -n "$wan" link set "czw$s" up
ip -n "$px" link set "czpw$s" up
# 10.203.0.0/16 is an "unreachable" route (connect: EHOSTUNREACH); 10.204.0.0/16 has no route (ENETUNREACH).
ip -n "$px" route add unreachable 10.203.0.0/16
# The proxy's namespace does not forward: the only way across is through calzino.
ip netns exec "$px" sysctl -qw net.ipv4.ip_forward=0
set +e

logs="$(mktemp -d)"
cleanup_logs() { rm -rf "$logs"; }
trap 'cleanup; cleanup_logs' EXIT
ip netns exec "$px" "$calzino" serve --listen 10.201.1.1:1080 --allow-open-proxy --allow-private-destinations --log-level info 2>"$logs/calzino" &
ip netns exec "$wan" python3 "$here/netns_e2e.py" wan-servers 10.202.1.2 >"$logs/wan" 2>&1 &
# Ready means: calzino logged its listening address, and the wan servers said "ready" after binding all three
# ports (they bind before printing). No sleep stands in for either.
ready=""
for _ in $(seq 200); do
    if grep -q 'address=10.201.1.1:1080' "$logs/calzino" && grep -q '^ready' "$logs/wan"; then ready=yes; break; fi
    sleep 0.05
done
if [ -z "$ready" ]; then
    echo "not ready after 10 s"; echo "--- calzino:"; cat "$logs/calzino"; echo "--- wan:"; cat "$logs/wan"
    exit 1
fi
timeout 60 ip netns exec "$lan" python3 "$here/netns_e2e.py" lan-client 10.201.1.1 1080 10.202.1.2 10.201.1.1 10.202.1.1
