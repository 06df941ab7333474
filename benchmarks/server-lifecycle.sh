# Sourced by the benchmark scripts that start a server per run: `server` holds its pid; `stop_server` ends it
# (and is the EXIT trap); `wait_listening PORT` waits up to 10 s for it to accept.
server=""

stop_server() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=""
    fi
}
trap stop_server EXIT

wait_listening() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
