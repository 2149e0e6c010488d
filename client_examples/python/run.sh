#!/usr/bin/env bash
# Generates the Python code of the refir-bridge protos into a build directory
# (once per version of the .proto files), then runs subscriber.py with the
# same flags. Works from any directory.
#
# Uses Debian's /usr/bin/protoc, /usr/bin/grpc_python_plugin and
# /usr/bin/python3 (with python3-grpcio and python3-protobuf); PROTOC,
# GRPC_PYTHON_PLUGIN and PYTHON override them.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="${REFIR_EXAMPLE_BUILD_DIR:-$repo/build/client_examples/python}"
protoc="${PROTOC:-/usr/bin/protoc}"
plugin="${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}"
python="${PYTHON:-/usr/bin/python3}"
protos=(refir/bridge/v1/event.proto refir/bridge/v1/event_stream.proto)

# The generated code goes into a directory named after the protos' content, so
# that editing them regenerates it, and it appears whole (rename) even when
# several run.sh start at once.
hash="$(cd "$repo/proto" && cat "${protos[@]}" | sha256sum | cut -c1-16)"
gen_dir="$build_dir/gen-$hash"
if [ ! -d "$gen_dir" ]; then
  mkdir -p "$build_dir"
  tmp="$(mktemp -d "$build_dir/.gen.XXXXXX")"
  chmod 755 "$tmp"
  if ! "$protoc" -I "$repo/proto" --plugin=protoc-gen-grpc_python="$plugin" \
      --python_out="$tmp" --grpc_python_out="$tmp" "${protos[@]}"; then
    echo "run.sh: generating the Python code with $protoc failed" >&2
    rm -rf "$tmp"
    exit 1
  fi
  # Another run.sh may have won the race: then keep its copy.
  mv -T "$tmp" "$gen_dir" 2>/dev/null || rm -rf "$tmp"
fi

export PYTHONPATH="$gen_dir${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" "$here/subscriber.py" "$@"
