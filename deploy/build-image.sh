#!/usr/bin/env bash
# Builds the refir-bridge container image (deploy/Dockerfile) with podman or docker and prints
# the image's name on its last line (the only line on stdout; progress goes to stderr):
#
#   deploy/build-image.sh                    # the binary of build/ (a Debian 12 host's build)
#   deploy/build-image.sh --binary PATH      # another binary built on Debian 12
#   deploy/build-image.sh --from-source      # compile inside the image (slow: ~minutes of gRPC code)
#   deploy/build-image.sh --tag NAME         # default localhost/refir-bridge:<project version>
#
# Base image: debian:bookworm-slim from the registry when one answers; otherwise a Debian 12
# minbase bootstrapped here with mmdebstrap from the Debian mirror and imported as
# localhost/debian:bookworm (made once, reused by later builds; REFIR_REBOOTSTRAP=1 remakes
# it). REFIR_BASE_IMAGE=NAME skips the choice. The script says which base it used.
# Engine: deploy/container-engine.sh (REFIR_CONTAINER_ENGINE=podman|docker).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=deploy/container-engine.sh
source "$here/container-engine.sh"

version="$(sed -n 's/^project(refir-bridge VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")"
tag="localhost/refir-bridge:${version:-latest}"
binary="$repo/build/bridge/refir-bridge"
from_source=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --binary=*) binary="${1#*=}"; shift ;;
    --tag) tag="$2"; shift 2 ;;
    --tag=*) tag="${1#*=}"; shift ;;
    --from-source) from_source=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "build-image.sh: $*" >&2; }

pick_container_engine || exit 1
log "engine: ${ENGINE[*]}"

image_exists() { "${ENGINE[@]}" image inspect "$1" >/dev/null 2>&1; }

# Debian 12 minbase with the path excludes of the official slim image (no man pages, docs,
# locales), the bookworm, bookworm-updates and bookworm-security suites (the host's library
# versions), and merged /usr without the usrmerge package (which would pull in perl).
bootstrap_base() {
  local name="localhost/debian:bookworm"
  if image_exists "$name" && [[ "${REFIR_REBOOTSTRAP:-0}" != 1 ]]; then
    log "base: $name (bootstrapped earlier with mmdebstrap; REFIR_REBOOTSTRAP=1 remakes it)"
    base="$name"
    return 0
  fi
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    log "no registry answers and mmdebstrap is not installed (apt-get install mmdebstrap)"
    return 1
  fi
  local work
  work="$(mktemp -d)"
  log "base: bootstrapping Debian 12 with mmdebstrap (about a minute)"
  local start=$SECONDS
  if ! mmdebstrap --quiet --variant=minbase \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-include=/usr/share/locale/locale.alias' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      bookworm "$work/rootfs.tar" \
      "deb http://deb.debian.org/debian bookworm main" \
      "deb http://deb.debian.org/debian bookworm-updates main" \
      "deb http://deb.debian.org/debian-security bookworm-security main" >&2; then
    rm -rf "$work"
    log "mmdebstrap failed"
    return 1
  fi
  "${ENGINE[@]}" import --change 'CMD ["bash"]' "$work/rootfs.tar" "$name" >/dev/null
  rm -rf "$work"
  log "base: $name, bootstrapped with mmdebstrap in $((SECONDS - start)) s (no registry answered)"
  base="$name"
}

# The registry's image when it can be had (already pulled, or pulled now), else a bootstrap.
pick_base() {
  local registry_base="docker.io/library/debian:bookworm-slim"
  if [[ -n "${REFIR_BASE_IMAGE:-}" ]]; then
    base="$REFIR_BASE_IMAGE"
    log "base: $base (REFIR_BASE_IMAGE)"
    return 0
  fi
  if image_exists "$registry_base" ||
      timeout 120 "${ENGINE[@]}" pull "$registry_base" >/dev/null 2>&1; then
    base="$registry_base"
    log "base: $base (from the registry)"
    return 0
  fi
  log "the registry does not answer (pull $registry_base failed): using a local Debian 12 base"
  bootstrap_base
}

base=""
pick_base || exit 1
build_base="$base"
if [[ "$base" == docker.io/library/debian:bookworm-slim ]]; then
  build_base="docker.io/library/debian:bookworm"
fi

build_flags=(build --network host -f "$here/Dockerfile" -t "$tag"
             --build-arg "BASE_IMAGE=$base" --build-arg "BUILD_IMAGE=$build_base")
if [[ "$ENGINE_NAME" == podman ]]; then
  # The docker format keeps HEALTHCHECK (the OCI format has no field for it).
  build_flags+=(--format docker)
fi

# The image this tag named before: removed below once the tag moves (if nothing uses it), so
# repeated builds do not pile up untagged images.
previous_id="$("${ENGINE[@]}" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
context=""
cleanup() { if [[ -n "$context" ]]; then rm -rf "$context"; fi; }
trap cleanup EXIT
start=$SECONDS
if [[ $from_source == 1 ]]; then
  log "compiling the bridge inside the image (target from-source; context $repo)"
  "${ENGINE[@]}" "${build_flags[@]}" --target from-source "$repo" >&2
else
  if [[ ! -x "$binary" ]]; then
    log "$binary not found: build it first (cmake --build build --target refir-bridge)," \
      "or pass --binary PATH or --from-source"
    exit 1
  fi
  # Only the binary goes in the context, without its debug sections (41 MB -> 2.3 MB).
  context="$(mktemp -d)"
  cp "$binary" "$context/refir-bridge"
  strip --strip-debug "$context/refir-bridge"
  log "binary: $binary (built on this host; the image has the same Debian 12 libraries)"
  "${ENGINE[@]}" "${build_flags[@]}" --target prebuilt "$context" >&2
fi
new_id="$("${ENGINE[@]}" image inspect --format '{{.Id}}' "$tag")"
if [[ -n "$previous_id" && "$previous_id" != "$new_id" ]]; then
  "${ENGINE[@]}" rmi "$previous_id" >/dev/null 2>&1 || true
fi
size="$("${ENGINE[@]}" image inspect --format '{{.Size}}' "$tag" 2>/dev/null || echo 0)"
log "built $tag in $((SECONDS - start)) s, $((size / 1000000)) MB"
echo "$tag"
