#!/usr/bin/env bash
# Runs the C++ example subscriber with the given flags (see README.md here and
# docs/clients.md). The C++ code is generated and compiled by the top-level
# CMake project, so this only execs the binary it built:
# $REFIR_EXAMPLE_BUILD_DIR/refir_subscriber if that variable is set, else
# <repo>/build/client_examples/cpp/refir_subscriber.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="${REFIR_EXAMPLE_BUILD_DIR:-$repo/build/client_examples/cpp}"
binary="$build_dir/refir_subscriber"

if [[ ! -x "$binary" ]]; then
  echo "run.sh: $binary not found; build it first:" >&2
  echo "  cmake -S $repo -B $repo/build && cmake --build $repo/build --target refir_subscriber" >&2
  exit 1
fi
exec "$binary" "$@"
