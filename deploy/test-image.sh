#!/usr/bin/env bash
# Runs the refir-bridge image and checks it end to end, as a user would:
#
#   deploy/test-image.sh [--image NAME | --binary PATH --tag NAME] [--subscriber PATH]
#
#  1. starts the image with host networking, its listeners on free ports of 127.0.0.1 (set by
#     REFIR_BRIDGE_* environment variables, which must override the image's defaults) and a
#     new named volume for the journal; waits for GET /readyz (prints the time it took);
#  2. checks the bridge runs as uid 10001, POSTs a webhook (200), receives and acks it over
#     gRPC with the C++ example subscriber (client_examples/cpp), asks grpc.health.v1 (SERVING);
#  3. sends SIGTERM and expects exit status 0, and journal.db on the volume (owner 10001, 0600);
#  4. starts a new container on the same volume: the first event is still there (a new group
#     from the earliest gets sequences 1 and 2), the first group resumes after its ack
#     (gets only sequence 2); SIGTERM again, exit 0.
#
# Without --image it builds one with deploy/build-image.sh (passing --binary and --tag, if
# given). --subscriber defaults to
# build/client_examples/cpp/refir_subscriber. Needs curl and python3-grpcio (both in
# scripts/install-deps.sh). Exit 0 when every check passed, 1 when one failed, 77 when no
# container engine is usable (ctest reports that as skipped).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=deploy/container-engine.sh
source "$here/container-engine.sh"

image=""
build_args=()
subscriber="$repo/build/client_examples/cpp/refir_subscriber"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --image) image="$2"; shift 2 ;;
    --image=*) image="${1#*=}"; shift ;;
    --binary|--tag) build_args+=("$1" "$2"); shift 2 ;;
    --binary=*|--tag=*) build_args+=("$1"); shift ;;
    --subscriber) subscriber="$2"; shift 2 ;;
    --subscriber=*) subscriber="${1#*=}"; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "test-image.sh: $*"; }
fail() { echo "test-image.sh: FAILED: $*" >&2; exit 1; }

if ! pick_container_engine; then
  echo "test-image.sh: SKIPPED: no container engine (podman, or docker with a daemon)" >&2
  exit 77
fi
PYTHON=/usr/bin/python3
[[ -x "$subscriber" ]] || fail "$subscriber not found (cmake --build build --target refir_subscriber)"
command -v curl >/dev/null || fail "curl is not installed"
"$PYTHON" -c 'import grpc' 2>/dev/null || fail "python3-grpcio is not installed"

if [[ -z "$image" ]]; then
  image="$("$here/build-image.sh" "${build_args[@]}" | tail -n 1)" || fail "deploy/build-image.sh failed"
fi
log "engine ${ENGINE_NAME}, image $image"

# Three ports that were free a moment ago (bound to 0 together, then released).
read -r http_port grpc_port admin_port < <("$PYTHON" -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

suffix="$$-$RANDOM"
volume="refir-bridge-test-$suffix"
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    "${ENGINE[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || "${ENGINE[@]}" rm -f "$c" >/dev/null 2>&1 || true
  done
  "${ENGINE[@]}" volume rm -f "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"${ENGINE[@]}" volume create "$volume" >/dev/null

# The bridge raises its open-file limit to the hard limit; give explicit limits, as some
# hosts (this project's machines) do not let the container raise them.
start_container() {
  local name="$1"
  containers+=("$name")
  started_ns=$(date +%s%N)
  # podman without systemd logs that it cannot schedule the HEALTHCHECK timer: noise here.
  "${ENGINE[@]}" run -d --name "$name" --network host \
    --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
    -v "$volume:/var/lib/refir-bridge" \
    -e REFIR_BRIDGE_HTTP_ADDRESS=127.0.0.1 \
    -e REFIR_BRIDGE_HTTP_PORT="$http_port" \
    -e REFIR_BRIDGE_GRPC_PORT="$grpc_port" \
    -e REFIR_BRIDGE_ADMIN_PORT="$admin_port" \
    "$image" 2> >(grep -v 'systemd connection' >&2) >/dev/null
}

wait_ready() {
  local name="$1" deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$admin_port/readyz" 2>/dev/null; do
    if [[ "$("${ENGINE[@]}" inspect --format '{{.State.Running}}' "$name")" != true ]]; then
      "${ENGINE[@]}" logs "$name" >&2 || true
      fail "$name exited before it was ready"
    fi
    if ((SECONDS > deadline)); then
      "${ENGINE[@]}" logs "$name" >&2 || true
      fail "$name not ready within 30 s"
    fi
    sleep 0.1
  done
  log "$name ready $(( ($(date +%s%N) - started_ns) / 1000000 )) ms after \`run\` was called"
}

post_webhook() {
  local id="$1" status
  status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
    -H 'Content-Type: application/json' -H "webhook-id: $id" \
    --data '{"event":"referral_created","lead":{"id":1,"email":"ana@example.com"},"referrer":{"id":2,"email":"bo@example.com"},"message":"from the image test"}' \
    "http://127.0.0.1:$http_port/webhook")
  [[ "$status" == 200 ]] || fail "POST $id answered $status"
}

