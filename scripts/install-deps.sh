#!/usr/bin/env bash
# Installs the Debian 12 packages refir-bridge needs to build, run and test.
# Does nothing when they are all present; otherwise needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git curl ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcpp-httplib-dev libsqlite3-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev sqlite3 libssl-dev openssl
  prometheus-cpp-dev libspdlog-dev libfmt-dev
  python3-grpcio python3-protobuf
  golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
  protoc-gen-go protoc-gen-go-grpc
  clang libclang-rt-14-dev
  # bench/run: load generator, baselines (nginx-light has the echo module its
  # config needs; webhook is adnanh/webhook), plots.
  wrk nginx-light webhook gnuplot-nox
)

# Node.js 20 and npm come with this machine image; Debian's nodejs/npm are the
# fallback where they are absent (the node example and buf need them).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
