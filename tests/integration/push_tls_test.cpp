// The exporter against the simulator's real-service TLS profiles: a raw-IP push URL whose
// certificate names a DNS host only (api.websocket_tls), and token answers that trickle their
// body (the REST overall deadline).

#include <stdlib.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "simulator/pki.h"
#include "tests/integration/exporter_fixture.h"
#include "tests/integration/temp_dir.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kMeeting = "930000001";

/// The "raw-IP push URL with a DNS-only certificate" profile: the certificate names localhost
/// (the API URL's host) and push.meeting.test, no IP address, while the wsURL is
/// wss://127.0.0.1:port.
struct DnsOnlyPki {
  TempDir dir;
  hme::simulator::PkiFiles files =
      hme::simulator::generatePki(dir.path().string(), hme::simulator::dnsOnlyPkiOptions());

  hme::simulator::SimulatorOptions simulatorOptions() const {
    hme::simulator::SimulatorOptions options = testSimulatorOptions();
    options.cert_file = files.cert_file;
    options.key_file = files.key_file;
    options.api_host = "localhost";
    return options;
  }
};

double counter(const ExporterHarness& h, const std::string& name, const Labels& labels) {
  return h.scrape().valueOr(name, labels, 0);
}

const Labels& handshakeStage() {
  static const Labels labels = forMeeting(kMeeting, {{"stage", "handshake"}});
  return labels;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(push_tls)

BOOST_AUTO_TEST_CASE(raw_ip_push_host_without_server_name_fails_at_handshake_naming_the_fix) {
  const LogCapture capture;
  DnsOnlyPki pki;
  ExporterHarness h(pki.simulatorOptions());
  h.addMeeting(testMeetingSpec(kMeeting));
  h.editConfig([&](hme::config::Config& config) { config.api.ca_file = pki.files.ca_file; });
  h.start();

  BOOST_REQUIRE(h.waitForMetric(
      "huawei_meeting_connect_failures_total", handshakeStage(), [](double v) { return v >= 1; },
      10s));
  BOOST_TEST(h.scrape().valueOr("huawei_meeting_up", forMeeting(kMeeting), -1) == 0.0);
  // The REST host (localhost) verified: the token calls went through.
  BOOST_TEST(h.simulator().observations(kMeeting).ws_tokens_issued >= 1u);
  BOOST_TEST(h.simulator().observations(kMeeting).connections_accepted == 0u);

  const std::string hint = "set api.websocket_tls.server_name";
  const std::string page = h.exporter().renderStatusPage();
  BOOST_TEST(page.find(hint) != std::string::npos, page);
  BOOST_TEST(page.find("push.meeting.test") != std::string::npos);
  BOOST_TEST(h.waitFor([&] { return capture.text().find(hint) != std::string::npos; }, 5s),
             capture.text());
}

BOOST_AUTO_TEST_CASE(raw_ip_push_host_with_server_name_connects_and_sends_it_as_sni) {
  DnsOnlyPki pki;
  ExporterHarness h(pki.simulatorOptions());
  h.addMeeting(testMeetingSpec(kMeeting));
  h.editConfig([&](hme::config::Config& config) {
    config.api.ca_file = pki.files.ca_file;
    config.api.websocket_tls.server_name = hme::simulator::kDnsOnlyPushName;
  });
  h.start();
  BOOST_REQUIRE(h.waitUp(kMeeting, 10s));
  BOOST_TEST(counter(h, "huawei_meeting_connect_failures_total", handshakeStage()) == 0.0);
  // The wsURL the exporter connected to is the raw IP, the name it verified is the server_name.
  BOOST_TEST(h.simulator().wsUrl().rfind("wss://127.0.0.1:", 0) == 0u);
  const std::vector<std::string> sni = h.simulator().tlsServerNames();
  BOOST_TEST(std::count(sni.begin(), sni.end(), hme::simulator::kDnsOnlyPushName) >= 1);
  BOOST_TEST(std::count(sni.begin(), sni.end(), "localhost") >= 1);  // the REST calls
}

BOOST_AUTO_TEST_CASE(push_host_alone_insecure_leaves_the_rest_host_verified) {
  DnsOnlyPki pki;
  {
    // Push host unverified (its certificate names another host), REST host trusted: live.
    const LogCapture capture;
    ExporterHarness h(pki.simulatorOptions());
    h.addMeeting(testMeetingSpec(kMeeting));
    h.editConfig([&](hme::config::Config& config) {
      config.api.ca_file = pki.files.ca_file;
      config.api.websocket_tls.insecure_skip_verify = true;
    });
    h.start();
    BOOST_REQUIRE(h.waitUp(kMeeting, 10s));
    const std::string log = capture.text();
    BOOST_TEST(log.find("TLS certificate verification is OFF for the event-push host") !=
                   std::string::npos,
               log);
    BOOST_TEST(log.find("key=api.websocket_tls.insecure_skip_verify") != std::string::npos, log);
    BOOST_TEST(log.find("OFF for the REST API host") == std::string::npos, log);
  }
  {
    // Same push setting, but the REST host's CA is not trusted: the token call is refused at the
    // handshake, before the password is sent.
    ExporterHarness h(pki.simulatorOptions());
    h.addMeeting(testMeetingSpec(kMeeting));
    h.editConfig([&](hme::config::Config& config) {
      config.api.ca_file = "";
      config.api.websocket_tls.insecure_skip_verify = true;
    });
    h.start();
    const Labels stage = forMeeting(kMeeting, {{"stage", "control_token"}});
    BOOST_REQUIRE(h.waitForMetric(
        "huawei_meeting_connect_failures_total", stage, [](double v) { return v >= 1; }, 10s));
    BOOST_TEST(h.simulator().restCalls().empty());
    BOOST_TEST(h.scrape().valueOr("huawei_meeting_up", forMeeting(kMeeting), -1) == 0.0);
    const std::string page = h.exporter().renderStatusPage();
    BOOST_TEST(page.find("control_token: tls: certificate verify failed") != std::string::npos,
               page);
  }
}

BOOST_AUTO_TEST_CASE(trickled_token_answer_fails_at_control_token_within_about_api_timeout) {
  hme::simulator::SimulatorOptions options = testSimulatorOptions();
  options.rest_body_trickle = 100ms;  // a token answer of ~700 bytes would take over a minute
  ExporterHarness h(options);
  h.addMeeting(testMeetingSpec(kMeeting));
  h.editConfig([](hme::config::Config& config) { config.api.timeout = 1s; });
  const auto start = Clock::now();
  h.start();
  const Labels stage = forMeeting(kMeeting, {{"stage", "control_token"}});
  BOOST_REQUIRE(h.waitForMetric(
      "huawei_meeting_connect_failures_total", stage, [](double v) { return v >= 1; }, 10s));
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  BOOST_TEST(elapsed_ms >= 950);
  BOOST_TEST(elapsed_ms < 3000);  // about api.timeout; generous for loaded sanitizer builds
  BOOST_TEST(h.simulator().observations(kMeeting).control_tokens_issued >= 1u);
  const std::string page = h.exporter().renderStatusPage();
  BOOST_TEST(page.find("control_token: timeout: answer not complete within 1000 ms (api.timeout") !=
                 std::string::npos,
             page);
}

BOOST_AUTO_TEST_SUITE_END()
