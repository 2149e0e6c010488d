#!/usr/bin/env bash
# Runs check-sidecar.mjs: on first use installs its npm packages (kubernetes-models, yaml; the
# versions pinned in package-lock.json) into NODE_DIR, as client_examples/node/run.sh does.
#
#   run.sh NODE_DIR MANIFEST BRIDGE_BINARY
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
node_dir="$1"
shift

installed() { [[ -d "$node_dir/node_modules/kubernetes-models" && -d "$node_dir/node_modules/yaml" ]]; }

if ! installed; then
  mkdir -p "$node_dir"
  exec 9>"$node_dir/.npm-install.lock"
  flock 9
  if ! installed; then
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
    if ! npm ci --prefix "$node_dir" --no-audit --no-fund >&2; then
      echo "run.sh: npm ci into $node_dir failed" >&2
      exit 1
    fi
  fi
  exec 9>&-
fi

# The script and its packages in one directory, so that `import "yaml"` resolves (ES modules
# ignore NODE_PATH).
cp "$here/check-sidecar.mjs" "$node_dir/"
exec node "$node_dir/check-sidecar.mjs" "$@"
