#!/usr/bin/env bash
# Installs the Debian 12 packages refir-bridge needs to build, run and test.
# Does nothing when they are all present; otherwise needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git curl ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcpp-httplib-dev libsqlite3-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev sqlite3 libssl-dev openssl
  # The JetStream journal: cnats to build, nats-server for its tests.
  libnats-dev nats-server
  prometheus-cpp-dev libspdlog-dev libfmt-dev
  python3-grpcio python3-protobuf
  golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
  protoc-gen-go protoc-gen-go-grpc
  clang libclang-rt-14-dev
  # bench/run: load generator, baselines (nginx-light has the echo module its
  # config needs; webhook is adnanh/webhook), plots.
  wrk nginx-light webhook gnuplot-nox
  # tests/deploy: systemd-analyze checks the systemd unit.
  systemd
  # tests/browser: the inspector page in headless chromium (driven by
  # puppeteer-core, which tests/browser/run.sh installs with npm ci).
  chromium
)

# tests/deploy (deploy_container_image): podman builds and runs the image, runc is its runtime
# on this project's machines (crun 1.8 refuses their hybrid cgroups), mmdebstrap bootstraps a
# Debian 12 base where no registry answers. Installed with their Recommends (netavark,
# fuse-overlayfs, catatonit, ...), the set deploy/README.md was measured with.
CONTAINER_PACKAGES=(podman runc mmdebstrap uidmap)

# Node.js 20 and npm come with this machine image; Debian's nodejs/npm are the
# fallback where they are absent (the node example and buf need them).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
missing=()
for package in "${PACKAGES[@]}"; do
  is_installed "$package" || missing+=("$package")
done
missing_container=()
for package in "${CONTAINER_PACKAGES[@]}"; do
  is_installed "$package" || missing_container+=("$package")
done
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_container[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]} ${missing_container[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#missing_container[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq "${missing_container[@]}"
fi
