// Scrape benchmark (issue 6, 1c): latency and size of a full exposition at 1k … 500k series,
// rendered by the exporter from its MeetingStore, next to a prometheus-cpp directly-instrumented
// Registry (Family<Gauge>/Family<Counter> + TextSerializer) holding the same series. Prints
// numbers and ratios; never passes or fails.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/populate.h"
#include "metrics/collector.h"
#include "metrics/store.h"

namespace {

using namespace hme;

// Participants per meeting; each adds 16 per-participant series (info, rtt, 2 jitter, 6 loss,
// 6 throughput) to about 90 per-meeting series.
constexpr std::size_t kParticipantsPerMeeting = 100;

std::size_t countSeries(const std::string& text) {
  std::size_t series = 0;
  bool line_start = true;
  for (char c : text) {
    if (line_start && c != '#') ++series;
    line_start = c == '\n';
  }
  return series;
}

// The same series, directly instrumented: one Family per metric name, one child per label set.
std::shared_ptr<prometheus::Registry> mirror(
    const std::vector<prometheus::MetricFamily>& families) {
  auto registry = std::make_shared<prometheus::Registry>();
  for (const auto& family : families) {
    if (family.type == prometheus::MetricType::Counter) {
      auto& built =
          prometheus::BuildCounter().Name(family.name).Help(family.help).Register(*registry);
      for (const auto& metric : family.metric) {
        std::map<std::string, std::string> labels;
        for (const auto& label : metric.label) labels[label.name] = label.value;
        built.Add(labels).Increment(metric.counter.value);
      }
    } else {
      auto& built =
          prometheus::BuildGauge().Name(family.name).Help(family.help).Register(*registry);
      for (const auto& metric : family.metric) {
        std::map<std::string, std::string> labels;
        for (const auto& label : metric.label) labels[label.name] = label.value;
        built.Add(labels).Set(metric.gauge.value);
      }
    }
  }
  return registry;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> targets = {1000, 10000, 100000, 500000};
  if (argc > 1) {
    targets.clear();
    for (int i = 1; i < argc; ++i) targets.push_back(std::strtoul(argv[i], nullptr, 10));
  }
  std::printf("scrape benchmark — %s (single thread)\n", bench::machineDescription().c_str());
  std::printf("%9s %11s %12s %10s %12s %10s %12s %8s\n", "series", "bytes", "exporter ms",
              "µs/series", "registry ms", "µs/series", "stock ms", "ratio");
  for (const std::size_t target : targets) {
    const std::size_t per_meeting = 90 + 16 * kParticipantsPerMeeting;
    const std::size_t meetings =
        target < per_meeting ? 1 : (target + per_meeting / 2) / per_meeting;
    const std::size_t participants =
        target < per_meeting ? (target > 90 ? (target - 90) / 16 : 1) : kParticipantsPerMeeting;
    auto store = std::make_shared<metrics::MeetingStore>();
    bench::populate(*store, meetings, participants, true);
    metrics::Collector collector(store, "0.1.0", "bench");

    std::string text;
    std::string stock_text;
    std::string registry_text;
    auto registry = mirror(collector.Collect());
    // The exporter's path, the path it took before the text renderer (Collect() +
    // TextSerializer), and the directly-instrumented registry, measured in alternating rounds.
    const auto best = bench::bestSecondsInterleaved(
        {[&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) text = collector.renderText();
         },
         [&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) {
             stock_text = metrics::renderText(collector.Collect());
           }
         },
         [&](std::size_t n) {
           for (std::size_t i = 0; i < n; ++i) {
             registry_text = prometheus::TextSerializer().Serialize(registry->Collect());
           }
         }},
        0.3, 3);
    const double ours = best[0];
    const double stock = best[1];
    const double theirs = best[2];
    const std::size_t series = countSeries(text);
    const double n = static_cast<double>(series);
    std::printf("%9zu %11zu %12.2f %10.3f %12.2f %10.3f %12.2f %7.2fx\n", series, text.size(),
                ours * 1e3, ours * 1e6 / n, theirs * 1e3, theirs * 1e6 / n, stock * 1e3,
                theirs / ours);
    if (stock_text != text) std::printf("  note: exporter text differs from the stock path\n");
    if (countSeries(registry_text) != series) {
      std::printf("  note: registry holds %zu series\n", countSeries(registry_text));
    }
  }
  std::printf(
      "exporter: Collector::renderText (the /metrics body); registry: prometheus-cpp "
      "Registry::Collect + TextSerializer\nover the same series; stock: Collector::Collect "
      "+ TextSerializer; ratio: registry time / exporter time (> 1: exporter faster)\n");
  return 0;
}
