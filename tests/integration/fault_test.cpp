// The fault table of docs/reliability.md: one test per row, each against the simulator with an
// in-process Exporter. Every row must recover without operator action, keep every counter
// monotonic and count no join twice; none may leak a secret into the output.

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fault_harness.h"
#include "tests/integration/test_server.h"

namespace {

using namespace std::chrono_literals;
using hme::faults::Harness;
using hme::faults::meetingSpec;
using hme::metrics::ConnectStage;
using hme::metrics::DisconnectReason;
using hme::metrics::SessionState;
using hme::simulator::RestCall;

const std::string kMeeting = "900300001";

std::uint64_t failures(const hme::metrics::MeetingState& state, ConnectStage stage) {
  return state.counters.connect_failures[static_cast<std::size_t>(stage)];
}

std::uint64_t disconnects(const hme::metrics::MeetingState& state, DisconnectReason reason) {
  return state.counters.disconnects[static_cast<std::size_t>(reason)];
}

std::size_t countCalls(const std::vector<RestCall>& calls, RestCall::Kind kind, int status,
                       bool accepted) {
  std::size_t n = 0;
  for (const auto& call : calls)
    n += call.kind == kind && call.status == status && call.accepted == accepted;
  return n;
}

// The checks every row ends with.
void expectHealthyEnd(Harness& h, const std::string& meeting_id, bool exact_joins) {
  // The snapshots follow the Subscribe reply: wait until they are applied.
  std::string why;
  h.waitFor([&] { return h.countsMatchTruth(meeting_id, exact_joins, why); }, 10s);
  BOOST_TEST(h.countsMatchTruth(meeting_id, exact_joins, why), why);
  h.scrape();
  const auto violations = h.counterViolations();
  BOOST_TEST(violations.empty(), (violations.empty() ? "" : violations.front()));
  const auto leaked = h.leakedSecrets();
  BOOST_TEST(leaked.empty(), "a secret of the simulator appears in the output");
}

}  // namespace

// Label own_process: ctest runs this suite in a process of its own (tests/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(fault, *boost::unit_test::label("own_process"))

BOOST_AUTO_TEST_CASE(upgrade_refused_with_401_or_403_then_recovers) {
  for (const int status : {401, 403}) {
    BOOST_TEST_CONTEXT("status " << status) {
      auto options = hme::faults::simulatorOptions();
      options.ws_token_lifetime = 0s;  // every tmpToken is stale at the upgrade: refused
      options.ws_reject_status = status;
      Harness h({meetingSpec(kMeeting)}, options);
      h.startExporter();
      BOOST_TEST_REQUIRE(h.waitFor(
          [&] { return failures(h.state(kMeeting), ConnectStage::Handshake) >= 3; }, 20s));
      BOOST_TEST(!h.state(kMeeting).session.up);
      BOOST_TEST(h.metric("huawei_meeting_up", kMeeting) == 0);
      BOOST_TEST(h.metric("huawei_meeting_connect_failures_total", kMeeting,
                          {{"stage", "handshake"}}) >= 3);
      BOOST_TEST(countCalls(h.sim().restCalls(), RestCall::Kind::Upgrade, status, false) >= 3u);
      BOOST_TEST(h.exporter().renderStatusPage().find(std::to_string(status)) != std::string::npos);

      h.restartSimulator(hme::faults::simulatorOptions());  // the server is fixed
      BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
      BOOST_TEST(h.state(kMeeting).counters.connects == 1u);
      expectHealthyEnd(h, kMeeting, true);
    }
  }
}

BOOST_AUTO_TEST_CASE(close_right_after_upgrade_then_recovers) {
  auto options = hme::faults::simulatorOptions();
  options.ws_token_lifetime = 0s;
  options.ws_reject = hme::simulator::WsRejectMode::CloseFrame;  // upgrade, then close 1008
  Harness h({meetingSpec(kMeeting)}, options);
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] { return countCalls(h.sim().restCalls(), RestCall::Kind::Upgrade, 101, false) >= 3; },
      20s));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        const auto state = h.state(kMeeting);
        std::uint64_t failed = 0;
        for (auto n : state.counters.connect_failures) failed += n;
        return failed >= 3;
      },
      20s));
  BOOST_TEST(h.state(kMeeting).counters.connects == 0u);
  BOOST_TEST(!h.state(kMeeting).session.up);

  h.restartSimulator(hme::faults::simulatorOptions());
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  BOOST_TEST(h.state(kMeeting).counters.connects == 1u);
  expectHealthyEnd(h, kMeeting, true);
}

