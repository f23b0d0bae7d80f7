// `--probe` against the in-process simulator over real TLS sockets on 127.0.0.1:0: the report
// of a lively meeting and the failed step of each way a probe can fail, with no secret or
// personal value of the simulator's frames in the report; and the real binary's exit codes.

#include "plugin/app/probe.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "Poco/Base64Encoder.h"
#include "tests/integration/exporter_fixture.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;
using hme::app::ProbeOutcome;
using hme::app::ProbeSettings;

const std::string kMeeting = "930000001";

struct ProbeRun {
  ProbeOutcome outcome;
  std::string report;
};

ProbeRun probeOnce(const hme::simulator::Simulator& sim, const std::string& meeting_id,
                   const std::string& password, std::chrono::milliseconds duration = 3s) {
  ProbeSettings settings;
  settings.config = testExporterConfig(sim.apiUrl());
  settings.config.meetings.push_back({meeting_id, hme::config::Secret(password), false});
  settings.meeting_id = meeting_id;
  settings.duration = duration;
  std::ostringstream report;
  ProbeRun run;
  run.outcome = hme::app::runProbe(settings, report);
  run.report = report.str();
  BOOST_TEST_MESSAGE(run.report);
  return run;
}

std::string base64(const std::string& text) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << text;
  encoder.close();
  return out.str();
}

/// Fails the test for every secret and personal value of the simulator found in `report`.
void expectNothingSecret(const hme::simulator::Simulator& sim, const std::string& report) {
  for (const auto& secret : sim.secrets()) {
    BOOST_TEST(report.find(secret) == std::string::npos, "a secret is in the report");
    BOOST_TEST(report.find(base64(secret)) == std::string::npos, "a Basic token is in the report");
  }
  // Participant and attendee names, phone numbers, e-mails and the meeting title of the
  // simulator's scenario; and every pid.
  for (const char* value : {"+8657100", "@example.com", "Simulated meeting",
                            "Zhang",    "Wang",         "Chen",
                            "Yang",     "Huang",        "Zhao",
                            "Smith",    "Garcia",       "Kumar",
                            "Ivanova",  "Sato",         "Okafor",
                            "Silva",    "Novak",        "Priya",
                            "Kenji",    "Amara"}) {
    BOOST_TEST(report.find(value) == std::string::npos, value);
  }
  for (const auto& meeting_id : sim.meetingIds()) {
    const auto truth = sim.truth(meeting_id);
    if (!truth) continue;
    for (const auto& pid : truth->pids) {
      BOOST_TEST(report.find(pid) == std::string::npos, "a pid is in the report");
    }
  }
}

/// A summary line of the report: the name in a 20-column field, then the value.
std::string row(const std::string& name, const std::string& value) {
  std::string left = "  " + name;
  left.resize(20, ' ');
  return left + " " + value;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(probe)

BOOST_AUTO_TEST_CASE(lively_meeting_reports_every_step_and_exits_0) {
  auto options = testSimulatorOptions();
  options.tick = 200ms;  // pushes keep coming while the probe listens
  hme::simulator::Simulator sim(options);
  auto spec = testMeetingSpec(kMeeting);
  spec.lively = true;
  sim.addMeeting(spec);
  sim.start();

  const ProbeRun run = probeOnce(sim, kMeeting, spec.host_password);
  BOOST_TEST(run.outcome.exit_code == 0);
  BOOST_TEST(run.outcome.failed_step.empty());
  const std::string& r = run.report;
  BOOST_TEST(contains(r, row("result", "OK: subscribed and alive for the whole probe (3s)")));
  BOOST_TEST(contains(r, "control_token  ok in "));
  BOOST_TEST(contains(r, "push URL " + sim.wsUrl()));
  BOOST_TEST(contains(r, "confTokenExpireTime 1800 s"));
  BOOST_TEST(contains(r, row("ws_token", "ok in ")));
  BOOST_TEST(contains(r, "DNS names: localhost; IP names: 127.0.0.1"));
  BOOST_TEST(contains(r, row("tls", "verified for 127.0.0.1")));
  BOOST_TEST(contains(r, "handshake      ok in "));
  BOOST_TEST(contains(r, row("subscribe reply", "seen, returnCode 0")));
  BOOST_TEST(contains(r, "subscribed by its Subscribe reply"));
  BOOST_TEST(contains(r, row("first push", "")));
  BOOST_TEST(!contains(r, row("first push", "none")));
  BOOST_TEST(contains(r, row("HeartBeat RTT", "last ")));
  // The simulator answers the PING sent with every HeartBeat.
  BOOST_TEST(!contains(r, row("PONG seen", "none")));
  BOOST_TEST(contains(r, " PONGs (a PING goes with every HeartBeat)"));
  BOOST_TEST(contains(r, row("largest frame", "")));
  BOOST_TEST(contains(r, row("frames rejected", "none")));
  // Field shapes: keys and types of the simulator's pushes, no values.
  BOOST_TEST(contains(r, "  ParticipantsNotify x"));
  BOOST_TEST(contains(r, "pinfoMap"));
  BOOST_TEST(contains(r, "NAME"));
  BOOST_TEST(contains(r, "  Subscribe x1: {action:string, data:{"));
  BOOST_TEST(contains(r, "  HeartBeat x"));
  expectNothingSecret(sim, r);
  // The probe ends its connection when it ends.
  BOOST_TEST(sim.waitFor([&] { return sim.observations(kMeeting).connections_open == 0; }, 5s));
}

BOOST_AUTO_TEST_CASE(wrong_password_and_unknown_meeting_fail_at_control_token) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  sim.addMeeting(testMeetingSpec(kMeeting));
  sim.start();

  const std::string wrong = "not-the-Password-42";
  const ProbeRun bad_password = probeOnce(sim, kMeeting, wrong);
  BOOST_TEST(bad_password.outcome.exit_code == 1);
  BOOST_TEST(bad_password.outcome.failed_step == "control_token");
  BOOST_TEST(
      contains(bad_password.report, row("result", "FAILED at step control_token: HTTP 400")));
  BOOST_TEST(contains(bad_password.report, row("ws_token", "not reached")));
  BOOST_TEST(!contains(bad_password.report, wrong));
  expectNothingSecret(sim, bad_password.report);

  const ProbeRun unknown = probeOnce(sim, "930000099", "pw-930000099-Tr0ub4dor");
  BOOST_TEST(unknown.outcome.exit_code == 1);
  BOOST_TEST(unknown.outcome.failed_step == "control_token");
  BOOST_TEST(!contains(unknown.report, "pw-930000099-Tr0ub4dor"));
}