# Runs the example subscriber until it acked $2 events; its stdout in $output.
subscribe() {
  local group="$1" count="$2"
  if ! output=$(timeout 30 "$subscriber" --target="127.0.0.1:$grpc_port" --group="$group" \
      --client_id=image-test --start=earliest --max_events="$count"); then
    echo "$output" >&2
    fail "subscriber (group $group) did not ack $count event(s)"
  fi
}

expect_line() {
  grep -q -- "$1" <<<"$output" || { echo "$output" >&2; fail "no line matching: $1"; }
}

health() {
  "$PYTHON" - "$grpc_port" <<'EOF'
import sys, grpc
channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
check = channel.unary_unary("/grpc.health.v1.Health/Check")
# HealthCheckRequest{} is empty; HealthCheckResponse{status: SERVING} is field 1 = 1.
reply = check(b"", timeout=10)
print("SERVING" if reply == b"\x08\x01" else f"not SERVING: {reply!r}")
EOF
}

stop_container() {
  local name="$1" code start_ns
  start_ns=$(date +%s%N)
  "${ENGINE[@]}" kill --signal TERM "$name" >/dev/null
  code=$(timeout 30 "${ENGINE[@]}" wait "$name") || fail "$name did not exit within 30 s of SIGTERM"
  [[ "$code" == 0 ]] || { "${ENGINE[@]}" logs "$name" >&2; fail "$name exited $code after SIGTERM"; }
  log "$name exited 0 $(( ($(date +%s%N) - start_ns) / 1000000 )) ms after SIGTERM"
}

# 1-2: first container.
first="refir-bridge-test-a-$suffix"
start_container "$first"
wait_ready "$first"
pid=$("${ENGINE[@]}" inspect --format '{{.State.Pid}}' "$first")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[[ "$uid" == 10001 ]] || fail "the bridge runs as uid $uid, not 10001"
log "bridge runs as uid $uid"
post_webhook wh_image_1
subscribe image-test 1
expect_line '^event sequence=1 id=wh_image_1 '
expect_line '^ack sequence=1$'
log "webhook received and acked over gRPC"
[[ "$(health)" == SERVING ]] || fail "gRPC health: $(health)"
log "gRPC health: SERVING"
# The image's HEALTHCHECK (bash asking /readyz on the admin port named by the environment).
if [[ "$ENGINE_NAME" == podman ]]; then
  "${ENGINE[@]}" healthcheck run "$first" 2> >(grep -v 'systemd connection' >&2) ||
    fail "the image's HEALTHCHECK reports unhealthy"
  log "HEALTHCHECK: healthy"
fi

rss=$(awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {printf "VmRSS %d MiB, VmHWM %d MiB", r/1024, h/1024}' "/proc/$pid/status")
log "bridge memory after one webhook: $rss"

# 3: SIGTERM, the journal on the volume.
stop_container "$first"
mountpoint=$("${ENGINE[@]}" volume inspect --format '{{.Mountpoint}}' "$volume")
[[ -f "$mountpoint/journal.db" ]] || fail "no journal.db on the volume ($mountpoint)"
owner_mode=$(stat -c '%u %a' "$mountpoint/journal.db")
[[ "$owner_mode" == "10001 600" ]] || fail "journal.db is uid/mode $owner_mode, not 10001 600"
log "journal.db on the volume: uid 10001, mode 0600"

# 4: a new container on the same volume.
second="refir-bridge-test-b-$suffix"
start_container "$second"
wait_ready "$second"
post_webhook wh_image_2
subscribe image-test-new 2
expect_line '^event sequence=1 id=wh_image_1 '
expect_line '^event sequence=2 id=wh_image_2 '
subscribe image-test 1
expect_line '^event sequence=2 id=wh_image_2 '
if grep -q '^event sequence=1 ' <<<"$output"; then
  echo "$output" >&2
  fail "the first group got sequence 1 again after a restart"
fi
log "after a restart on the same volume: the journal kept sequence 1, the group kept its ack"
stop_container "$second"
log "PASSED"
