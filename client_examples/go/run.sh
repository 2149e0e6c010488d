#!/usr/bin/env bash
# Builds the Go example subscriber (when it is missing or older than main.go or
# the .proto files) and runs it with the given flags. GOPATH mode, with the
# Debian packages listed in README.md; nothing is downloaded.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="${REFIR_EXAMPLE_BUILD_DIR:-$repo/build/client_examples/go}"
gopath="$build_dir/gopath"
binary="$build_dir/subscriber"
protos=(refir/bridge/v1/event.proto refir/bridge/v1/event_stream.proto)

needs_build() {
  [ -x "$binary" ] || return 0
  [ "$here/main.go" -nt "$binary" ] && return 0
  local proto
  for proto in "${protos[@]}"; do
    [ "$repo/proto/$proto" -nt "$binary" ] && return 0
  done
  return 1
}

build() {
  local tool
  for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
    if ! command -v "$tool" >/dev/null; then
      echo "run.sh: $tool not found; see $here/README.md (or run scripts/install-deps.sh)" >&2
      return 1
    fi
  done
  rm -rf "$gopath/src"
  mkdir -p "$gopath/src/refir-bridge-example"
  # Lands in $gopath/src/<go_package>, i.e. github.com/refir/refir-bridge/gen/go/refir/bridge/v1.
  protoc -I "$repo/proto" \
    --go_out="$gopath/src" --go_opt=paths=import \
    --go-grpc_out="$gopath/src" --go-grpc_opt=paths=import \
    "${protos[@]}"
  cp "$here/main.go" "$gopath/src/refir-bridge-example/"
  GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$build_dir/gocache" \
    go build -o "$binary.tmp" refir-bridge-example
  mv -f "$binary.tmp" "$binary"
}

mkdir -p "$build_dir"
if needs_build; then
  # One build at a time when several subscribers start together.
  (
    flock 9
    if needs_build; then
      build
    fi
  ) 9>"$build_dir/.build.lock"
fi

exec "$binary" "$@"
