#!/usr/bin/env bash
# Prints the Standard Webhooks interop samples (see sign_samples.js). On first
# use (or when package-lock.json changed), installs the pinned npm packages
# with `npm ci` into $REFIR_INTEROP_BUILD_DIR (else
# <repo>/build/tests/verify/interop). stdout carries only the samples.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
build_dir="${REFIR_INTEROP_BUILD_DIR:-$repo/build/tests/verify/interop}"

installed() {
  [[ -d "$build_dir/node_modules/standardwebhooks" && -d "$build_dir/node_modules/svix" ]] &&
    cmp -s "$here/package-lock.json" "$build_dir/package-lock.json"
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "run.sh: node and npm are needed (scripts/install-deps.sh installs them)" >&2
  exit 1
fi

mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
if ! installed; then
  # Serialise concurrent first runs sharing one build directory.
  exec 9>"$build_dir/.npm-install.lock"
  flock 9
  if ! installed; then
    cp "$here/package.json" "$here/package-lock.json" "$build_dir/"
    # npm's own output goes to stderr: stdout belongs to the samples.
    if ! npm ci --prefix "$build_dir" --no-audit --no-fund 1>&2; then
      echo "run.sh: npm ci into $build_dir failed" >&2
      exit 1
    fi
  fi
  exec 9>&-
fi

NODE_PATH="$build_dir/node_modules" exec node "$here/sign_samples.js"
