#!/usr/bin/env bash
# Runs a browser test script (first argument, relative to this folder) with
# node. On first use installs puppeteer-core, at the version package-lock.json
# pins, with `npm ci` into $REFIR_BROWSER_TEST_DIR (else
# <repo>/build/tests/browser), preferring npm's cache so it works offline once
# the cache holds it. The browser is Debian's chromium
# (scripts/install-deps.sh), or $CHROMIUM. Further arguments are passed on.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
install_dir="${REFIR_BROWSER_TEST_DIR:-$repo/build/tests/browser}"

installed() {
  [[ -f "$install_dir/node_modules/puppeteer-core/package.json" ]] &&
    cmp -s "$here/package-lock.json" "$install_dir/package-lock.json"
}

if ! installed; then
  mkdir -p "$install_dir"
  install_dir="$(cd "$install_dir" && pwd)"
  # Serialise concurrent first runs sharing one directory.
  exec 9>"$install_dir/.npm-install.lock"
  flock 9
  if ! installed; then
    cp "$here/package.json" "$here/package-lock.json" "$install_dir/"
    # npm's output goes to stderr: stdout belongs to the test script.
    if ! (cd "$install_dir" && npm ci --prefer-offline --no-audit --no-fund 1>&2); then
      echo "run.sh: npm ci in $install_dir failed (needs the npm registry or its cache)" >&2
      exit 1
    fi
  fi
  exec 9>&-
fi

install_dir="$(cd "$install_dir" && pwd)"
script="$1"
shift
NODE_PATH="$install_dir/node_modules" exec node "$here/$script" "$@"
