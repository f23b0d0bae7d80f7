#pragma once
/// When the next discovery pass may run: every `interval`, sooner when a webhook asks, later when
/// the gateway pushes back (HTTP 429 / MMC.100000429, or `X-APIG-Ratelimit-Api` remain 0).
/// Pure: the caller passes `now`; not thread-safe.

#include <chrono>
#include <optional>

namespace hme::discovery {

/// How the calls of one pass went, as far as pacing is concerned.
struct PassPacing {
  bool rate_limited = false;  ///< a call was refused with 429 or MMC.100000429
  /// The gateway reported `remain:0` with this window: no call before it has passed.
  std::optional<std::chrono::milliseconds> exhausted_window;
};

/// Schedules discovery passes. Rules:
///  - after a pass, the next one is due `interval` later;
///  - after a rate-limited pass, `min(interval · 2^n, max(interval, 5 min))` later, n being the
///    number of rate-limited passes in a row (so 2, 4, 8 … intervals); a pass without 429
///    resets n;
///  - `remain:0` holds every pass (webhook-triggered ones too) until its window has passed;
///  - a triggered pass runs at once, but never sooner than kMinSpacing after the previous pass
///    started, nor inside a hold.
class Pacer {
 public:
  using Clock = std::chrono::steady_clock;
  /// The least time between two pass starts, however many webhooks arrive (1 s: with two list
  /// calls per pass that stays below the gateway's 100 calls per minute and API).
  static constexpr std::chrono::milliseconds kMinSpacing{1000};
  /// The longest backoff after repeated 429s (unless the interval is longer).
  static constexpr std::chrono::milliseconds kMaxBackoff{std::chrono::minutes(5)};

  /// The first pass is due at once.
  explicit Pacer(std::chrono::milliseconds interval);

  /// Changes the interval; a pending regular pass is rescheduled from the last pass start.
  void setInterval(std::chrono::milliseconds interval);
  /// A pass starts at `now`.
  void passStarted(Clock::time_point now);
  /// The pass that started last ended at `now` with `pacing`.
  void passDone(Clock::time_point now, const PassPacing& pacing);
  /// A pass is wanted as soon as allowed (webhook, reload).
  void trigger();

  /// When the next pass is due.
  Clock::time_point nextPass() const;
  /// The consecutive rate-limited passes so far.
  unsigned rateLimitedPasses() const { return rate_limited_passes_; }

 private:
  std::chrono::milliseconds interval_;
  std::optional<Clock::time_point> last_start_;
  Clock::time_point regular_due_{};  // epoch: at once
  Clock::time_point hold_until_{};
  bool triggered_ = false;
  unsigned rate_limited_passes_ = 0;
};

}  // namespace hme::discovery
