#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time: run_fuzzer.sh BINARY CORPUS_DIR SECONDS DICT SEED_DIR...
# Extra libFuzzer flags may come in HME_FUZZ_ARGS (later flags win), e.g. "-runs=10000000".
# New inputs go to CORPUS_DIR (created if missing); the seed dirs are only read. Exits non-zero
# on a crash, leak, sanitizer report or invariant violation (the reproducer is written to
# CORPUS_DIR/../ as crash-*, leak-*, oom-* or timeout-*).
set -euo pipefail
binary=$1 corpus=$2 seconds=$3 dict=$4
shift 4
mkdir -p "$corpus"
seeds=()
for dir in "$@"; do
  if [ -d "$dir" ]; then seeds+=("$dir"); fi
done
# -rss_limit_mb: a frame must never make the process allocate without bound.
# -timeout: a single input taking over 10 s is a stall (reported as a crash).
exec "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -dict="$dict" -artifact_prefix="$(dirname "$corpus")/" -print_final_stats=1 \
  ${HME_FUZZ_ARGS:-} "$corpus" "${seeds[@]}"
