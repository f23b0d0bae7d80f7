#!/usr/bin/env bash
# Installs what is needed, builds the exporter and starts it in demo mode (README's first command).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DHME_BUILD_TESTS=OFF
cmake --build "$build_dir" -j2 --target huawei_meeting_exporter
exec "$build_dir/huawei_meeting_exporter" --demo "$@"
