#!/usr/bin/env bash
# Clang's thread-safety analysis over the project's own code. GCC builds the
# project and ignores ABSL_GUARDED_BY and friends; this check makes them
# bind: it re-runs every translation unit of bridge/, tests/, bench/ and
# client_examples/ through `clang++ -fsyntax-only -Wthread-safety
# -Werror=thread-safety` (no code generation, so it is cheap) and fails with
# the diagnostics if any lock annotation is violated.
#
# Usage: scripts/check-thread-safety.sh [BUILD_DIR]   (default: build)
# Needs a configured and built BUILD_DIR (its compile_commands.json, and the
# generated .pb.h files the sources include). JOBS (default 2) parallel runs;
# CLANGXX (default clang++) names the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${1:-build}"
db="${build_dir}/compile_commands.json"
if [ ! -f "$db" ]; then
  echo "check-thread-safety: ${db} is missing; build first (make build)" >&2
  exit 2
fi
command -v "${CLANGXX:-clang++}" >/dev/null || {
  echo "check-thread-safety: ${CLANGXX:-clang++} not found (apt-get install clang)" >&2
  exit 2
}

exec python3 - "$db" "$PWD" "${CLANGXX:-clang++}" "${JOBS:-2}" <<'PY'
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import time

db_path, root, clangxx, jobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
DIRS = ("bridge/", "tests/", "bench/", "client_examples/")
# Only the analysis: clang's other warnings are the GCC build's business.
ANALYSIS = ["-Wno-everything", "-Wthread-safety", "-Werror=thread-safety"]


def clang_args(entry):
    """The entry's compile command for clang: same includes, defines and
    standard; GCC's warning set, output and optimisation flags dropped."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = [clangxx]
    skip = False
    for arg in args[1:]:
        if skip:
            skip = False
            continue
        if arg in ("-o", "-MF", "-MT", "-MQ"):
            skip = True  # and its value
            continue
        if arg in ("-c", "-MD", "-MMD") or arg.startswith(("-W", "-O", "-g", "-fsanitize")):
            continue
        if arg == entry["file"] or os.path.join(entry["directory"], arg) == entry["file"]:
            continue
        out.append(arg)
    return out + ["-fsyntax-only"] + ANALYSIS + [entry["file"]]


with open(db_path) as f:
    entries = json.load(f)
units = []
for entry in entries:
    rel = os.path.relpath(entry["file"], root)
    if rel.startswith(DIRS):
        units.append((rel, entry))
units.sort()


def check(unit):
    rel, entry = unit
    proc = subprocess.run(clang_args(entry), cwd=entry["directory"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return rel, proc.returncode, proc.stdout


started = time.monotonic()
failed = []
with concurrent.futures.ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
    for rel, rc, output in pool.map(check, units):
        if rc != 0 or output.strip():
            failed.append(rel)
            sys.stdout.write(output)
elapsed = time.monotonic() - started
if failed:
    print(f"check-thread-safety: {len(failed)} of {len(units)} translation units fail "
          f"the thread-safety analysis ({elapsed:.0f} s):")
    for rel in failed:
        print(f"  {rel}")
    sys.exit(1)
print(f"check-thread-safety: {len(units)} translation units pass -Wthread-safety "
      f"({elapsed:.0f} s, {jobs} jobs)")
PY
