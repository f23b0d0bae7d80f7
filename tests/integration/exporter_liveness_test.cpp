// The exporter against simulator profiles of push servers that deviate from the documented
// examples (protocol.md §3): no Subscribe answer, no HeartBeat echo, a fragmented message that
// is never finished, a refused Subscribe, a server that says nothing at all. Short intervals
// (heartbeat 1 s, heartbeat_timeout 2 s, api.timeout 3 s: testExporterConfig).

#include <signal.h>
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/integration/exporter_fixture.h"
#include "tests/integration/temp_dir.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;
using hme::simulator::RestCall;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const std::string kA = "930000001";
const std::string kB = "930000002";

double counter(const ExporterHarness& h, const std::string& name, const Labels& labels) {
  return h.scrape().valueOr(name, labels, 0);
}

double secondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

/// True if `broken` never became true during `window` (polled on every simulator change and at
/// least every 50 ms).
bool holdsFor(const ExporterHarness& h, const std::function<bool()>& broken,
              std::chrono::milliseconds window) {
  return !h.waitFor(broken, window);
}

/// The kinds of the meeting's token calls and upgrades, e.g. "CWUCWU" (refused: lower case).
std::string callPattern(const ExporterHarness& h, const std::string& meeting_id) {
  std::string pattern;
  for (const auto& call : h.simulator().restCalls()) {
    if (call.meeting_id != meeting_id) continue;
    char kind = '?';
    switch (call.kind) {
      case RestCall::Kind::ControlToken:
        kind = 'C';
        break;
      case RestCall::Kind::WsToken:
        kind = 'W';
        break;
      case RestCall::Kind::Upgrade:
        kind = 'U';
        break;
      case RestCall::Kind::Other:
        break;
    }
    pattern += call.accepted ? kind : static_cast<char>(kind - 'A' + 'a');
  }
  return pattern;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(liveness)

BOOST_AUTO_TEST_CASE(no_subscribe_answer_goes_up_on_the_first_push_and_stays) {
  auto options = testSimulatorOptions();
  options.profile.answer_subscribe = false;
  ExporterHarness h(options);
  h.addMeeting(testMeetingSpec(kA));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_TEST(h.simulator().observations(kA).subscribes_accepted == 1U);
  // Three heartbeat_timeouts: no recycling, no subscribe failure, one connection throughout.
  BOOST_TEST(holdsFor(
      h,
      [&] {
        return counter(h, "huawei_meeting_up", forMeeting(kA)) != 1.0 ||
               h.simulator().observations(kA).connections_accepted != 1;
      },
      6s));
  const Scrape scrape = h.scrape();
  BOOST_TEST(scrape.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1) == 1.0);
  BOOST_TEST(scrape.valueOr("huawei_meeting_connect_failures_total",
                            forMeeting(kA, {{"stage", "subscribe"}}), -1) == 0.0);
  BOOST_TEST(scrape.valueOr("huawei_meeting_messages_total",
                            forMeeting(kA, {{"action", "Subscribe"}}), -1) == 0.0);
}

BOOST_AUTO_TEST_CASE(no_heartbeat_echo_keeps_a_quiet_meeting_up_on_pongs) {
  auto options = testSimulatorOptions();
  options.profile.echo_heartbeat = false;
  ExporterHarness h(options);
  h.addMeeting(testMeetingSpec(kA));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  const double first_message =
      h.scrape().valueOr("huawei_meeting_last_message_timestamp_seconds", forMeeting(kA), -1);
  BOOST_REQUIRE_GT(first_message, 0.0);
  // The meeting is quiet (never stepped): only PONGs answer the heartbeats. Across more than
  // three heartbeat_timeouts it stays up on its first connection.
  BOOST_TEST(holdsFor(
      h,
      [&] {
        return counter(h, "huawei_meeting_up", forMeeting(kA)) != 1.0 ||
               h.simulator().observations(kA).connections_accepted != 1;
      },
      7s));
  const Scrape scrape = h.scrape();
  BOOST_TEST(scrape.valueOr("huawei_meeting_messages_total",
                            forMeeting(kA, {{"action", "HeartBeat"}}), -1) == 0.0);
  for (const char* reason :
       {"server_closed", "heartbeat_timeout", "error", "meeting_ended", "incomplete_message"}) {
    BOOST_TEST_CONTEXT(reason) {
      BOOST_TEST(scrape.valueOr("huawei_meeting_disconnects_total",
                                forMeeting(kA, {{"reason", reason}}), -1) == 0.0);
    }
  }
  // PONGs count as frames: the "no frames" alert stays quiet.
  const double last_message =
      scrape.valueOr("huawei_meeting_last_message_timestamp_seconds", forMeeting(kA), -1);
  BOOST_TEST(last_message - first_message >= 5.0);
  // The RTT gauge works from PING to PONG.
  const double rtt = scrape.valueOr("huawei_meeting_heartbeat_rtt_seconds", forMeeting(kA), -1);
  BOOST_TEST(rtt > 0.0);
  BOOST_TEST(rtt < 1.0);
  // Every HeartBeat went out with a PING.
  const auto observed = h.simulator().observations(kA);
  BOOST_TEST(observed.heartbeats.size() >= 6U);
  BOOST_TEST(observed.pings_received + 1 >= observed.heartbeats.size());
}

