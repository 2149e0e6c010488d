# shellcheck shell=bash disable=SC2034  # ENGINE and ENGINE_NAME are for the sourcing script
# Sourced by deploy/build-image.sh and deploy/test-image.sh: picks the container engine and
# sets ENGINE (an array: the command and its global flags) and ENGINE_NAME (podman|docker).
#
#   REFIR_CONTAINER_ENGINE=podman|docker   use that one (default: podman if installed, else a
#                                          docker whose daemon answers)
#   REFIR_PODMAN_ROOT, REFIR_PODMAN_RUNROOT podman's storage (default /var/lib/containers/storage
#                                          and /run/containers/storage, podman's own for root)
#
# podman gets its storage as --root/--runroot flags rather than a storage.conf, runc as its
# runtime when installed (crun 1.8 refuses hybrid cgroup v1/v2 hosts such as this project's
# machines), and the cgroupfs cgroup manager and a file events log where systemd is not PID 1
# (containers, CI machines). Returns 1 (with a message) when no engine is usable.

pick_container_engine() {
  local wanted="${REFIR_CONTAINER_ENGINE:-}"
  ENGINE=()
  ENGINE_NAME=""
  if [[ -z "$wanted" || "$wanted" == podman ]] && command -v podman >/dev/null 2>&1; then
    ENGINE=(podman --root "${REFIR_PODMAN_ROOT:-/var/lib/containers/storage}"
            --runroot "${REFIR_PODMAN_RUNROOT:-/run/containers/storage}")
    if command -v runc >/dev/null 2>&1; then
      ENGINE+=(--runtime runc)
    fi
    if [[ ! -d /run/systemd/system ]]; then
      ENGINE+=(--cgroup-manager cgroupfs --events-backend file)
    fi
    ENGINE_NAME=podman
    return 0
  fi
  if [[ -z "$wanted" || "$wanted" == docker ]] && command -v docker >/dev/null 2>&1; then
    if timeout 10 docker info >/dev/null 2>&1; then
      ENGINE=(docker)
      ENGINE_NAME=docker
      return 0
    fi
    echo "container-engine: docker is installed but its daemon does not answer (docker info)" >&2
  fi
  echo "container-engine: no usable container engine${wanted:+ ($wanted asked for)}:" \
    "install podman (apt-get install podman runc) or start a docker daemon" >&2
  return 1
}
