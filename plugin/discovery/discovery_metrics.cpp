#include "plugin/discovery/discovery_metrics.h"

namespace hme::discovery {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const char* name, MetricType type, const char* help) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

ClientMetric sample(MetricType type, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

}  // namespace

const char* toLabel(FailureStage stage) {
  switch (stage) {
    case FailureStage::Login:
      return "login";
    case FailureStage::List:
      return "list";
    case FailureStage::Detail:
      return "detail";
  }
  return "list";
}

void DiscoveryMetrics::setEnabled(bool enabled) {
  std::lock_guard<std::mutex> lock(mutex_);
  enabled_ = enabled;
}

void DiscoveryMetrics::countRun() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++runs_;
}

void DiscoveryMetrics::countFailure(FailureStage stage, std::uint64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 0; i < kFailureStages.size(); ++i) {
    if (kFailureStages[i] == stage) {
      failures_[i] += n;
    }
  }
}

void DiscoveryMetrics::passSucceeded(std::size_t found,
                                     const std::array<std::size_t, kSkipReasons.size()>& skipped,
                                     std::chrono::system_clock::time_point at) {
  std::lock_guard<std::mutex> lock(mutex_);
  found_ = found;
  skipped_ = skipped;
  last_success_ = at;
}

void DiscoveryMetrics::countWebhook(const std::string& event, const std::string& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++webhooks_[{event, result}];
}

std::vector<MetricFamily> DiscoveryMetrics::Collect() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<MetricFamily> out;
  if (!enabled_) {
    return out;
  }
  constexpr auto kGauge = MetricType::Gauge;
  constexpr auto kCounter = MetricType::Counter;

  MetricFamily meetings = family("huawei_meeting_exporter_discovery_meetings", kGauge,
                                 "Meetings and webinars found running in the last successful "
                                 "discovery pass.");
  meetings.metric.push_back(sample(kGauge, static_cast<double>(found_)));
  out.push_back(std::move(meetings));

  MetricFamily runs = family("huawei_meeting_exporter_discovery_runs_total", kCounter,
                             "Discovery passes run, successful or not.");
  runs.metric.push_back(sample(kCounter, static_cast<double>(runs_)));
  out.push_back(std::move(runs));

  MetricFamily failures =
      family("huawei_meeting_exporter_discovery_failures_total", kCounter,
             "Failed management API calls of discovery by stage (login, list, detail).");
  for (std::size_t i = 0; i < kFailureStages.size(); ++i) {
    failures.metric.push_back(sample(kCounter, static_cast<double>(failures_[i]),
                                     {{"stage", toLabel(kFailureStages[i])}}));
  }
  out.push_back(std::move(failures));

  MetricFamily skipped = family(
      "huawei_meeting_exporter_discovery_skipped_meetings", kGauge,
      "Running meetings not watched after the last successful pass, by reason (no_host_password, "
      "filtered, limit).");
  for (std::size_t i = 0; i < kSkipReasons.size(); ++i) {
    skipped.metric.push_back(
        sample(kGauge, static_cast<double>(skipped_[i]), {{"reason", toLabel(kSkipReasons[i])}}));
  }
  out.push_back(std::move(skipped));

  if (last_success_) {
    MetricFamily success =
        family("huawei_meeting_exporter_discovery_last_success_timestamp_seconds", kGauge,
               "Unix time of the last discovery pass that listed every meeting.");
    success.metric.push_back(
        sample(kGauge, std::chrono::duration<double>(last_success_->time_since_epoch()).count()));
    out.push_back(std::move(success));
  }

  if (!webhooks_.empty()) {
    MetricFamily webhooks = family("huawei_meeting_exporter_webhook_requests_total", kCounter,
                                   "Webhook requests received by event and result (ok, invalid, "
                                   "bad_signature, stale).");
    for (const auto& [labels, count] : webhooks_) {
      webhooks.metric.push_back(sample(kCounter, static_cast<double>(count),
                                       {{"event", labels.first}, {"result", labels.second}}));
    }
    out.push_back(std::move(webhooks));
  }
  return out;
}

}  // namespace hme::discovery
