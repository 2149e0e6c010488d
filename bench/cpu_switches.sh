#!/usr/bin/env bash
# The bridge's CPU time and context switches per webhook at one rate, for
# comparing two builds of the bridge with everything else equal
# (bench/notes.md, "Leader/follower group commit"):
#
#   bench/cpu_switches.sh <refir-bridge binary> [rate] [seconds]
#
# Starts the given bridge on a fresh data dir with its defaults, sends 200
# warm-up webhooks, then has the load generator send RATE/s for SECONDS over
# 32 connections (as bench/run's cpu section). Prints, per webhook answered
# 2xx: utime+stime (/proc/<pid>/stat) and the voluntary and involuntary
# context switches summed over all the bridge's threads
# (/proc/<pid>/task/*/status). Build first: cmake --build build -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
bridge=${1:?usage: bench/cpu_switches.sh <refir-bridge> [rate] [seconds]}
rate=${2:-500}
seconds=${3:-8}
work=$(mktemp -d)
trap 'kill "$bridge_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bridge" --data_dir="$work/data" --http_port=0 --grpc_port=0 --admin_port=0 \
  --ports_file="$work/ports" >"$work/bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 200); do grep -q '^admin_port=' "$work/ports" 2>/dev/null && break; sleep 0.05; done
http=$(sed -n 's/^http_port=//p' "$work/ports")
url="http://127.0.0.1:$http/webhook"
loadgen=build/bench/refir_bench_loadgen

"$loadgen" --url="$url" --connections=32 --rate=200 --requests=200 \
  --body_file=bench/ingest_body.json >/dev/null

# utime+stime in ticks, voluntary and involuntary switches over every thread.
snapshot() {
  local vol=0 invol=0 v n
  for task in /proc/"$bridge_pid"/task/*; do
    v=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status" 2>/dev/null || echo 0)
    n=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$task/status" 2>/dev/null || echo 0)
    vol=$((vol + ${v:-0}))
    invol=$((invol + ${n:-0}))
  done
  echo "$(awk '{print $14 + $15}' /proc/"$bridge_pid"/stat) $vol $invol"
}
read -r cpu0 vol0 invol0 < <(snapshot)
result=$("$loadgen" --url="$url" --connections=32 --rate="$rate" --duration="$seconds" \
  --body_file=bench/ingest_body.json | tail -n 1)
read -r cpu1 vol1 invol1 < <(snapshot)
ok=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["ok"])' "$result")
python3 - "$rate" "$ok" "$(getconf CLK_TCK)" "$cpu0" "$cpu1" "$vol0" "$vol1" "$invol0" "$invol1" \
  "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import sys
rate, ok, tck, c0, c1, v0, v1, n0, n1 = (int(float(a)) for a in sys.argv[1:10])
print(f"rate={rate}/s ok={ok} cpu_us_per_webhook={(c1 - c0) / tck * 1e6 / ok:.0f} "
      f"voluntary_switches_per_webhook={(v1 - v0) / ok:.2f} "
      f"involuntary_switches_per_webhook={(n1 - n0) / ok:.2f} loadavg={sys.argv[10]}")
PY
