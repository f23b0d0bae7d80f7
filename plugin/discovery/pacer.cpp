#include "plugin/discovery/pacer.h"

#include <algorithm>

namespace hme::discovery {

Pacer::Pacer(std::chrono::milliseconds interval) : interval_(interval) {}

void Pacer::setInterval(std::chrono::milliseconds interval) {
  interval_ = interval;
  if (last_start_ && rate_limited_passes_ == 0) {
    regular_due_ = *last_start_ + interval_;
  }
}

void Pacer::passStarted(Clock::time_point now) {
  last_start_ = now;
  triggered_ = false;
}

void Pacer::passDone(Clock::time_point now, const PassPacing& pacing) {
  const Clock::time_point start = last_start_.value_or(now);
  if (pacing.rate_limited) {
    ++rate_limited_passes_;
    const auto cap = std::max(interval_, kMaxBackoff);
    auto delay = interval_;
    for (unsigned i = 0; i < rate_limited_passes_ && delay < cap; ++i) {
      delay *= 2;
    }
    regular_due_ = now + std::min(delay, cap);
    // Webhooks must not undo the backoff either.
    hold_until_ = std::max(hold_until_, regular_due_);
  } else {
    rate_limited_passes_ = 0;
    regular_due_ = start + interval_;
  }
  if (pacing.exhausted_window) {
    hold_until_ = std::max(hold_until_, now + *pacing.exhausted_window);
  }
}

void Pacer::trigger() { triggered_ = true; }

Pacer::Clock::time_point Pacer::nextPass() const {
  Clock::time_point due = regular_due_;
  if (triggered_) {
    due = last_start_ ? std::min(due, *last_start_ + kMinSpacing) : Clock::time_point{};
  }
  return std::max(due, hold_until_);
}

}  // namespace hme::discovery
