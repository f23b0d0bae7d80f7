// The exporter-level discovery metrics as Prometheus text.

#include "plugin/discovery/discovery_metrics.h"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "metrics/collector.h"

namespace d = hme::discovery;

BOOST_AUTO_TEST_SUITE(discovery_metrics)

BOOST_AUTO_TEST_CASE(nothing_is_rendered_while_discovery_is_off) {
  d::DiscoveryMetrics metrics;
  metrics.countRun();
  BOOST_TEST(metrics.Collect().empty());
}

BOOST_AUTO_TEST_CASE(every_stage_and_reason_is_present_from_the_start) {
  d::DiscoveryMetrics metrics;
  metrics.setEnabled(true);
  const std::string text = hme::metrics::renderText(metrics.Collect());
  for (const char* line :
       {"huawei_meeting_exporter_discovery_meetings 0",
        "huawei_meeting_exporter_discovery_runs_total 0",
        "huawei_meeting_exporter_discovery_failures_total{stage=\"login\"} 0",
        "huawei_meeting_exporter_discovery_failures_total{stage=\"list\"} 0",
        "huawei_meeting_exporter_discovery_failures_total{stage=\"detail\"} 0",
        "huawei_meeting_exporter_discovery_skipped_meetings{reason=\"no_host_password\"} 0",
        "huawei_meeting_exporter_discovery_skipped_meetings{reason=\"filtered\"} 0",
        "huawei_meeting_exporter_discovery_skipped_meetings{reason=\"limit\"} 0",
        "# TYPE huawei_meeting_exporter_discovery_runs_total counter",
        "# TYPE huawei_meeting_exporter_discovery_skipped_meetings gauge"}) {
    BOOST_TEST(text.find(line) != std::string::npos, line);
  }
  BOOST_TEST(text.find("last_success_timestamp") == std::string::npos);  // no success yet
  BOOST_TEST(text.find("webhook_requests_total") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(counts_and_gauges_follow_the_passes) {
  d::DiscoveryMetrics metrics;
  metrics.setEnabled(true);
  metrics.countRun();
  metrics.countRun();
  metrics.countFailure(d::FailureStage::List);
  metrics.countFailure(d::FailureStage::Detail, 3);
  metrics.passSucceeded(7, {1, 2, 0},
                        std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  metrics.countWebhook("meeting.started", "ok");
  metrics.countWebhook("meeting.started", "ok");
  metrics.countWebhook("unknown", "invalid");
  const std::string text = hme::metrics::renderText(metrics.Collect());
  for (const char* line :
       {"huawei_meeting_exporter_discovery_meetings 7",
        "huawei_meeting_exporter_discovery_runs_total 2",
        "huawei_meeting_exporter_discovery_failures_total{stage=\"list\"} 1",
        "huawei_meeting_exporter_discovery_failures_total{stage=\"detail\"} 3",
        "huawei_meeting_exporter_discovery_skipped_meetings{reason=\"no_host_password\"} 1",
        "huawei_meeting_exporter_discovery_skipped_meetings{reason=\"filtered\"} 2",
        "huawei_meeting_exporter_discovery_last_success_timestamp_seconds 1700000000",
        "huawei_meeting_exporter_webhook_requests_total{event=\"meeting.started\",result=\"ok\"} 2",
        "huawei_meeting_exporter_webhook_requests_total{event=\"unknown\",result=\"invalid\"} 1"}) {
    BOOST_TEST(text.find(line) != std::string::npos, line);
  }
  metrics.setEnabled(false);
  BOOST_TEST(metrics.Collect().empty());
}

BOOST_AUTO_TEST_CASE(exposition_matches_its_golden_file) {
  // Every family with samples; `promtool check metrics` lints the file (ctest
  // promtool_golden_discovery) and the README test reads its family names.
  // Regenerate with UPDATE_GOLDEN=1.
  d::DiscoveryMetrics metrics;
  metrics.setEnabled(true);
  for (int i = 0; i < 42; ++i) metrics.countRun();
  metrics.countFailure(d::FailureStage::Login);
  metrics.countFailure(d::FailureStage::List, 2);
  metrics.passSucceeded(12, {1, 3, 2},
                        std::chrono::system_clock::time_point(std::chrono::seconds(1764300000)));
  metrics.countWebhook("meeting.started", "ok");
  metrics.countWebhook("meeting.verify", "ok");
  metrics.countWebhook("meeting.end", "bad_signature");
  metrics.countWebhook("unknown", "invalid");
  const std::string text = hme::metrics::renderText(metrics.Collect());
  const std::filesystem::path path =
      std::filesystem::path(HME_TESTDATA_DIR) / "golden-discovery" / "discovery.prom";
  if (std::getenv("UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(static_cast<bool>(in), "missing " << path << "; run with UPDATE_GOLDEN=1");
  std::ostringstream expected;
  expected << in.rdbuf();
  BOOST_TEST(expected.str() == text);
}

BOOST_AUTO_TEST_SUITE_END()
