#!/usr/bin/env bash
# Installs exactly what the build and the tests need on Debian 12. Safe to run twice.
set -euo pipefail

packages=(
  cmake g++ ccache pkg-config
  libpoco-dev prometheus-cpp-dev libboost-test-dev libyaml-cpp-dev libssl-dev zlib1g-dev
  prometheus  # brings promtool for `promtool check metrics`
  curl python3  # the e2e tests (tests/e2e) talk to Prometheus over HTTP
  libcrypt-dev  # crypt_r for bcrypt in --web.config.file basic auth
  chromium  # the status page e2e test (headless browser)
  dpkg-dev  # dpkg-shlibdeps for `cpack -G DEB`
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update
# prometheus' postinst starts a service; policy-rc.d keeps it from doing so where it can.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
