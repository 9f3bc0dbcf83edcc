#!/usr/bin/env bash
# Load benchmark of the telephone channel: the release binary on SQLite (durable
# commits: WAL, synchronous=FULL) in a temporary directory, on a free port.
#  1. wrk, closed loop, unique call ids from a Lua script: sustained records/s,
#     p50/p99 latency (every answer must be 201: a durable registration).
#  2. benches/pbx_rate.rs, open loop at a fixed 200 records/s: p50/p99 latency.
# Usage: benches/pbx-load.sh [seconds=20] [connections=32] [rate=200]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-20}
CONNECTIONS=${2:-32}
RATE=${3:-200}
TOKEN=bench-token-0123456789abcdef

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)"
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi
fi

cargo build --release --quiet
cargo bench --bench pbx_rate --no-run --quiet 2>/dev/null || cargo bench --bench pbx_rate --no-run
RATE_BIN=$(ls -t target/release/deps/pbx_rate-* | grep -v '\.d$' | head -1)

DIR=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    if [ -n "${KEEP:-}" ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
METRICS_PORT=$(free_port)
cat > "$DIR/senim.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
metrics_listen = "127.0.0.1:$METRICS_PORT"
[database]
data_dir = "$DIR/data"
[log]
format = "json"
level = "info"
[[pbx.sources]]
name = "bench"
token = "$TOKEN"
TOML
target/release/senim --config "$DIR/senim.toml" serve 2> "$DIR/senim.log" &
PID=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.1
done

cat > "$DIR/calls.lua" <<LUA
local threads = 0
function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end
local n = 0
function request()
    n = n + 1
    local now = os.time()
    local body = string.format(
        '{"call_id":"wrk-%d-%d-%d","caller":"+77010000000","called":"+77172000000","start":%d,"end":%d,"disposition":"answered","extension":"201"}',
        $$, tid, n, now - 60, now)
    return wrk.format("POST", "/v1/pbx/calls",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $TOKEN"}, body)
end
function done(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local bad = summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout
    io.write(string.format("wrk closed loop: %d records in %.1f s = %.0f records/s sustained; latency p50 %.1f ms, p99 %.1f ms; errors: %d non-2xx, %d timeouts, %d socket\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
        summary.errors.timeout, bad - summary.errors.status - summary.errors.timeout))
end
LUA

rss() { echo "$(( $(ps -o rss= -p "$PID") / 1024 )) MB"; }
echo "RSS idle: $(rss)"
echo "== sustained: wrk, $CONNECTIONS connections, ${SECONDS_RUN}s"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$DIR/calls.lua" "http://127.0.0.1:$PORT/v1/pbx/calls" | tail -1
echo "RSS right after: $(rss)"
echo "== fixed rate: $RATE records/s, ${SECONDS_RUN}s"
SENIM_BENCH_URL="http://127.0.0.1:$PORT/v1/pbx/calls" SENIM_BENCH_TOKEN=$TOKEN \
    SENIM_BENCH_RATE=$RATE SENIM_BENCH_SECONDS=$SECONDS_RUN "$RATE_BIN"
echo "RSS right after: $(rss)"
sleep 10
echo "RSS 10 s after the load: $(rss)"
APPEALS=$(target/release/senim --config "$DIR/senim.toml" journal list --json | wc -l)
echo "appeals registered in the Journal: $APPEALS"
echo "server errors logged (besides the start-up warnings about calendar data and alerts.director): $(grep '"level":"ERROR"' "$DIR/senim.log" | grep -v 'CALENDAR DATA MISSING' | grep -vc 'alerts.director is empty' || true)"
