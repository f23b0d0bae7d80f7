#pragma once
/// The exporter-level metrics of enterprise mode, rendered at scrape time beside the meeting
/// catalogue (metrics::Collector) as a second prometheus::Collectable.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugin/discovery/planner.h"

namespace hme::discovery {

/// The `stage` label of huawei_meeting_exporter_discovery_failures_total.
enum class FailureStage { Login, List, Detail };
/// Every stage, in label order.
inline constexpr std::array<FailureStage, 3> kFailureStages = {
    FailureStage::Login, FailureStage::List, FailureStage::Detail};
/// `login`, `list` or `detail`.
const char* toLabel(FailureStage stage);

/// Counters and gauges of discovery and the webhook receiver. Thread-safe: every method may be
/// called from any thread. Collect() renders nothing while discovery is disabled, and the
/// webhook family only once a webhook request arrived.
class DiscoveryMetrics : public prometheus::Collectable {
 public:
  /// Turns rendering on or off (the `discovery` config section is present or not). Counters keep
  /// their values across reloads.
  void setEnabled(bool enabled);
  /// One pass ran (successful or not).
  void countRun();
  /// A call of `stage` failed.
  void countFailure(FailureStage stage, std::uint64_t n = 1);
  /// A pass completed: it found `found` meetings and skipped these many per kSkipReasons index.
  void passSucceeded(std::size_t found, const std::array<std::size_t, kSkipReasons.size()>& skipped,
                     std::chrono::system_clock::time_point at);
  /// A webhook request was answered with `result` for `event` (labels from WebhookVerdict).
  void countWebhook(const std::string& event, const std::string& result);

  /// The families, as described above. Throws only std::bad_alloc.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  bool enabled_ = false;
  std::uint64_t runs_ = 0;
  std::array<std::uint64_t, kFailureStages.size()> failures_{};
  std::size_t found_ = 0;
  std::array<std::size_t, kSkipReasons.size()> skipped_{};
  std::optional<std::chrono::system_clock::time_point> last_success_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> webhooks_;
};

}  // namespace hme::discovery