BOOST_AUTO_TEST_CASE(untrusted_push_host_fails_at_handshake_with_the_certificate_shown) {
  // The token calls go to a trusted simulator whose wsURL points at a second one serving a
  // certificate from a CA the probe does not trust.
  auto push_options = testSimulatorOptions("untrusted-server");
  hme::simulator::Simulator push_host(push_options);
  push_host.addMeeting(testMeetingSpec(kMeeting));
  push_host.start();
  auto api_options = testSimulatorOptions();
  api_options.ws_port = push_host.port();
  hme::simulator::Simulator api(api_options);
  const auto spec = testMeetingSpec(kMeeting);
  api.addMeeting(spec);
  api.start();

  const ProbeRun run = probeOnce(api, kMeeting, spec.host_password);
  BOOST_TEST(run.outcome.exit_code == 1);
  BOOST_TEST(run.outcome.failed_step == "handshake");
  const std::string& r = run.report;
  BOOST_TEST(contains(r, "control_token  ok in "));
  BOOST_TEST(contains(r, row("ws_token", "ok in ")));
  BOOST_TEST(contains(r, "DNS names: localhost; IP names: 127.0.0.1"));
  BOOST_TEST(contains(r, row("tls", "FAILED for 127.0.0.1: unable to get local issuer")));
  BOOST_TEST(contains(r, row("result", "FAILED at step handshake: ")));
  BOOST_TEST(contains(r, row("subscribe", "not reached")));
  BOOST_TEST(push_host.restCalls().empty());  // the refused handshake reached no HTTP request
  expectNothingSecret(api, r);
}

BOOST_AUTO_TEST_CASE(push_host_certificate_for_another_name_is_a_mismatch_unless_skipped) {
  // A trusted certificate for DNS:wrong.example only, on the push host 127.0.0.1.
  hme::simulator::Simulator push_host(testSimulatorOptions("wronghost"));
  push_host.start();
  auto api_options = testSimulatorOptions();
  api_options.ws_port = push_host.port();
  hme::simulator::Simulator api(api_options);
  const auto spec = testMeetingSpec(kMeeting);
  api.addMeeting(spec);
  api.start();

  const ProbeRun checked = probeOnce(api, kMeeting, spec.host_password);
  BOOST_TEST(checked.outcome.failed_step == "handshake");
  BOOST_TEST(contains(checked.report, "DNS names: wrong.example; IP names: none"));
  BOOST_TEST(contains(checked.report, row("tls",
                                          "FAILED for 127.0.0.1: IP address mismatch (the "
                                          "certificate does not name 127.0.0.1)")));

  ProbeSettings settings;
  settings.config = testExporterConfig(api.apiUrl());
  settings.config.api.insecure_skip_verify = true;
  settings.config.meetings.push_back({kMeeting, hme::config::Secret(spec.host_password), false});
  settings.meeting_id = kMeeting;
  settings.duration = 3s;
  std::ostringstream report;
  hme::app::runProbe(settings, report);
  BOOST_TEST_MESSAGE(report.str());
  BOOST_TEST(contains(report.str(), "api.insecure_skip_verify true"));
  BOOST_TEST(contains(report.str(), row("tls", "NOT CHECKED (insecure_skip_verify is set)")));
  BOOST_TEST(contains(report.str(), "DNS names: wrong.example; IP names: none"));
}

