#!/usr/bin/env bash
# Runs the Node example subscriber. On first use, installs @grpc/grpc-js and
# @grpc/proto-loader (the versions pinned in package-lock.json) into the build
# directory: $REFIR_EXAMPLE_BUILD_DIR, else <repo>/build/client_examples/node.
# The .proto files are loaded from <repo>/proto at run time. Flags are passed on.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="${REFIR_EXAMPLE_BUILD_DIR:-$repo/build/client_examples/node}"

installed() {
  [[ -d "$build_dir/node_modules/@grpc/grpc-js" && -d "$build_dir/node_modules/@grpc/proto-loader" ]]
}

if ! installed; then
  mkdir -p "$build_dir"
  build_dir="$(cd "$build_dir" && pwd)"
  # Serialise concurrent first runs sharing one build directory.
  exec 9>"$build_dir/.npm-install.lock"
  flock 9
  if ! installed; then
    cp "$here/package.json" "$here/package-lock.json" "$build_dir/"
    # npm's own output goes to stderr: stdout belongs to the subscriber.
    if ! npm install --prefix "$build_dir" --no-audit --no-fund 1>&2; then
      echo "run.sh: npm install into $build_dir failed" >&2
      exit 1
    fi
  fi
  exec 9>&-
fi

build_dir="$(cd "$build_dir" && pwd)"
NODE_PATH="$build_dir/node_modules" exec node "$here/subscriber.js" "$@"
