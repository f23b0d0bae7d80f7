#pragma once
/// Small helpers shared by the benchmark programs: timing, resource usage and the machine
/// description printed at the top of every run. Benchmarks print numbers; they never judge them.

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace hme::bench {

/// Seconds on a monotonic clock.
inline double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// User + system CPU seconds of the whole process so far.
inline double processCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// A numeric field of /proc/self/status (e.g. "VmRSS" in KiB, "Threads"); 0 if absent.
inline std::uint64_t procStatus(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

/// Resident set size in bytes.
inline std::uint64_t rssBytes() { return procStatus("VmRSS") * 1024; }

/// The CPU model and core count, for the header of every benchmark.
inline std::string machineDescription() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string model = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return model + ", nproc " + std::to_string(std::thread::hardware_concurrency());
}

/// Runs `body(iterations)` with growing iteration counts until one run lasts at least
/// `min_seconds`, then `repeats` more times; returns the best seconds per iteration.
inline double bestSecondsPerIteration(const std::function<void(std::size_t)>& body,
                                      double min_seconds = 0.2, int repeats = 5) {
  std::size_t iterations = 1;
  for (;;) {
    const double start = nowSeconds();
    body(iterations);
    const double elapsed = nowSeconds() - start;
    if (elapsed >= min_seconds) break;
    iterations *= elapsed < min_seconds / 10 ? 10 : 2;
  }
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    const double start = nowSeconds();
    body(iterations);
    const double per = (nowSeconds() - start) / static_cast<double>(iterations);
    if (per < best) best = per;
  }
  return best;
}

/// Like bestSecondsPerIteration for several bodies at once, measured in alternating rounds so
/// that load from other processes affects all of them alike (their ratios are what matter).
/// Returns the best seconds per iteration of each body.
inline std::vector<double> bestSecondsInterleaved(
    const std::vector<std::function<void(std::size_t)>>& bodies, double round_seconds = 0.1,
    int rounds = 9) {
  std::vector<std::size_t> iterations(bodies.size(), 1);
  for (std::size_t b = 0; b < bodies.size(); ++b) {
    for (;;) {
      const double start = nowSeconds();
      bodies[b](iterations[b]);
      const double elapsed = nowSeconds() - start;
      if (elapsed >= round_seconds) break;
      iterations[b] *= elapsed < round_seconds / 10 ? 10 : 2;
    }
  }
  std::vector<double> best(bodies.size(), 1e300);
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t b = 0; b < bodies.size(); ++b) {
      const double start = nowSeconds();
      bodies[b](iterations[b]);
      const double per = (nowSeconds() - start) / static_cast<double>(iterations[b]);
      if (per < best[b]) best[b] = per;
    }
  }
  return best;
}

/// Keeps the optimiser from discarding a computed value.
template <typename T>
inline void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

}  // namespace hme::bench