BOOST_AUTO_TEST_CASE(subscribe_refused_then_recovers) {
  Harness h({meetingSpec(kMeeting)});
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  h.sim().step(kMeeting);
  h.sim().rejectNextSubscribe(kMeeting, 111070004);
  h.sim().dropConnections(kMeeting, hme::simulator::DropMode::CloseFrame, 1001);
  BOOST_TEST_REQUIRE(
      h.waitFor([&] { return failures(h.state(kMeeting), ConnectStage::Subscribe) >= 1; }, 20s));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        const auto state = h.state(kMeeting);
        return state.counters.connects == 2 && state.session.up;
      },
      20s));
  BOOST_TEST(h.sim().observations(kMeeting).subscribes_rejected == 1u);
  BOOST_TEST(failures(h.state(kMeeting), ConnectStage::Subscribe) == 1u);
  BOOST_TEST(
      h.metric("huawei_meeting_connect_failures_total", kMeeting, {{"stage", "subscribe"}}) == 1);
  expectHealthyEnd(h, kMeeting, true);
}

BOOST_AUTO_TEST_CASE(half_open_connection_times_out_and_reconnects) {
  Harness h({meetingSpec(kMeeting)});
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  h.sim().step(kMeeting);
  h.sim().step(kMeeting);
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        std::string why;
        return h.countsMatchTruth(kMeeting, true, why);
      },
      10s));

  h.sim().setSilent(kMeeting, true);  // stops reading and answering: a half-open socket
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] { return disconnects(h.state(kMeeting), DisconnectReason::HeartbeatTimeout) >= 1; },
      20s));
  BOOST_TEST(!h.state(kMeeting).session.up);
  BOOST_TEST(h.metric("huawei_meeting_up", kMeeting) == 0);
  BOOST_TEST(h.metric("huawei_meeting_disconnects_total", kMeeting,
                      {{"reason", "heartbeat_timeout"}}) >= 1);

  h.sim().setSilent(kMeeting, false);
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  BOOST_TEST(h.state(kMeeting).counters.connects >= 2u);
  expectHealthyEnd(h, kMeeting, true);
}

BOOST_AUTO_TEST_CASE(token_calls_refused_with_429_or_5xx_back_off_then_recover) {
  struct Case {
    hme::simulator::TokenEndpoint endpoint;
    int status;
    const char* error_code;
    ConnectStage stage;
    RestCall::Kind kind;
  };
  const Case cases[] = {
      {hme::simulator::TokenEndpoint::Control, 429, "MMC.100000429", ConnectStage::ControlToken,
       RestCall::Kind::ControlToken},
      {hme::simulator::TokenEndpoint::Control, 503, "", ConnectStage::ControlToken,
       RestCall::Kind::ControlToken},
      {hme::simulator::TokenEndpoint::WebSocket, 500, "", ConnectStage::WsToken,
       RestCall::Kind::WsToken},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("status " << c.status << " stage " << hme::metrics::toLabel(c.stage)) {
      Harness h({meetingSpec(kMeeting)});
      hme::simulator::TokenRefusal refusal;
      refusal.endpoint = c.endpoint;
      refusal.status = c.status;
      refusal.error_code = c.error_code;
      refusal.count = 0;  // until cleared
      h.sim().refuseTokenCalls(refusal);
      h.startExporter();
      BOOST_TEST_REQUIRE(h.waitFor([&] { return failures(h.state(kMeeting), c.stage) >= 1; }, 10s));

      // Observation window. Backoff 50 ms doubling to 400 ms with full jitter averages about
      // 15 attempts in 3 s; a client without backoff would make hundreds.
      const auto refused_before = countCalls(h.sim().restCalls(), c.kind, c.status, false);
      std::this_thread::sleep_for(3s);
      const auto refused = countCalls(h.sim().restCalls(), c.kind, c.status, false);
      BOOST_TEST(refused - refused_before >= 2u, "it keeps retrying");
      BOOST_TEST(refused - refused_before <= 40u, "it backs off");
      BOOST_TEST(!h.state(kMeeting).session.up);

      h.sim().clearTokenRefusals();
      BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
      // Every refused call was counted once, at its stage.
      const auto total_refused = countCalls(h.sim().restCalls(), c.kind, c.status, false);
      BOOST_TEST(failures(h.state(kMeeting), c.stage) == total_refused);
      BOOST_TEST(h.metric("huawei_meeting_connect_failures_total", kMeeting,
                          {{"stage", hme::metrics::toLabel(c.stage)}}) ==
                 static_cast<double>(total_refused));
      expectHealthyEnd(h, kMeeting, true);
    }
  }
}

