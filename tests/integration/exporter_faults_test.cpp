// The exporter against the in-process simulator when things go wrong: a meeting ends, a wrong
// password, an untrusted server certificate, bad frames, and secrets kept out of logs, metrics
// and the status page through all of it.

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "Poco/Base64Encoder.h"
#include "tests/integration/exporter_fixture.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;
using hme::simulator::DropMode;

const std::string kA = "920000001";
const std::string kB = "920000002";
const std::string kC = "920000003";

double counter(const ExporterHarness& h, const std::string& name, const Labels& labels) {
  return h.scrape().valueOr(name, labels, 0);
}

double messagesOf(const ExporterHarness& h, const std::string& meeting_id) {
  double total = 0;
  for (const auto& sample : h.scrape().matching(forMeeting(meeting_id))) {
    if (sample.name == "huawei_meeting_messages_total") total += sample.value;
  }
  return total;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string base64(const std::string& raw) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << raw;
  encoder.close();
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exporter)

BOOST_AUTO_TEST_CASE(ended_meeting_series_vanish_after_retention) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.addMeeting(testMeetingSpec(kB));
  // Long enough that the final values are reliably seen before they go.
  h.editConfig([](hme::config::Config& config) { config.metrics.ended_meeting_retention = 2s; });
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_REQUIRE(h.waitUp(kB, 10s));

  const auto ended_at = std::chrono::steady_clock::now();
  BOOST_REQUIRE(h.simulator().endMeeting(kA));
  BOOST_REQUIRE(h.waitFor(
      [&] {
        const Scrape s = h.scrape();
        return s.valueOr("huawei_meeting_disconnects_total",
                         forMeeting(kA, {{"reason", "meeting_ended"}}), 0) == 1 &&
               s.valueOr("huawei_meeting_state", forMeeting(kA, {{"state", "destroyed"}}), 0) == 1;
      },
      5s));
  {
    const Scrape s = h.scrape();
    BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_up", forMeeting(kA), -1), 0.0);
    BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_state", forMeeting(kA, {{"state", "created"}}), -1),
                      0.0);
    BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_exporter_sessions", {{"state", "ended"}}, -1), 1.0);
    BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_exporter_sessions", {{"state", "subscribed"}}, -1),
                      1.0);
  }

  // After the retention every series of A is gone, B's stay.
  BOOST_REQUIRE(h.waitFor([&] { return h.scrape().matching(forMeeting(kA)).empty(); }, 6s));
  BOOST_CHECK(std::chrono::steady_clock::now() - ended_at >= 2s);  // not before retention
  {
    const Scrape s = h.scrape();
    BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_up", forMeeting(kB), -1), 1.0);
    BOOST_CHECK_GT(s.matching(forMeeting(kB)).size(), 20U);
    // The ended meeting is still configured and polled in the background, staying `ended`.
    BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_exporter_sessions", {{"state", "ended"}}, -1), 1.0);
  }

  // A recurring meeting room: when it runs again, the exporter finds it and its series return.
  BOOST_REQUIRE(h.simulator().startMeeting(kA));
  BOOST_CHECK(h.waitUp(kA, 8s));
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_state", forMeeting(kA, {{"state", "created"}}),
      [](double v) { return v == 1; }, 5s));
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_exporter_sessions", {{"state", "ended"}}), 0.0);
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_connects_total", forMeeting(kA)), 2.0);
}

BOOST_AUTO_TEST_CASE(wrong_password_waits_and_shows_the_error_code) {
  ExporterHarness h;
  const std::string wrong = "not-the-password-5150";
  const auto spec = testMeetingSpec(kA);
  h.simulator().addMeeting(spec);
  h.configureMeeting(kA, wrong);
  h.start();

  const Labels stage = forMeeting(kA, {{"stage", "control_token"}});
  BOOST_REQUIRE(h.waitFor(
      [&] {
        const Scrape s = h.scrape();
        return s.valueOr("huawei_meeting_connect_failures_total", stage, 0) >= 2 &&
               s.valueOr("huawei_meeting_exporter_sessions", {{"state", "waiting"}}, 0) == 1;
      },
      8s));
  const Scrape s = h.scrape();
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_up", forMeeting(kA), -1), 0.0);
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1), 0.0);
  for (const auto& call : h.simulator().restCalls()) BOOST_CHECK(!call.accepted);

  const std::string page = h.exporter().renderStatusPage();
  BOOST_CHECK(page.find("MMC.111072065") != std::string::npos);
  BOOST_CHECK_MESSAGE(page.find("MMC.111072065: HTTP") == std::string::npos,
                      "the error is said twice: " << page);
  BOOST_CHECK(page.find(wrong) == std::string::npos);
  BOOST_CHECK(page.find(spec.host_password) == std::string::npos);
  BOOST_CHECK(h.exporter().renderMetrics().find(wrong) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_page_counts_the_retry_down_while_the_runner_sleeps) {
  // The runner sleeps through the whole 20 s backoff; the countdown is computed when the page
  // is rendered, not when the runner last woke.
  ExporterHarness h;
  h.editConfig([](hme::config::Config& config) {
    config.session.backoff_initial = 20s;
    config.session.backoff_max = 20s;
  });
  h.simulator().addMeeting(testMeetingSpec(kA));
  h.configureMeeting(kA, "not-the-password-5150");
  h.start();
  const std::string marker = "next retry in ";
  const auto retryIn = [&]() -> std::optional<long> {
    const std::string page = h.exporter().renderStatusPage();
    const auto at = page.find(marker);
    if (at == std::string::npos) return std::nullopt;
    return std::strtol(page.c_str() + at + marker.size(), nullptr, 10);
  };
  // The delay is drawn from [0 s, 20 s] (full jitter): about one draw in ten is 2 s or less,
  // too short to watch it count down, and the retry after it draws again.
  BOOST_REQUIRE(h.waitFor([&] { return retryIn().value_or(0) > 2; }, 60s));
  const long first = *retryIn();
  BOOST_TEST_MESSAGE("first countdown: " << first << " s");
  BOOST_CHECK(h.waitFor([&] { return retryIn().value_or(first) < first; }, 3s));
}

