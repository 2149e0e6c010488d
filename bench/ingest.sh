#!/usr/bin/env bash
# Durable ingest throughput: starts the bridge (SQLite journal, fsync on) on a
# fresh data directory and free ports, drives it with wrk (POST of a ~300-byte
# Refir body), prints wrk's summary, stops the bridge.
#   bench/ingest.sh [seconds] [connections]      (defaults: 10 s, 32 connections)
# REFIR_BENCH_SCRIPT picks another wrk script, e.g. bench/ingest_unique_ids.lua
# (a distinct webhook-id per request, so every request takes the dedup path).
# Extra bridge flags come from $BRIDGE_FLAGS (e.g. --access_log=false).
# The bridge's stderr (its log, JSON lines) goes to a file.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-10}"
CONNECTIONS="${2:-32}"
BRIDGE="${BRIDGE_BINARY:-build/bridge/refir-bridge}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -x "$BRIDGE" ] || { echo "build the bridge first: make build" >&2; exit 1; }

WORK="$(mktemp -d)"
"$BRIDGE" --data_dir="$WORK/data" --http_port=0 --grpc_port=0 --admin_port=-1 \
  --ports_file="$WORK/ports" ${BRIDGE_FLAGS:-} \
  2> "$WORK/bridge.log" &
BRIDGE_PID=$!
trap 'kill -TERM $BRIDGE_PID 2>/dev/null; wait $BRIDGE_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do
  [ -s "$WORK/ports" ] && break
  kill -0 $BRIDGE_PID 2>/dev/null || { cat "$WORK/bridge.log" >&2; exit 1; }
  sleep 0.05
done
HTTP_PORT="$(sed -n 's/^http_port=//p' "$WORK/ports")"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --latency -s "${REFIR_BENCH_SCRIPT:-bench/ingest.lua}" \
  "http://127.0.0.1:${HTTP_PORT}/webhook"
