#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test. The README's test command.
#
# Legs, each in its own build dir (ccache is shared, so a rerun only rebuilds what changed):
#   default  build/        Release, warnings as errors; ctest: unit, integration, e2e
#   asan     build-asan/   ASan+UBSan; the whole unit and integration suites
#   tsan     build-tsan/   TSan; the concurrent store unit suite and the integration suite
#   fuzz     build-fuzz/   clang + libFuzzer + ASan/UBSan; a bounded smoke run of each target
# HME_TEST_LEGS picks legs (default: all four, "default asan tsan fuzz"; e.g. HME_TEST_LEGS=default).
# BUILD_DIR renames the default leg's build dir. Sanitizer legs build only the test binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# ccache hits across checkouts in different folders (CI clones afresh).
export CCACHE_BASEDIR="$PWD"
legs=${HME_TEST_LEGS:-default asan tsan fuzz}
# Sanitizer legs compile at -O1 with line tables only: GCC at -O2 -g with ASan+UBSan takes about
# five times as long per file as a plain build (measured: 93 s against 18 s for one test file),
# at -O1 -g1 about twice; the reports keep their function names and line numbers.
sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
  -DHME_WERROR=ON -DHME_BUILD_BENCH=OFF)
start=$(date +%s)

leg_wanted() { [[ " $legs " == *" $1 "* ]]; }
banner() { echo "=== test.sh: $* ($(($(date +%s) - start)) s elapsed)"; }

if leg_wanted default; then
  banner "default leg"
  build_dir=${BUILD_DIR:-build}
  # Tests and benchmarks on explicitly: scripts/demo.sh configures the same folder without them.
  cmake -S . -B "$build_dir" -DHME_WERROR=ON -DCMAKE_BUILD_TYPE=Release -DHME_BUILD_TESTS=ON \
    -DHME_BUILD_BENCH=ON
  cmake --build "$build_dir" -j2
  ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j3
fi

# Reports go to stderr and fail the test binary at the first finding.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp}

if leg_wanted asan; then
  banner "ASan+UBSan leg"
  cmake -S . -B build-asan -DHME_SANITIZE=address,undefined "${sanitizer_flags[@]}"
  cmake --build build-asan -j2 --target unit_tests integration_tests huawei_meeting_exporter
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j3 -R '^(unit|integration)'
fi

if leg_wanted tsan; then
  banner "TSan leg"
  cmake -S . -B build-tsan -DHME_SANITIZE=thread "${sanitizer_flags[@]}"
  cmake --build build-tsan -j2 --target unit_tests integration_tests huawei_meeting_exporter
  build-tsan/tests/unit_tests --log_level=message --run_test=metrics_store
  ctest --test-dir build-tsan --output-on-failure --no-tests=error -j3 -R '^integration'
fi

if leg_wanted fuzz; then
  banner "fuzz leg"
  CXX=clang++-14 cmake -S . -B build-fuzz -DHME_FUZZ=ON -DHME_SANITIZE=address,undefined \
    -DHME_BUILD_TESTS=OFF -DHME_BUILD_BENCH=OFF -DHME_WERROR=ON
  cmake --build build-fuzz -j2 --target fuzz_decoder fuzz_reduce
  ctest --test-dir build-fuzz --output-on-failure --no-tests=error -L fuzz
fi

banner "all legs passed: $legs"
