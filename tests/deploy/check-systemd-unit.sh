#!/usr/bin/env bash
# Checks deploy/systemd/refir-bridge.service without a running systemd:
#
#   check-systemd-unit.sh UNIT BRIDGE_BINARY
#
#  1. `systemd-analyze verify` on a copy whose ExecStart names BRIDGE_BINARY (verify needs the
#     binary to exist): no message at all (unknown keys are only warnings there, so any output
#     fails the check);
#  2. the directives the deployment relies on: a dedicated user, StateDirectory for the
#     journal, the hardening options, SIGTERM as the stop signal, gRPC on loopback;
#  3. `systemd-analyze security --offline=yes`: overall exposure at most 2.0 ("OK");
#  4. runs the ExecStart command line itself (the build's binary, its data directory and ports
#     moved to a temporary directory and free ports by appended flags; the last value of a flag
#     wins): it must become ready, so every flag in the unit exists and parses, and exit 0 on
#     SIGTERM.
# Exit 77 (skipped) when systemd-analyze is not installed.
set -euo pipefail

unit="$1"
binary="$2"
fail() { echo "check-systemd-unit: FAILED: $*" >&2; exit 1; }
log() { echo "check-systemd-unit: $*"; }

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-systemd-unit: SKIPPED: systemd-analyze is not installed (apt-get install systemd)" >&2
  exit 77
fi
[[ -x "$binary" ]] || fail "$binary is not an executable"

work="$(mktemp -d)"
bridge_pid=""
cleanup() {
  [[ -n "$bridge_pid" ]] && kill -KILL "$bridge_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# 1. systemd-analyze verify.
copy="$work/$(basename "$unit")"
sed "s|/usr/local/bin/refir-bridge|$binary|" "$unit" > "$copy"
if ! messages=$(systemd-analyze verify "$copy" 2>&1) || [[ -n "$messages" ]]; then
  fail "systemd-analyze verify: ${messages:-(exit status non-zero)}"
fi
log "systemd-analyze verify: no messages"

# 2. The directives (exact lines of the [Service] section).
required=(
  "User=refir-bridge" "Group=refir-bridge" "StateDirectory=refir-bridge"
  "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes"
  "PrivateDevices=yes" "CapabilityBoundingSet=" "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"
  "SystemCallFilter=@system-service" "MemoryDenyWriteExecute=yes" "KillSignal=SIGTERM"
)
for line in "${required[@]}"; do
  grep -qxF -- "$line" "$unit" || fail "no line \"$line\" in $unit"
done
# ExecStart with its continuation lines joined.
exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed 's/\\$//' | tr -s ' \n' ' ')
exec_start="${exec_start#ExecStart=}"
for flag in --data_dir=/var/lib/refir-bridge --grpc_address=127.0.0.1 --admin_address=127.0.0.1; do
  [[ " $exec_start " == *" $flag "* ]] || fail "ExecStart lacks $flag: $exec_start"
done
log "directives: ${#required[@]} present; ExecStart keeps the journal in StateDirectory and gRPC on loopback"

# 3. systemd-analyze security (offline: reads the unit file, not a running service).
security=$(systemd-analyze security --offline=yes "$copy" 2>&1 | grep 'Overall exposure level') ||
  fail "systemd-analyze security printed no overall exposure level"
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$security")
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' || fail "exposure above 2.0: $security"
log "systemd-analyze security: exposure $exposure"

# 4. The ExecStart command line runs.
read -r http_port grpc_port admin_port < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
read -r -a argv <<<"$exec_start"
argv[0]="$binary"
argv+=("--data_dir=$work/data" "--http_address=127.0.0.1" "--http_port=$http_port"
       "--grpc_port=$grpc_port" "--admin_port=$admin_port")
"${argv[@]}" 2>"$work/bridge.log" &
bridge_pid=$!
deadline=$((SECONDS + 20))
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$admin_port/readyz" 2>/dev/null; do
  if ! kill -0 "$bridge_pid" 2>/dev/null; then
    cat "$work/bridge.log" >&2
    fail "the ExecStart command line exited before it was ready"
  fi
  ((SECONDS < deadline)) || { cat "$work/bridge.log" >&2; fail "not ready within 20 s"; }
  sleep 0.1
done
kill -TERM "$bridge_pid"
status=0
wait "$bridge_pid" || status=$?
bridge_pid=""
[[ $status == 0 ]] || { cat "$work/bridge.log" >&2; fail "exit status $status after SIGTERM"; }
log "ExecStart command line: ready, exit 0 on SIGTERM"
log "PASSED"
