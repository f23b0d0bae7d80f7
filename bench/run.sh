#!/usr/bin/env bash
# Runs every benchmark one after another (never in parallel: they measure CPU time) and prints
# the results; bench/README.md holds the latest table. Usage: bench/run.sh [build dir]
set -euo pipefail
build="${1:-build}"
bench="$build/bench"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), nproc $(nproc)"
"$bench/ingest_bench"
"$bench/scrape_bench" 1000 10000 100000 500000
"$bench/memory_bench"
"$bench/loopback_bench" flood 1
"$bench/loopback_bench" flood 2
"$bench/loopback_bench" sessions 100 10 30
"$bench/loopback_bench" sessions 1000 10 30
