// Exporter::reload() against the in-process simulator: a removed meeting stops and its series
// go, unchanged meetings keep their connection, a session change restarts the meetings without
// resetting their counters, and settings that cannot be used keep the whole running config.

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>

#include "tests/integration/exporter_fixture.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;

const std::string kA = "950000001";
const std::string kB = "950000002";

double counter(const ExporterHarness& h, const std::string& name, const Labels& labels) {
  return h.scrape().valueOr(name, labels, 0);
}

// Samples of the scrape that carry a participant name.
std::size_t namedSamples(const Scrape& scrape) {
  std::size_t named = 0;
  for (const auto& sample : scrape.samples()) named += sample.labels.count("name");
  return named;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exporter)

BOOST_AUTO_TEST_CASE(reload_removes_keeps_and_restarts_meetings) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.addMeeting(testMeetingSpec(kB));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_REQUIRE(h.waitUp(kB, 10s));

  // B removed: its session stops and every series of it goes at once; A is left alone.
  h.editConfig([](hme::config::Config& config) { config.meetings.resize(1); });
  const auto removed = h.exporter().reload();
  BOOST_CHECK_MESSAGE(removed.first, removed.second);
  BOOST_CHECK(h.scrape().matching(forMeeting(kB)).empty());
  BOOST_CHECK(h.waitFor([&] { return h.simulator().observations(kB).connections_open == 0; }, 5s));
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_connects_total", forMeeting(kA)), 1.0);
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_up", forMeeting(kA)), 1.0);
  BOOST_CHECK_EQUAL(h.simulator().observations(kA).connections_accepted, 1U);

  // A session setting changed: A reconnects with it, its counters continue.
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(h.simulator().step(kA));
  BOOST_REQUIRE(h.waitFor(
      [&] {
        const auto truth = h.simulator().truth(kA);
        return counter(h, "huawei_meeting_participant_joins_total", forMeeting(kA)) ==
               static_cast<double>(truth->joins);
      },
      5s));
  h.editConfig([](hme::config::Config& config) { config.session.backoff_max = 2s; });
  const auto restarted = h.exporter().reload();
  BOOST_CHECK_MESSAGE(restarted.first, restarted.second);
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_connects_total", forMeeting(kA), [](double v) { return v == 2; }, 10s));
  BOOST_CHECK(h.waitUp(kA, 5s));
  BOOST_CHECK(h.waitFor(
      [&] {
        const auto truth = h.simulator().truth(kA);
        return counter(h, "huawei_meeting_participant_joins_total", forMeeting(kA)) ==
               static_cast<double>(truth->joins);
      },
      5s));

  // An unusable CA file: the reload fails, nothing stops, the failure is visible.
  h.editConfig([](hme::config::Config& config) {
    config.api.ca_file = pkiFile("no-such-ca.pem");
    config.meetings.clear();
  });
  const auto failed = h.exporter().reload();
  BOOST_CHECK(!failed.first);
  BOOST_CHECK_MESSAGE(failed.second.find("no-such-ca.pem") != std::string::npos, failed.second);
  const Scrape s = h.scrape();
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_exporter_config_last_reload_successful", {}, -1),
                    0.0);
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_up", forMeeting(kA), -1), 1.0);
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1), 2.0);
  BOOST_CHECK_EQUAL(h.simulator().observations(kA).connections_open, 1U);
}

BOOST_AUTO_TEST_CASE(failed_reload_changes_nothing_not_even_metric_options) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.addMeeting(testMeetingSpec(kB));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_REQUIRE(h.waitUp(kB, 10s));
  BOOST_CHECK_EQUAL(namedSamples(h.scrape()), 0U);

  // One file: participant names on, B removed, a session setting changed, and a CA file that
  // exists and is readable (so the loader takes it) but holds no certificate: OpenSSL refuses it.
  h.editConfig([](hme::config::Config& config) {
    config.metrics.participant_names = true;
    config.meetings.resize(1);
    config.session.backoff_max = 3s;
    config.api.ca_file = pkiFile("ca.key");
  });
  const auto failed = h.exporter().reload();
  BOOST_CHECK(!failed.first);
  BOOST_CHECK_MESSAGE(failed.second.find("ca.key") != std::string::npos, failed.second);
  BOOST_CHECK_EQUAL(
      h.scrape().valueOr("huawei_meeting_exporter_config_last_reload_successful", {}, -1), 0.0);

  // Participants join after the failed reload: their names are neither kept nor exported.
  for (int i = 0; i < 4; ++i) {
    BOOST_REQUIRE(h.simulator().step(kA));
    BOOST_REQUIRE(h.simulator().step(kB));
  }
  BOOST_REQUIRE(h.waitFor(
      [&] {
        const auto truth = h.simulator().truth(kA);
        return counter(h, "huawei_meeting_participant_joins_total", forMeeting(kA)) ==
               static_cast<double>(truth->joins);
      },
      5s));
  const Scrape after = h.scrape();
  BOOST_CHECK_EQUAL(namedSamples(after), 0U);
  // Both meetings kept their one connection: nothing was removed or restarted.
  for (const auto& id : {kA, kB}) {
    BOOST_CHECK_EQUAL(after.valueOr("huawei_meeting_up", forMeeting(id), -1), 1.0);
    BOOST_CHECK_EQUAL(after.valueOr("huawei_meeting_connects_total", forMeeting(id), -1), 1.0);
    BOOST_CHECK_EQUAL(h.simulator().observations(id).connections_accepted, 1U);
    BOOST_CHECK_EQUAL(h.simulator().observations(id).connections_open, 1U);
  }

  // The same file with a good CA applies completely.
  h.editConfig([](hme::config::Config& config) { config.api.ca_file = pkiFile("ca.pem"); });
  const auto applied = h.exporter().reload();
  BOOST_CHECK_MESSAGE(applied.first, applied.second);
  BOOST_CHECK(h.waitFor([&] { return h.simulator().observations(kB).connections_open == 0; }, 5s));
  BOOST_CHECK(h.waitFor([&] { return namedSamples(h.scrape()) > 0; }, 10s));
}

BOOST_AUTO_TEST_SUITE_END()