BOOST_AUTO_TEST_CASE(untrusted_server_certificate_is_refused) {
  ExporterHarness h(testSimulatorOptions("untrusted-server"));  // the exporter trusts ca.pem only
  h.addMeeting(testMeetingSpec(kA));
  h.start();

  const Labels stage = forMeeting(kA, {{"stage", "control_token"}});
  BOOST_REQUIRE(h.waitForMetric(
      "huawei_meeting_connect_failures_total", stage, [](double v) { return v >= 1; }, 8s));
  const double first = counter(h, "huawei_meeting_connect_failures_total", stage);
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_connect_failures_total", stage, [&](double v) { return v > first; },
      8s));  // retried, refused again
  const Scrape s = h.scrape();
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_up", forMeeting(kA), -1), 0.0);
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1), 0.0);
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_exporter_sessions", {{"state", "subscribed"}}, -1),
                    0.0);
  // The TLS handshake failed before any HTTP request reached the server.
  BOOST_CHECK(h.simulator().restCalls().empty());

  const std::string page = lower(h.exporter().renderStatusPage());
  BOOST_CHECK_MESSAGE(page.find("control_token: tls") != std::string::npos, page);
  BOOST_CHECK(page.find("certificate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_frames_are_counted_while_another_meeting_keeps_updating) {
  const LogCapture capture;
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.addMeeting(testMeetingSpec(kB));
  h.editConfig([](hme::config::Config& config) { config.session.max_frame_bytes = 64 * 1024; });
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_REQUIRE(h.waitUp(kB, 10s));

  const auto errors = [&](const char* reason) { return forMeeting(kA, {{"reason", reason}}); };
  // After each fault to A, B is stepped and its new pushes must arrive.
  const auto stepB = [&] {
    const double before = messagesOf(h, kB);
    BOOST_REQUIRE(h.simulator().step(kB));
    BOOST_CHECK(h.waitFor([&] { return messagesOf(h, kB) > before; }, 5s));
  };
  const double a_connects = counter(h, "huawei_meeting_connects_total", forMeeting(kA));

  h.simulator().sendMalformed(kA);
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_message_errors_total", errors("invalid_json"),
      [](double v) { return v == 1; }, 5s));
  stepB();

  h.simulator().sendBinary(kA, std::string("\x00\x01\xff binary", 10));
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_message_errors_total", errors("binary_frame"),
      [](double v) { return v == 1; }, 5s));
  stepB();
  // Neither closed the connection.
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_connects_total", forMeeting(kA)), a_connects);
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_up", forMeeting(kA)), 1.0);

  h.simulator().sendOversized(kA, 100 * 1024);
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_message_errors_total", errors("too_large"), [](double v) { return v == 1; },
      5s));
  stepB();
  // The connection was recycled: A reconnects.
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_connects_total", forMeeting(kA),
      [&](double v) { return v == a_connects + 1; }, 10s));
  BOOST_CHECK(h.waitUp(kA, 5s));
  stepB();

  const Scrape s = h.scrape();
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_message_errors_total", errors("invalid_message"), -1),
                    0.0);
  BOOST_CHECK_GE(
      s.valueOr("huawei_meeting_disconnects_total", forMeeting(kA, {{"reason", "error"}}), -1),
      1.0);
  BOOST_CHECK_EQUAL(
      s.valueOr("huawei_meeting_messages_total", forMeeting(kA, {{"action", "unknown"}}), -1), 0.0);
  // B was untouched by A's trouble.
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_connects_total", forMeeting(kB), -1), 1.0);
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_up", forMeeting(kB), -1), 1.0);
  for (const char* reason : {"invalid_json", "invalid_message", "too_large", "binary_frame"}) {
    BOOST_CHECK_EQUAL(
        s.valueOr("huawei_meeting_message_errors_total", forMeeting(kB, {{"reason", reason}}), -1),
        0.0);
  }
  const auto truth = h.simulator().truth(kB);
  BOOST_REQUIRE(truth);
  BOOST_CHECK_EQUAL(s.valueOr("huawei_meeting_participants", forMeeting(kB), -1),
                    static_cast<double>(truth->participants));
  // Each rejected frame is logged (rate-limited) with its reason.
  const std::string log_text = capture.text();
  for (const char* reason : {"invalid_json", "binary_frame"}) {
    BOOST_CHECK_MESSAGE(log_text.find(std::string("reason=") + reason) != std::string::npos,
                        "no log line for " << reason);
  }
}