BOOST_AUTO_TEST_CASE(tls_handshake_failure_then_recovers) {
  struct Case {
    const char* name;
    const char* cert;
    const char* key;
  };
  for (const auto& c : {Case{"untrusted CA", "untrusted-server.pem", "untrusted-server.key"},
                        Case{"wrong host name", "wronghost.pem", "wronghost.key"}}) {
    BOOST_TEST_CONTEXT(c.name) {
      auto options = hme::faults::simulatorOptions();
      options.cert_file = hme::faults::pkiFile(c.cert);
      options.key_file = hme::faults::pkiFile(c.key);
      Harness h({meetingSpec(kMeeting)}, options);
      h.startExporter();
      BOOST_TEST_REQUIRE(h.waitFor(
          [&] { return failures(h.state(kMeeting), ConnectStage::ControlToken) >= 3; }, 20s));
      BOOST_TEST(h.sim().restCalls().empty(), "no request got past the TLS handshake");
      BOOST_TEST(!h.state(kMeeting).session.up);
      BOOST_TEST(h.state(kMeeting).session.last_error.find("control_token") != std::string::npos,
                 h.state(kMeeting).session.last_error);

      h.restartSimulator(hme::faults::simulatorOptions());
      BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
      expectHealthyEnd(h, kMeeting, true);
    }
  }
}

BOOST_AUTO_TEST_CASE(connection_refused_then_server_appears) {
  Harness h({meetingSpec(kMeeting)});
  const auto port = static_cast<std::uint16_t>(hme::testing::closedPort());
  h.config().api.url = "https://127.0.0.1:" + std::to_string(port);
  h.startExporter();
  BOOST_TEST_REQUIRE(
      h.waitFor([&] { return failures(h.state(kMeeting), ConnectStage::ControlToken) >= 3; }, 20s));
  BOOST_TEST(!h.state(kMeeting).session.up);

  auto options = hme::faults::simulatorOptions();
  options.port = port;
  h.restartSimulator(options);
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  expectHealthyEnd(h, kMeeting, true);
}