BOOST_AUTO_TEST_CASE(stalled_fragment_is_dropped_with_its_own_reason_while_heartbeats_flow) {
  auto options = testSimulatorOptions();
  options.profile.stalled_fragment = true;
  options.profile.stall_ping_interval = 200ms;
  ExporterHarness h(options);
  h.addMeeting(testMeetingSpec(kA));
  h.start();
  BOOST_REQUIRE(
      h.waitFor([&] { return h.simulator().observations(kA).fragments_stalled >= 1; }, 10s));
  const auto stall_seen = std::chrono::system_clock::now();
  const auto stall_seen_steady = SteadyClock::now();
  const Labels incomplete = forMeeting(kA, {{"reason", "incomplete_message"}});
  BOOST_REQUIRE(h.waitForMetric(
      "huawei_meeting_disconnects_total", incomplete, [](double v) { return v >= 1; }, 10s));
  const double held = secondsSince(stall_seen_steady);
  const auto dropped_seen = std::chrono::system_clock::now();
  BOOST_TEST_MESSAGE("stalled message dropped " << held << " s after the stall was seen");
  BOOST_TEST(held >= 1.5);  // heartbeat_timeout is 2 s
  BOOST_TEST(held < 5.0);
  // The open message did not stop the heartbeats: they kept their 1 s rhythm meanwhile.
  std::size_t beats_during_stall = 0;
  for (const auto& at : h.simulator().observations(kA).heartbeats) {
    if (at >= stall_seen && at <= dropped_seen) ++beats_during_stall;
  }
  BOOST_TEST(beats_during_stall >= 1U);
  // The stall is not mistaken for silence: the server's PINGs were answered throughout.
  BOOST_TEST(h.simulator().observations(kA).pongs_received >= 3U);
  BOOST_TEST(counter(h, "huawei_meeting_disconnects_total",
                     forMeeting(kA, {{"reason", "heartbeat_timeout"}})) == 0.0);
}

BOOST_AUTO_TEST_CASE(stop_and_reload_finish_promptly_during_a_stalled_fragment) {
  auto options = testSimulatorOptions();
  options.profile.stalled_fragment = true;
  options.profile.stall_ping_interval = 100ms;
  ExporterHarness h(options);
  // Nothing of the session's own is due for a long time: only the wake-up can end the waits.
  h.editConfig([](hme::config::Config& config) {
    config.session.heartbeat_interval = 30s;
    config.session.heartbeat_timeout = 60s;
  });
  h.addMeeting(testMeetingSpec(kA));
  h.addMeeting(testMeetingSpec(kB));
  h.start();
  // Both clients are inside the unfinished message, answering the server's PINGs.
  BOOST_REQUIRE(h.waitFor(
      [&] {
        const auto a = h.simulator().observations(kA);
        const auto b = h.simulator().observations(kB);
        return a.fragments_stalled >= 1 && a.pongs_received >= 3 && b.fragments_stalled >= 1 &&
               b.pongs_received >= 3;
      },
      10s));

  h.editConfig([](hme::config::Config& config) { config.meetings.resize(1); });
  const auto reload_start = SteadyClock::now();
  const auto reloaded = h.exporter().reload();
  const double reload_seconds = secondsSince(reload_start);
  BOOST_TEST_MESSAGE("reload took " << reload_seconds << " s");
  BOOST_CHECK_MESSAGE(reloaded.first, reloaded.second);
  BOOST_TEST(reload_seconds < 2.0);
  BOOST_TEST(h.waitFor([&] { return h.simulator().observations(kB).connections_open == 0; }, 5s));

  const auto stop_start = SteadyClock::now();
  h.exporter().stop();
  const double stop_seconds = secondsSince(stop_start);
  BOOST_TEST_MESSAGE("stop took " << stop_seconds << " s");
  BOOST_TEST(stop_seconds < 2.0);
  BOOST_TEST(h.waitFor([&] { return h.simulator().observations(kA).connections_open == 0; }, 5s));
}

