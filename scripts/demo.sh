#!/usr/bin/env bash
# Installs what building and running need (not the test tools), builds the exporter and starts
# it in demo mode (README's first command). Extra arguments go to the exporter.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --demo
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DHME_BUILD_TESTS=OFF -DHME_BUILD_BENCH=OFF
cmake --build "$build_dir" -j2 --target huawei_meeting_exporter
exec "$build_dir/huawei_meeting_exporter" --demo "$@"
