#include "plugin/log/rate_limiter.h"

#include <stdexcept>

namespace hme::log {

RateLimiter::RateLimiter(std::size_t lines_per_interval,
                         std::chrono::steady_clock::duration interval, Clock clock,
                         std::size_t max_keys)
    : lines_per_interval_(lines_per_interval),
      interval_(interval),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      max_keys_(max_keys) {
  if (lines_per_interval_ == 0) {
    throw std::invalid_argument("RateLimiter: lines_per_interval 0");
  }
  if (interval_ <= std::chrono::steady_clock::duration::zero()) {
    throw std::invalid_argument("RateLimiter: interval must be positive");
  }
  if (max_keys_ == 0) {
    throw std::invalid_argument("RateLimiter: max_keys 0");
  }
}

RateLimiter::Window& RateLimiter::windowFor(std::string_view key,
                                            std::chrono::steady_clock::time_point now) {
  if (auto it = windows_.find(key); it != windows_.end()) {
    return it->second;
  }
  if (windows_.size() >= max_keys_) {
    // Forget expired keys with nothing left to report; keys with a pending suppressed count
    // stay so their note is not lost.
    for (auto it = windows_.begin(); it != windows_.end();) {
      if (now - it->second.start >= interval_ && it->second.dropped == 0) {
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
    if (windows_.size() >= max_keys_) {
      return overflow_;
    }
  }
  Window& w = windows_[std::string(key)];
  w.start = now;
  return w;
}

RateLimiter::Admission RateLimiter::admit(std::string_view key) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  Window& w = windowFor(key, now);
  if (now - w.start >= interval_) {
    w.start = now;
    w.count = 0;
  }
  if (w.count < lines_per_interval_) {
    ++w.count;
    Admission a{true, w.dropped};
    w.dropped = 0;
    return a;
  }
  ++w.dropped;
  return {};
}

}  // namespace hme::log