BOOST_AUTO_TEST_CASE(sigterm_ends_the_binary_promptly_during_a_stalled_fragment) {
  auto options = testSimulatorOptions();
  options.profile.stalled_fragment = true;
  options.profile.stall_ping_interval = 100ms;
  hme::simulator::Simulator sim(options);
  const auto meeting = testMeetingSpec(kA);
  sim.addMeeting(meeting);
  sim.start();
  TempDir dir;
  const fs::path password = dir.file("password");
  writeFile(password, meeting.host_password + "\n");
  const fs::path config = dir.file("exporter.yml");
  writeFile(config, "api:\n  url: " + sim.apiUrl() + "\n  ca_file: " + pkiFile("ca.pem") +
                        "\n  timeout: 3s\nsession:\n  heartbeat_interval: 30s\n"
                        "  heartbeat_timeout: 60s\nmeetings:\n  - id: \"" +
                        kA + "\"\n    host_password_file: " + password.string() + "\n");
  ChildProcess child(HME_EXPORTER_BINARY,
                     {"--config.file=" + config.string(), "--web.listen-address=127.0.0.1:0"});
  // The session is inside the unfinished message, answering the server's PINGs.
  BOOST_REQUIRE_MESSAGE(sim.waitFor(
                            [&] {
                              const auto observed = sim.observations(kA);
                              return observed.fragments_stalled >= 1 &&
                                     observed.pongs_received >= 3;
                            },
                            10s),
                        child.output());
  const auto start = SteadyClock::now();
  child.signal(SIGTERM);
  const auto code = child.waitExit(10s);
  const double stop_seconds = secondsSince(start);
  BOOST_TEST_MESSAGE("SIGTERM to exit: " << stop_seconds << " s");
  BOOST_REQUIRE_MESSAGE(code.has_value(), "the exporter did not stop within 10 s of SIGTERM");
  BOOST_TEST(*code == 0);
  BOOST_TEST(stop_seconds < 2.0);
}

BOOST_AUTO_TEST_CASE(refused_subscribe_fails_at_subscribe_and_fetches_a_fresh_control_token) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.simulator().rejectNextSubscribe(kA, 111070004);
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  const Scrape scrape = h.scrape();
  BOOST_TEST(scrape.valueOr("huawei_meeting_connect_failures_total",
                            forMeeting(kA, {{"stage", "subscribe"}}), -1) == 1.0);
  BOOST_TEST(scrape.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1) == 1.0);
  // A new control token before the second connection, not the refused one again (which would
  // have given "CWUWU").
  BOOST_TEST(callPattern(h, kA) == "CWUCWU");
  const auto observed = h.simulator().observations(kA);
  BOOST_TEST(observed.control_tokens_issued == 2U);
  BOOST_TEST(observed.control_token_refreshes == 0U);
  BOOST_TEST(observed.subscribes_rejected == 1U);
}

BOOST_AUTO_TEST_CASE(silent_server_fails_at_subscribe_after_api_timeout) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.simulator().setSilent(kA, true);  // connections open, but nothing is read or answered
  h.start();
  BOOST_REQUIRE(
      h.waitFor([&] { return h.simulator().observations(kA).connections_accepted >= 1; }, 10s));
  const auto connected = SteadyClock::now();
  const Labels subscribe = forMeeting(kA, {{"stage", "subscribe"}});
  BOOST_REQUIRE(h.waitForMetric(
      "huawei_meeting_connect_failures_total", subscribe, [](double v) { return v >= 1; }, 10s));
  const double waited = secondsSince(connected);
  BOOST_TEST_MESSAGE("subscribe failed " << waited << " s after the connection opened");
  // api.timeout (3 s), not heartbeat_timeout (2 s).
  BOOST_TEST(waited >= 2.7);
  BOOST_TEST(waited < 6.0);
  BOOST_TEST(counter(h, "huawei_meeting_up", forMeeting(kA)) == 0.0);
  BOOST_TEST(counter(h, "huawei_meeting_connects_total", forMeeting(kA)) == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