BOOST_AUTO_TEST_CASE(secrets_never_reach_logs_metrics_or_status_page) {
  const LogCapture capture;  // outlives the harness: lines logged while it stops are seen too
  std::vector<std::string> extra_secrets;
  std::string log_text, metrics_text, page_text;
  {
    ExporterHarness h;
    h.addMeeting(testMeetingSpec(kA));
    h.addMeeting(testMeetingSpec(kB));
    const std::string wrong = "wrong-password-8675309";
    extra_secrets.push_back(wrong);
    h.simulator().addMeeting(testMeetingSpec(kC));
    h.configureMeeting(kC, wrong);
    // The first token calls are refused (flow control), so failures are logged early on.
    h.simulator().refuseTokenCalls(
        {hme::simulator::TokenEndpoint::Control, 429, "MMC.100000429", "FLOW_CONTROL", 2});
    h.start();
    BOOST_REQUIRE(h.waitUp(kA, 10s));
    BOOST_REQUIRE(h.waitUp(kB, 10s));
    BOOST_REQUIRE(h.waitForMetric(
        "huawei_meeting_connect_failures_total", forMeeting(kC, {{"stage", "control_token"}}),
        [](double v) { return v >= 1; }, 5s));

    // A refused wsToken call, an expired control token and dropped connections.
    h.simulator().refuseTokenCalls(
        {hme::simulator::TokenEndpoint::WebSocket, 401, "MMC.111070005", "TOKEN_INVALID", 1});
    h.simulator().expireControlTokens(kA);
    h.simulator().dropConnections(kA, DropMode::TcpClose);
    h.simulator().dropConnections(kB, DropMode::CloseFrame, 4000);
    BOOST_REQUIRE(h.waitFor(
        [&] {
          const Scrape s = h.scrape();
          return s.valueOr("huawei_meeting_connects_total", forMeeting(kA), 0) >= 2 &&
                 s.valueOr("huawei_meeting_connects_total", forMeeting(kB), 0) >= 2 &&
                 s.valueOr("huawei_meeting_up", forMeeting(kA), 0) == 1 &&
                 s.valueOr("huawei_meeting_up", forMeeting(kB), 0) == 1;
        },
        10s));
    BOOST_CHECK_GE(counter(h, "huawei_meeting_connect_failures_total",
                           forMeeting(kA, {{"stage", "ws_token"}})) +
                       counter(h, "huawei_meeting_connect_failures_total",
                               forMeeting(kB, {{"stage", "ws_token"}})),
                   1.0);
    metrics_text = h.exporter().renderMetrics();
    page_text = h.exporter().renderStatusPage();
    for (const auto& secret : h.simulator().secrets()) extra_secrets.push_back(secret);
  }
  log_text = capture.text();

  // The capture worked and saw the faults.
  BOOST_CHECK(log_text.find("connect failed") != std::string::npos);
  BOOST_CHECK(log_text.find(kC) != std::string::npos);
  BOOST_CHECK(log_text.find("level=debug") != std::string::npos ||
              log_text.find("level=info") != std::string::npos);

  // Passwords (host, guest, the wrong one), control tokens, wsTokens and every other token-like
  // value, raw and in the "Basic " + base64 form.
  BOOST_REQUIRE_GE(extra_secrets.size(), 8U);
  std::size_t index = 0;
  for (const auto& secret : extra_secrets) {
    BOOST_REQUIRE_GE(secret.size(), 6U);  // short strings would match by accident
    for (const std::string& form : {secret, base64(secret)}) {
      BOOST_CHECK_MESSAGE(log_text.find(form) == std::string::npos,
                          "secret #" << index << " in logs");
      BOOST_CHECK_MESSAGE(metrics_text.find(form) == std::string::npos,
                          "secret #" << index << " in /metrics");
      BOOST_CHECK_MESSAGE(page_text.find(form) == std::string::npos,
                          "secret #" << index << " on the status page");
    }
    ++index;
  }
}

BOOST_AUTO_TEST_SUITE_END()