BOOST_AUTO_TEST_CASE(meeting_ends_while_reconnecting_then_restarts) {
  Harness h({meetingSpec(kMeeting)});
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  h.sim().step(kMeeting);
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        std::string why;
        return h.countsMatchTruth(kMeeting, true, why);
      },
      10s));
  const auto first_run = *h.sim().truth(kMeeting);

  // The connection drops and the token service is down while the meeting ends.
  hme::simulator::TokenRefusal refusal;
  refusal.status = 503;
  refusal.count = 0;
  h.sim().refuseTokenCalls(refusal);
  h.sim().dropConnections(kMeeting, hme::simulator::DropMode::TcpClose);
  // Depending on what it still holds, the session retries the control or the ws token.
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        const auto state = h.state(kMeeting);
        return failures(state, ConnectStage::ControlToken) +
                   failures(state, ConnectStage::WsToken) >=
               2;
      },
      20s));
  BOOST_TEST_REQUIRE(h.sim().endMeeting(kMeeting));
  h.sim().clearTokenRefusals();
  // Token calls for an ended meeting are refused with a 4xx: the session waits.
  BOOST_TEST_REQUIRE(
      h.waitFor([&] { return h.state(kMeeting).session.state == SessionState::Waiting; }, 20s));
  BOOST_TEST(!h.state(kMeeting).session.up);

  BOOST_TEST_REQUIRE(h.sim().startMeeting(kMeeting));  // fresh participants
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        std::string why;
        return h.countsMatchTruth(kMeeting, false, why);
      },
      10s));
  const auto second_run = *h.sim().truth(kMeeting);
  const auto state = h.state(kMeeting);
  // Every pid of either run was counted as a join exactly once.
  BOOST_TEST(state.counters.participant_joins == first_run.joins + second_run.joins);
  expectHealthyEnd(h, kMeeting, false);
}

BOOST_AUTO_TEST_CASE(meeting_ends_while_subscribed_then_restarts) {
  Harness h({meetingSpec(kMeeting)});
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  const auto first_run = *h.sim().truth(kMeeting);
  BOOST_TEST_REQUIRE(h.sim().endMeeting(kMeeting));
  BOOST_TEST_REQUIRE(
      h.waitFor([&] { return h.state(kMeeting).session.state == SessionState::Ended; }, 20s));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] { return disconnects(h.state(kMeeting), DisconnectReason::MeetingEnded) >= 1; }, 20s));
  BOOST_TEST(disconnects(h.state(kMeeting), DisconnectReason::MeetingEnded) == 1u);
  BOOST_TEST(!h.state(kMeeting).session.up);
  BOOST_TEST(h.metric("huawei_meeting_state", kMeeting, {{"state", "destroyed"}}) == 1);

  BOOST_TEST_REQUIRE(h.sim().startMeeting(kMeeting));
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        std::string why;
        return h.countsMatchTruth(kMeeting, false, why);
      },
      10s));
  const auto second_run = *h.sim().truth(kMeeting);
  BOOST_TEST(h.state(kMeeting).counters.participant_joins == first_run.joins + second_run.joins);
  BOOST_TEST(h.metric("huawei_meeting_state", kMeeting, {{"state", "created"}}) == 1);
  expectHealthyEnd(h, kMeeting, false);
}

BOOST_AUTO_TEST_CASE(token_expires_mid_stream) {
  auto options = hme::faults::simulatorOptions();
  options.control_token_lifetime = 4s;  // refreshed at half its lifetime: every 2 s
  Harness h({meetingSpec(kMeeting)}, options);
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));

  // Expired on the server before the client's refresh: the refresh still works (password).
  h.sim().expireControlTokens(kMeeting);
  BOOST_TEST_REQUIRE(
      h.waitFor([&] { return h.state(kMeeting).counters.token_refreshes >= 2; }, 20s));
  BOOST_TEST(h.state(kMeeting).counters.connects == 1u, "the stream was never interrupted");
  BOOST_TEST(h.state(kMeeting).session.up);
  BOOST_TEST(h.sim().observations(kMeeting).control_token_refreshes >= 2u);

  // Expired, then the connection drops: the reconnect must not use the dead token for long.
  h.sim().expireControlTokens(kMeeting);
  h.sim().dropConnections(kMeeting, hme::simulator::DropMode::TcpClose);
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        const auto state = h.state(kMeeting);
        return state.counters.connects == 2 && state.session.up;
      },
      20s));
  expectHealthyEnd(h, kMeeting, true);
}

