#!/usr/bin/env bash
# The bridge's CPU time for one fan-out run, for comparing two builds of the
# bridge with everything else equal (bench/notes.md, "Fan-out"):
#
#   bench/fanout_cpu.sh <refir-bridge binary> [groups] [rate] [webhooks]
#
# Starts the given bridge on a fresh data dir, this checkout's subscriber with
# G groups from the latest event and the load generator at RATE/s for N
# webhooks; prints the bridge's user+system CPU seconds over the run and the
# subscriber-measured p50/p99. Build first: cmake --build build -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
bridge=${1:?usage: bench/fanout_cpu.sh <refir-bridge> [groups] [rate] [webhooks]}
groups=${2:-16}
rate=${3:-5000}
webhooks=${4:-100000}
work=$(mktemp -d)
trap 'kill "$bridge_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bridge" --data_dir="$work/data" --http_port=0 --grpc_port=0 --admin_port=0 \
  --ports_file="$work/ports" >"$work/bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 200); do [[ -s $work/ports ]] && break; sleep 0.05; done
grpc=$(sed -n 's/^grpc_port=//p' "$work/ports")
http=$(sed -n 's/^http_port=//p' "$work/ports")

build/bench/refir_bench_subscriber --target="127.0.0.1:$grpc" --groups="$groups" \
  --group_prefix=fanout --start=latest --expect="$webhooks" --timeout=300 \
  --ready_file="$work/ready" >"$work/subscriber.out" 2>/dev/null &
subscriber_pid=$!
for _ in $(seq 400); do [[ -e $work/ready ]] && break; sleep 0.05; done

ticks() { awk '{print $14 + $15}' "/proc/$bridge_pid/stat"; }
before=$(ticks)
build/bench/refir_bench_loadgen --url="http://127.0.0.1:$http/webhook" --connections=32 \
  --rate="$rate" --requests="$webhooks" --body_file=bench/ingest_body.json >"$work/loadgen.out"
wait "$subscriber_pid"
after=$(ticks)
python3 - "$before" "$after" "$(getconf CLK_TCK)" "$work/subscriber.out" <<'PY'
import json, sys
before, after, hz, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
summary = json.loads(open(path).read().strip().splitlines()[-1])
print(f"bridge CPU {(after - before) / hz:.2f} s; every group got "
      f"{summary['min_group_received']} events; p50 {summary['p50_us'] / 1000:.2f} ms, "
      f"p99 {summary['p99_us'] / 1000:.2f} ms")
PY
