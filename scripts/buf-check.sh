#!/usr/bin/env bash
# Lints the public API (proto/) with buf and checks it for breaking changes
# against the baseline image of record, proto/baseline/v1.binpb.
#
#   scripts/buf-check.sh                    lint + breaking check (ctest: buf_lint_and_breaking)
#   scripts/buf-check.sh --update-baseline  rewrite the baseline from proto/ (only for a
#                                           deliberate breaking change; see proto/README.md)
#
# buf comes from npm (@bufbuild/buf, a pinned version) and is installed into
# build/tools the first time; later runs need no network.
set -euo pipefail

BUF_VERSION=1.75.0

repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/build/tools"
buf="$tools/node_modules/.bin/buf"
baseline="proto/baseline/v1.binpb"

if [ ! -x "$buf" ] || [ "$("$buf" --version 2>/dev/null)" != "$BUF_VERSION" ]; then
  if ! command -v npm >/dev/null; then
    echo "buf-check: buf $BUF_VERSION is not in $tools and npm is not installed" >&2
    exit 1
  fi
  echo "buf-check: installing @bufbuild/buf@$BUF_VERSION into $tools" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
    "@bufbuild/buf@$BUF_VERSION" >&2
fi
# Keep buf's cache out of the home directory.
export BUF_CACHE_DIR="${BUF_CACHE_DIR:-$tools/buf-cache}"

cd "$repo"
if [ "${1:-}" = "--update-baseline" ]; then
  "$buf" build proto --exclude-source-info -o "$baseline"
  echo "buf-check: wrote $baseline"
  exit 0
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--update-baseline]" >&2
  exit 2
fi

status=0
echo "buf-check: buf lint proto"
"$buf" lint proto || status=1
echo "buf-check: buf breaking proto --against $baseline"
"$buf" breaking proto --against "$baseline" || status=1
if [ "$status" -ne 0 ]; then
  echo "buf-check: FAILED (see proto/README.md)" >&2
else
  echo "buf-check: OK"
fi
exit "$status"
