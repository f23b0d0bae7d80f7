#pragma once
/// Collector: renders the whole metrics catalogue (/work/shared/spec/metrics.md) from the
/// MeetingStore at scrape time, as prometheus-cpp MetricFamily structs.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/events.h"
#include "metrics/store.h"

namespace hme::metrics {

/// Thresholds above which (strictly greater) a participant counts in
/// huawei_meeting_participants_poor_network. Base units.
struct PoorNetworkThresholds {
  double packet_loss_ratio = 0.05;  ///< any media, any direction
  double rtt_seconds = 0.3;
  double jitter_seconds = 0.05;  ///< either direction
};

/// What and how much the Collector renders (mirrors the `metrics:` config section).
struct RenderOptions {
  /// Per-participant series (participant_info, rtt, jitter, loss, throughput, over_series_limit).
  bool participant_series = true;
  /// Add the display name as label `name` of participant_info (personal data: opt-in). Names are
  /// only available when the store's ReduceOptions::keep_participant_names is set too.
  bool participant_names = false;
  /// At most this many participants (the first by pid) get per-participant series per meeting.
  std::size_t max_participants_per_meeting = 1000;
  /// An ended meeting keeps its series this long after it ended, then all of them vanish until a
  /// new subscription succeeds.
  std::chrono::milliseconds ended_meeting_retention = std::chrono::minutes(5);
  PoorNetworkThresholds poor_network;
  /// Clock for the retention check (injected so tests control it).
  std::function<TimePoint()> now = [] { return std::chrono::system_clock::now(); };
};

/// A prometheus::Collectable that renders every catalogue metric from `store` on each Collect().
///
/// Series are built from the current state, never cached, so removed and expired meetings simply
/// vanish. Families without samples are left out. Label sets whose values are known (stages,
/// reasons, actions, roles, clients, media and direction) are always present, at 0 if nothing
/// happened yet.
///
/// The `quality` label follows a process-wide rule: the first 8 distinct ratings (in the order the
/// Collector first renders them) keep their own value, any later one is rendered as `other`. The
/// Collector holds that memory, so create one Collector per process.
///
/// The config reload gauges read 0 until MeetingStore::setConfigReload reports a (successful) load.
///
/// Thread-safety: Collect() and setOptions() may be called concurrently from any thread.
class Collector : public prometheus::Collectable {
 public:
  /// Maximum distinct `quality` label values besides `other`.
  static constexpr std::size_t kMaxRatings = 8;

  /// Renders `store`; `version` and `revision` label huawei_meeting_exporter_build_info.
  /// Throws std::invalid_argument if `store` is null.
  Collector(std::shared_ptr<const MeetingStore> store, std::string version, std::string revision,
            RenderOptions options = {});

  /// Replaces the render options (e.g. after a config reload); applies to the next Collect().
  void setOptions(RenderOptions options);

  /// Renders the catalogue. Throws only std::bad_alloc (and whatever `options.now` throws).
  std::vector<prometheus::MetricFamily> Collect() const override;

  /// Renders the catalogue straight into the text format 0.0.4 — the same bytes as
  /// `renderText(Collect())`, without building the MetricFamily list (the /metrics hot path).
  /// Throws only std::bad_alloc (and whatever `options.now` throws).
  std::string renderText() const;

 private:
  // Feeds every sample, in exposition order, to `out` (a MetricFamily or a text sink).
  template <typename Sink>
  void render(Sink& out) const;

  std::string ratingLabel(const std::string& quality) const;
  std::vector<std::string> ratingLabels() const;

  std::shared_ptr<const MeetingStore> store_;
  std::string version_;
  std::string revision_;

  mutable std::mutex options_mutex_;
  RenderOptions options_;

  mutable std::mutex hints_mutex_;
  mutable std::vector<std::size_t> size_hints_;  // bytes per family in the last renderText()

  mutable std::mutex ratings_mutex_;
  mutable std::vector<std::string> ratings_;  // first kMaxRatings distinct ratings, in order
  mutable bool other_rating_seen_ = false;
};

/// Serialises families in the Prometheus text format 0.0.4 (prometheus::TextSerializer).
/// Throws only std::bad_alloc.
std::string renderText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace hme::metrics
