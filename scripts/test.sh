#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DHME_WERROR=ON
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure
