#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs. Safe to run twice.
#   scripts/setup.sh          everything: building, running and every test leg (scripts/test.sh)
#   scripts/setup.sh --demo   only building and running the exporter (scripts/demo.sh)
# A minbase Debian 12 has little beyond coreutils, grep, sed, mawk, findutils, gzip and apt:
# every other command a script or test calls must come from one of these lists.
set -euo pipefail

# Building (cmake -DHME_BUILD_TESTS=OFF -DHME_BUILD_BENCH=OFF) and running the exporter.
demo_packages=(
  cmake make g++ pkg-config  # minbase has no make; g++ does not bring it
  libpoco-dev prometheus-cpp-dev libyaml-cpp-dev libssl-dev zlib1g-dev
  libsimdjson-dev  # push-frame decoding (plugin/protocol) and the ingest benchmark's baseline
  libcrypt-dev     # crypt_r for bcrypt in --web.config.file basic auth
  ca-certificates  # the system trust store the exporter verifies Huawei's certificates against
)

# Everything scripts/test.sh, ctest and the benchmarks need on top of the demo's packages.
test_packages=(
  ccache  # shared compiler cache across the build folders of the four legs
  libboost-test-dev  # unit and integration test binaries
  prometheus  # promtool (golden files, alert rules, web config) and the e2e Prometheus server
  curl python3  # the e2e tests (tests/e2e) talk to the exporter and Prometheus over HTTP
  chromium  # the status page e2e test (headless browser)
  dpkg-dev file  # `cpack -G DEB`: dpkg-shlibdeps for Depends, file to find the binaries
  systemd  # systemd-analyze verifies the packaged unit (tests/e2e/package_deb.sh)
  clang-14 libclang-rt-14-dev llvm-14  # libFuzzer targets (fuzz/); llvm-symbolizer for reports
)

case "${1:-}" in
  "") packages=("${demo_packages[@]}" "${test_packages[@]}") ;;
  --demo) packages=("${demo_packages[@]}") ;;
  *)
    echo "usage: scripts/setup.sh [--demo]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "setup: run as root or install sudo; missing packages: ${missing[*]}" >&2
    exit 1
  }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update
# prometheus' postinst starts a service; policy-rc.d keeps it from doing so where it can.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