BOOST_AUTO_TEST_CASE(flapping_server_backoff_grows_without_leaks) {
  Harness h({meetingSpec(kMeeting)});
  // Heartbeats slower than the flapping: no connection lives long enough to count as stable,
  // so the backoff keeps growing.
  h.config().session.heartbeat_interval = 4s;
  h.config().session.heartbeat_timeout = 8s;
  h.config().session.backoff_max = 800ms;
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  const std::size_t fds_before = hme::faults::openFds();
  const std::size_t threads_before = hme::faults::threadCount();

  // "Closes every 2 s for a minute", compressed: every second for 15 s.
  unsigned max_attempt = 0;
  int drops = 0;
  const auto end = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < end) {
    h.sim().dropConnections(
        kMeeting,
        drops % 2 == 0 ? hme::simulator::DropMode::TcpClose : hme::simulator::DropMode::CloseFrame,
        1012);
    ++drops;
    const auto until = std::chrono::steady_clock::now() + 1s;
    while (std::chrono::steady_clock::now() < until) {
      const std::string page = h.exporter().renderStatusPage();
      const auto at = page.find("attempt ");
      if (at != std::string::npos) {
        max_attempt = std::max(
            max_attempt, static_cast<unsigned>(std::strtoul(page.c_str() + at + 8, nullptr, 10)));
      }
      h.scrape();
      std::this_thread::sleep_for(50ms);
    }
  }
  BOOST_TEST(max_attempt >= 5u, "the backoff exponent grows while the server flaps");
  BOOST_TEST(h.state(kMeeting).counters.connects >= 5u);

  // Stable again: one heartbeat round trip resets the backoff.
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] { return h.exporter().renderStatusPage().find("attempt ") == std::string::npos; }, 20s));
  // The simulator's own thread pool may keep an idle thread or two; a leak per reconnect
  // would add one per drop.
  BOOST_TEST(hme::faults::openFds() <= fds_before + 2);
  BOOST_TEST(hme::faults::threadCount() <= threads_before + 3);
  expectHealthyEnd(h, kMeeting, true);
}

BOOST_AUTO_TEST_CASE(ten_percent_of_fifty_meetings_fail_permanently) {
  std::vector<hme::simulator::MeetingSpec> specs;
  for (int i = 0; i < 50; ++i) specs.push_back(meetingSpec(std::to_string(900400000 + i), 3));
  Harness h(specs);
  std::vector<std::string> healthy;
  std::vector<std::string> broken;
  for (auto& meeting : h.config().meetings) {
    const bool fails = std::stoi(meeting.id) % 10 == 0;  // wrong password: refused for good
    if (fails) meeting.host_password = hme::config::Secret("wrong-password");
    (fails ? broken : healthy).push_back(meeting.id);
  }
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        std::string why;
        for (const auto& id : healthy) {
          if (!h.state(id).session.up || !h.countsMatchTruth(id, true, why)) return false;
        }
        return true;
      },
      60s));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        for (const auto& id : broken) {
          if (failures(h.state(id), ConnectStage::ControlToken) < 3) return false;
        }
        return true;
      },
      30s));

  std::this_thread::sleep_for(2s);  // observation window: the failing ones keep failing
  const auto samples = h.scrape();
  for (const auto& id : healthy) {
    BOOST_TEST_CONTEXT(id) {
      const auto state = h.state(id);
      BOOST_TEST(state.session.up);
      BOOST_TEST(state.counters.connects == 1u, "never reconnected");
      std::string why;
      BOOST_TEST(h.countsMatchTruth(id, true, why), why);
    }
  }
  for (const auto& id : broken) {
    BOOST_TEST_CONTEXT(id) {
      const auto state = h.state(id);
      BOOST_TEST(!state.session.up);
      BOOST_TEST(std::string(hme::metrics::toLabel(state.session.state)) == "waiting");
      BOOST_TEST(state.counters.connects == 0u);
    }
  }
  BOOST_TEST(
      hme::faults::value(samples, "huawei_meeting_exporter_sessions", {{"state", "subscribed"}})
          .value_or(-1) == 45.0);
  BOOST_TEST(hme::faults::value(samples, "huawei_meeting_exporter_sessions", {{"state", "waiting"}})
                 .value_or(-1) == 5.0);
  const auto violations = h.counterViolations();
  BOOST_TEST(violations.empty(), (violations.empty() ? "" : violations.front()));
  BOOST_TEST(h.leakedSecrets().empty());
}

BOOST_AUTO_TEST_SUITE_END()