BOOST_AUTO_TEST_CASE(refused_subscribe_fails_at_subscribe) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  const auto spec = testMeetingSpec(kMeeting);
  sim.addMeeting(spec);
  sim.start();
  sim.rejectNextSubscribe(kMeeting, 111070004);

  const ProbeRun run = probeOnce(sim, kMeeting, spec.host_password);
  BOOST_TEST(run.outcome.exit_code == 1);
  BOOST_TEST(run.outcome.failed_step == "subscribe");
  BOOST_TEST(contains(run.report, "reply returnCode 111070004"));
  BOOST_TEST(contains(run.report, row("result", "FAILED at step subscribe: returnCode 111070004")));
  BOOST_TEST(contains(run.report, row("subscribe reply", "seen, returnCode 111070004")));
  expectNothingSecret(sim, run.report);
}

BOOST_AUTO_TEST_CASE(connection_lost_after_subscribing_fails_at_live) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  const auto spec = testMeetingSpec(kMeeting);
  sim.addMeeting(spec);
  sim.start();

  ProbeRun run;
  std::thread prober([&] { run = probeOnce(sim, kMeeting, spec.host_password, 20s); });
  const bool subscribed =
      sim.waitFor([&] { return sim.observations(kMeeting).subscribes_accepted >= 1; }, 10s);
  // An action the decoder does not know, then the close (queued in this order).
  sim.sendText(kMeeting, R"({"data":{"whisper":"Alice Secret"},"confID":")" + kMeeting +
                             R"(","action":"BrandNewNotify"})");
  sim.dropConnections(kMeeting, hme::simulator::DropMode::CloseFrame, 1011);
  prober.join();
  BOOST_REQUIRE(subscribed);
  BOOST_TEST(run.outcome.exit_code == 1);
  BOOST_TEST(run.outcome.failed_step == "live");
  BOOST_TEST(
      contains(run.report,
               row("result", "FAILED at step live: server_closed: closed by server (code 1011)")));
  BOOST_TEST(contains(run.report, row("subscribe reply", "seen, returnCode 0")));
  BOOST_TEST(contains(run.report, row("connection end", "close code 1011")));
  BOOST_TEST(contains(run.report,
                      "  unknown (BrandNewNotify) x1: {action:string, confID:string, "
                      "data:{whisper:string}}"));
  BOOST_TEST(!contains(run.report, "Alice"));
}

BOOST_AUTO_TEST_CASE(binary_exits_0_and_1_and_needs_the_meeting_in_the_config) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  const auto spec = testMeetingSpec(kMeeting);
  sim.addMeeting(spec);
  sim.start();

  char pattern[] = "/tmp/hme-probe-XXXXXX";
  BOOST_REQUIRE(mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  const std::string config = dir + "/config.yml";
  {
    std::ofstream out(config);
    out << "api:\n  url: " << sim.apiUrl() << "\n  ca_file: " << pkiFile("ca.pem")
        << "\n  timeout: 3s\nsession:\n  heartbeat_interval: 1s\n  heartbeat_timeout: 2s\n"
        << "meetings:\n  - id: \"" << kMeeting << "\"\n    host_password: \"" << spec.host_password
        << "\"\n";
  }
  const auto runBinary = [&](const std::string& meeting_id) {
    ChildProcess child(HME_EXPORTER_BINARY,
                       {"--probe=" + meeting_id, "--probe.duration=2s", "--config.file=" + config});
    const auto code = child.waitExit(30s);
    BOOST_TEST_MESSAGE(child.output());
    return std::make_pair(code, child.output());
  };
  const auto [ok_code, ok_output] = runBinary(kMeeting);
  BOOST_TEST(ok_code.value_or(-1) == 0);
  BOOST_TEST(contains(ok_output, row("result", "OK")));
  BOOST_TEST(!contains(ok_output, spec.host_password));

  const auto [missing_code, missing_output] = runBinary("930000077");
  BOOST_TEST(missing_code.value_or(-1) == 1);
  BOOST_TEST(contains(missing_output, "FAILED at step config: meeting 930000077 is not listed"));
  std::remove(config.c_str());
  ::rmdir(dir.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
