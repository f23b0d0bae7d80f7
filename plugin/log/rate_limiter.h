#pragma once
/// Per-key rate limiting of log lines whose cause is untrusted input (a peer that sends a bad
/// frame per millisecond must not flood the logs).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace hme::log {

/// Admits at most `lines_per_interval` lines per key in each fixed window of `interval`
/// (the window opens at the key's first line after the previous one expired) and counts the
/// rest, so the next admitted line can say how many similar lines were suppressed.
/// Thread-safe. Memory is bounded: beyond `max_keys` keys, new keys share one overflow window.
class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  /// The verdict for one line.
  struct Admission {
    bool admitted = false;
    /// On an admitted line: lines of this key dropped since its previous admitted line, reported
    /// once. Always 0 on a dropped line.
    std::uint64_t suppressed = 0;
  };

  /// `clock` defaults to std::chrono::steady_clock::now; tests inject a manual one.
  /// Throws std::invalid_argument when lines_per_interval, interval or max_keys is not positive.
  RateLimiter(std::size_t lines_per_interval, std::chrono::steady_clock::duration interval,
              Clock clock = {}, std::size_t max_keys = 1024);

  /// Decides whether a line with this key may be written now, and records the decision.
  Admission admit(std::string_view key);

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    std::size_t count = 0;
    std::uint64_t dropped = 0;
  };

  Window& windowFor(std::string_view key, std::chrono::steady_clock::time_point now);

  const std::size_t lines_per_interval_;
  const std::chrono::steady_clock::duration interval_;
  const Clock clock_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::map<std::string, Window, std::less<>> windows_;
  Window overflow_;
};

}  // namespace hme::log
