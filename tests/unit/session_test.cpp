#include "plugin/session/session.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;
using hme::metrics::ConnectStage;
using hme::metrics::DisconnectReason;
using hme::metrics::SessionState;
namespace metrics = hme::metrics;
namespace protocol = hme::protocol;
namespace sess = hme::session;  // `session` is the Boost.Test suite name
using sess::Commands;

constexpr char kMeeting[] = "900964776";
constexpr char kToken[] = "cnr0123456789abcdef";
constexpr char kWsUrl[] = "wss://127.0.0.1:8443";
constexpr std::int64_t kWallStartMs = 1'702'459'164'879;

sess::SessionOptions defaultOptions() {
  sess::SessionOptions options;
  options.subscribe_types = {"ConfBasicInfoNotify", "ParticipantsNotify"};
  return options;
}

// A compact, token-free rendering of a command, so whole sequences can be compared as strings.
std::string describe(const sess::Command& command) {
  return std::visit(
      [](const auto& c) -> std::string {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, sess::FetchControlToken>) {
          return c.current_token ? "FetchControlToken(refresh)" : "FetchControlToken";
        } else if constexpr (std::is_same_v<T, sess::FetchWsToken>) {
          return "FetchWsToken";
        } else if constexpr (std::is_same_v<T, sess::Connect>) {
          return "Connect";
        } else if constexpr (std::is_same_v<T, sess::SendSubscribe>) {
          return "SendSubscribe";
        } else if constexpr (std::is_same_v<T, sess::SendHeartbeat>) {
          return "SendHeartbeat";
        } else if constexpr (std::is_same_v<T, sess::SendPing>) {
          return "SendPing";
        } else if constexpr (std::is_same_v<T, sess::CloseConnection>) {
          return "CloseConnection";
        } else {
          return std::visit(
              [](const auto& e) -> std::string {
                using E = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<E, metrics::SessionStateChanged>) {
                  return std::string("State(") + metrics::toLabel(e.state) + (e.up ? ",up)" : ")");
                } else if constexpr (std::is_same_v<E, metrics::Subscribed>) {
                  return "Subscribed";
                } else if constexpr (std::is_same_v<E, metrics::ConnectFailed>) {
                  return std::string("ConnectFailed(") + metrics::toLabel(e.stage) + ")";
                } else if constexpr (std::is_same_v<E, metrics::Disconnected>) {
                  return std::string("Disconnected(") + metrics::toLabel(e.reason) + ")";
                } else if constexpr (std::is_same_v<E, metrics::HeartbeatSent>) {
                  return "HeartbeatSent";
                } else if constexpr (std::is_same_v<E, metrics::HeartbeatAnswered>) {
                  return "HeartbeatAnswered";
                } else if constexpr (std::is_same_v<E, metrics::TokenRefreshed>) {
                  return "TokenRefreshed";
                } else if constexpr (std::is_same_v<E, metrics::FrameReceived>) {
                  return "Frame(" + e.action + ")";
                } else if constexpr (std::is_same_v<E, metrics::PongReceived>) {
                  return "Pong";
                } else if constexpr (std::is_same_v<E, metrics::FrameRejected>) {
                  return std::string("Rejected(") + metrics::toLabel(e.reason) + ")";
                } else if constexpr (std::is_same_v<E, metrics::ConfDynamicInfo>) {
                  return "ConfDynamicInfo";
                } else {
                  return "OtherEvent";
                }
              },
              c.event);
        }
      },
      command);
}

std::string describe(const Commands& commands) {
  std::string out;
  for (const auto& c : commands) {
    out += (out.empty() ? "" : " ") + describe(c);
  }
  return out;
}

template <class T>
std::vector<T> commandsOf(const Commands& commands) {
  std::vector<T> out;
  for (const auto& c : commands) {
    if (const auto* t = std::get_if<T>(&c)) {
      out.push_back(*t);
    }
  }
  return out;
}

template <class E>
std::vector<E> reportsOf(const Commands& commands) {
  std::vector<E> out;
  for (const auto& c : commands) {
    if (const auto* report = std::get_if<sess::Report>(&c)) {
      if (const auto* e = std::get_if<E>(&report->event)) {
        out.push_back(*e);
      }
    }
  }
  return out;
}

void append(Commands& to, const Commands& from) { to.insert(to.end(), from.begin(), from.end()); }

protocol::Decoded subscribeReply(int code, std::string desc = "SUCCESS") {
  return protocol::Decoded{"Subscribe", protocol::SubscribeReply{"1", code, std::move(desc)}, {}};
}

protocol::Decoded echo(const std::string& sequence) {
  return protocol::Decoded{"HeartBeat", protocol::HeartbeatEcho{sequence}, {}};
}

protocol::Decoded push(metrics::EventBody event, std::string action) {
  return protocol::Decoded{std::move(action), protocol::Push{std::move(event)}, {}};
}

protocol::Decoded destroyedPush() {
  metrics::ConfDynamicInfo info;
  info.state = "Destroyed";
  return push(info, "ConfDynamicInfoNotify");
}

protocol::Decoded rejection(metrics::RejectReason reason) {
  return protocol::Decoded{"", protocol::Rejection{reason, "test"}, {}};
}

sess::ControlTokenResult grant(std::string token = kToken,
                               std::chrono::milliseconds lifetime = 30min) {
  return sess::ControlTokenGrant{hme::Secret(std::move(token)), kWsUrl, lifetime};
}

sess::RequestFailure failure(sess::FailureKind kind, std::string detail) {
  return sess::RequestFailure{kind, std::move(detail)};
}

sess::ClosedInfo serverClose() {
  return sess::ClosedInfo{sess::CloseCause::ServerClosed, 1000, "bye"};
}

/// A manual clock and one session, with the steps a runner would take.
struct Harness {
  explicit Harness(sess::SessionOptions options = defaultOptions(), std::uint64_t seed = 7)
      : s(kMeeting, std::move(options), seed) {}

  Commands start() {
    return s.start(now, metrics::TimePoint(std::chrono::milliseconds(kWallStartMs)));
  }
  Commands tickAt(sess::TimePoint at) {
    now = at;
    return s.onTick(now);
  }
  Commands advance(sess::Clock::duration d) { return tickAt(now + d); }
  /// Advances by `d` and answers the heartbeats sent at once.
  Commands step(sess::Clock::duration d) {
    Commands out = advance(d);
    for (const auto& hb : commandsOf<sess::SendHeartbeat>(out)) {
      append(out, s.onFrame(now, echo(hb.sequence)));
    }
    return out;
  }
  /// Jumps to the next deadline (as a runner would) and ticks.
  Commands toDeadline() {
    const auto deadline = s.nextDeadline();
    BOOST_REQUIRE(deadline.has_value());
    BOOST_REQUIRE(*deadline >= now);
    return tickAt(*deadline);
  }
  /// Answers the connect chain from a FetchWsToken on, up to and including the Subscribe reply.
  Commands connect(std::string ws_token = "cnr-ws") {
    Commands out = s.onWsToken(now, sess::WsTokenGrant{hme::Secret(std::move(ws_token))});
    append(out, s.onConnected(now));
    append(out, s.onFrame(now, subscribeReply(0)));
    return out;
  }
  /// start → control token → wsToken → connect → subscribed.
  Commands goLive() {
    Commands out = start();
    append(out, s.onControlToken(now, grant()));
    append(out, connect());
    BOOST_REQUIRE((s.state() == SessionState::Subscribed));
    return out;
  }
  /// Follows deadlines for `d`, answering every heartbeat at once and every control-token
  /// fetch with a fresh 30-minute token; returns everything that happened.
  Commands liveFor(sess::Clock::duration d) {
    const auto end = now + d;
    Commands all;
    while (s.nextDeadline() && *s.nextDeadline() <= end) {
      Commands out = toDeadline();
      append(all, out);
      for (const auto& hb : commandsOf<sess::SendHeartbeat>(out)) {
        append(all, s.onFrame(now, echo(hb.sequence)));
      }
      if (!commandsOf<sess::FetchControlToken>(out).empty()) {
        append(all, s.onControlToken(now, grant("cnr-refreshed")));
      }
    }
    now = end;
    append(all, s.onTick(now));
    return all;
  }

  sess::Session s;
  sess::TimePoint now{std::chrono::hours(1000)};
};

bool hasState(const Commands& commands, SessionState state, bool up) {
  for (const auto& e : reportsOf<metrics::SessionStateChanged>(commands)) {
    if (e.state == state && e.up == up) {
      return true;
    }
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(happy_path_emits_the_documented_command_sequence) {
  Harness h;
  const Commands started = h.start();
  BOOST_TEST(describe(started) == "State(connecting) FetchControlToken");

  const Commands after_token = h.s.onControlToken(h.now, grant());
  BOOST_TEST(describe(after_token) == "FetchWsToken");
  BOOST_TEST(commandsOf<sess::FetchWsToken>(after_token)[0].control_token.reveal() == kToken);

  const Commands after_ws = h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("cnr-ws-1")});
  BOOST_TEST(describe(after_ws) == "Connect");
  const auto connect = commandsOf<sess::Connect>(after_ws)[0];
  BOOST_TEST(connect.ws_url == kWsUrl);
  BOOST_TEST(connect.ws_token.reveal() == "cnr-ws-1");

  const Commands after_connect = h.s.onConnected(h.now);
  BOOST_TEST(describe(after_connect) == "SendSubscribe");
  const auto subscribe = commandsOf<sess::SendSubscribe>(after_connect)[0];
  BOOST_TEST(subscribe.control_token.reveal() == kToken);
  BOOST_TEST(subscribe.types == defaultOptions().subscribe_types);
  BOOST_TEST(subscribe.sequence == "000000000000000001702459164879");

  const Commands after_reply = h.s.onFrame(h.now, subscribeReply(0));
  BOOST_TEST(describe(after_reply) == "Frame(Subscribe) Subscribed State(subscribed,up)");
  BOOST_TEST(h.s.up());

  BOOST_TEST(describe(h.advance(59s)) == "");
  const Commands heartbeat = h.advance(1s);
  BOOST_TEST(describe(heartbeat) == "SendHeartbeat SendPing");
  // Sequence = wall time at start + elapsed steady time, zero padded to 30 digits.
  BOOST_TEST(commandsOf<sess::SendHeartbeat>(heartbeat)[0].sequence ==
             "000000000000000001702459224879");
  // The PING carries the same sequence, so its PONG answers the heartbeat too.
  BOOST_TEST(commandsOf<sess::SendPing>(heartbeat)[0].payload == "000000000000000001702459224879");
}

BOOST_AUTO_TEST_CASE(tokens_come_in_order_and_every_connect_gets_a_fresh_ws_token) {
  Harness h;
  Commands trace = h.goLive();
  for (int reconnect = 0; reconnect < 3; ++reconnect) {
    append(trace, h.s.onClosed(h.now, serverClose()));
    const Commands retry = h.toDeadline();
    append(trace, retry);
    // The control token is still valid: reused, but the wsToken is fetched again.
    BOOST_TEST(describe(retry) == "State(connecting) FetchWsToken");
    append(trace, h.connect("cnr-ws-" + std::to_string(reconnect)));
    BOOST_TEST((h.s.state() == SessionState::Subscribed));
  }
  std::vector<std::string> order;
  for (const auto& c : trace) {
    const std::string d = describe(c);
    if (d.rfind("Fetch", 0) == 0 || d == "Connect") {
      order.push_back(d);
    }
  }
  const std::vector<std::string> expected = {"FetchControlToken", "FetchWsToken", "Connect",
                                             "FetchWsToken",      "Connect",      "FetchWsToken",
                                             "Connect",           "FetchWsToken", "Connect"};
  BOOST_TEST(order == expected, boost::test_tools::per_element());
  const auto connects = commandsOf<sess::Connect>(trace);
  BOOST_TEST(connects.back().ws_token.reveal() == "cnr-ws-2");
  BOOST_TEST(reportsOf<metrics::Disconnected>(trace).size() == 3u);
  BOOST_TEST(reportsOf<metrics::Subscribed>(trace).size() == 4u);
}

BOOST_AUTO_TEST_CASE(heartbeats_follow_the_interval_exactly_when_ticked_at_deadlines) {
  Harness h;
  h.goLive();
  const auto live_since = h.now;
  std::vector<sess::TimePoint> sent;
  for (int i = 0; i < 10; ++i) {
    const Commands out = h.toDeadline();
    for (const auto& hb : commandsOf<sess::SendHeartbeat>(out)) {
      sent.push_back(h.now);
      BOOST_TEST(describe(h.s.onFrame(h.now, echo(hb.sequence))) ==
                 "Frame(HeartBeat) HeartbeatAnswered");
    }
  }
  BOOST_REQUIRE(sent.size() == 10u);
  BOOST_TEST((sent[0] - live_since == 60s));
  for (std::size_t i = 1; i < sent.size(); ++i) {
    BOOST_TEST((sent[i] - sent[i - 1] == 60s));
  }
}

BOOST_AUTO_TEST_CASE(heartbeats_never_burst_or_lag_more_than_one_step_with_coarse_ticks) {
  Harness h;
  h.goLive();
  std::vector<sess::TimePoint> sent;
  std::vector<std::string> sequences;
  for (int step = 0; step < 200; ++step) {
    const Commands out = h.advance(7s);
    const auto heartbeats = commandsOf<sess::SendHeartbeat>(out);
    BOOST_TEST(heartbeats.size() <= 1u);
    for (const auto& hb : heartbeats) {
      sent.push_back(h.now);
      sequences.push_back(hb.sequence);
      h.s.onFrame(h.now, echo(hb.sequence));
    }
  }
  BOOST_REQUIRE(sent.size() >= 20u);
  for (std::size_t i = 1; i < sent.size(); ++i) {
    BOOST_TEST((sent[i] - sent[i - 1] >= 60s));
    BOOST_TEST((sent[i] - sent[i - 1] < 67s));
    BOOST_TEST(sequences[i] > sequences[i - 1]);  // same width: string order is numeric order
    BOOST_TEST(sequences[i].size() == 30u);
  }
  BOOST_TEST((h.s.state() == SessionState::Subscribed));
}

BOOST_AUTO_TEST_CASE(heartbeat_echo_reports_round_trip_time) {
  Harness h;
  h.goLive();
  const Commands out = h.advance(60s);
  const auto hb = commandsOf<sess::SendHeartbeat>(out);
  BOOST_REQUIRE(hb.size() == 1u);
  h.now += 250ms;
  BOOST_TEST(reportsOf<metrics::HeartbeatAnswered>(h.s.onFrame(h.now, echo("999"))).empty());
  const auto answered =
      reportsOf<metrics::HeartbeatAnswered>(h.s.onFrame(h.now, echo(hb[0].sequence)));
  BOOST_REQUIRE(answered.size() == 1u);
  BOOST_TEST(answered[0].rtt_seconds == 0.25, boost::test_tools::tolerance(1e-9));
  // A duplicate echo is not answered twice.
  BOOST_TEST(
      reportsOf<metrics::HeartbeatAnswered>(h.s.onFrame(h.now, echo(hb[0].sequence))).empty());
}

BOOST_AUTO_TEST_CASE(silence_for_heartbeat_timeout_recycles_the_connection) {
  Harness h;
  h.goLive();
  BOOST_TEST(describe(h.advance(60s)) == "SendHeartbeat SendPing");
  BOOST_TEST(describe(h.advance(29999ms)) == "");
  BOOST_TEST(h.s.up());
  const Commands timeout = h.advance(1ms);
  BOOST_TEST(describe(timeout) == "CloseConnection Disconnected(heartbeat_timeout) State(backoff)");
  BOOST_TEST(!h.s.up());
  // Reconnects with a new wsToken after the backoff.
  BOOST_TEST(describe(h.toDeadline()) == "State(connecting) FetchWsToken");
}

BOOST_AUTO_TEST_CASE(frames_without_echoes_or_pongs_keep_the_connection_and_up) {
  Harness h;
  h.goLive();
  Commands all;
  for (int second = 1; second <= 400; ++second) {
    append(all, h.advance(1s));
    append(all, h.s.onFrame(h.now, push(metrics::SpeakersUpdate{}, "SpeakerChangeNotify")));
  }
  // A complete frame within heartbeat_timeout is a sign of life (protocol.md §3), however many
  // heartbeats went unanswered.
  BOOST_TEST(commandsOf<sess::SendHeartbeat>(all).size() == 6u);
  BOOST_TEST(commandsOf<sess::CloseConnection>(all).empty());
  BOOST_TEST(!hasState(all, SessionState::Subscribed, false));
  BOOST_TEST(h.s.up());
}

BOOST_AUTO_TEST_CASE(pongs_alone_keep_a_quiet_meeting_up_and_measure_rtt) {
  Harness h;
  h.goLive();
  Commands all;
  std::vector<double> rtts;
  for (int beat = 0; beat < 10; ++beat) {  // 600 s: more than six heartbeat_timeouts
    const Commands out = h.toDeadline();
    append(all, out);
    const auto pings = commandsOf<sess::SendPing>(out);
    BOOST_REQUIRE(pings.size() == 1u);
    h.now += 40ms;
    const Commands pong = h.s.onPong(h.now, pings[0].payload);
    BOOST_TEST(describe(pong) == "Pong HeartbeatAnswered");
    for (const auto& answered : reportsOf<metrics::HeartbeatAnswered>(pong)) {
      rtts.push_back(answered.rtt_seconds);
    }
    append(all, pong);
  }
  BOOST_TEST(commandsOf<sess::CloseConnection>(all).empty());
  BOOST_TEST(reportsOf<metrics::Disconnected>(all).empty());
  BOOST_TEST(h.s.up());
  BOOST_REQUIRE(rtts.size() == 10u);
  for (const double rtt : rtts) {
    BOOST_TEST(rtt == 0.04, boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(first_answer_of_echo_or_pong_gives_the_rtt_and_the_second_is_ignored) {
  Harness h;
  h.goLive();
  const Commands out = h.advance(60s);
  const auto hb = commandsOf<sess::SendHeartbeat>(out);
  BOOST_REQUIRE(hb.size() == 1u);
  h.now += 100ms;
  BOOST_TEST(describe(h.s.onPong(h.now, "unrelated")) == "Pong");
  const auto answered = reportsOf<metrics::HeartbeatAnswered>(h.s.onPong(h.now, hb[0].sequence));
  BOOST_REQUIRE(answered.size() == 1u);
  BOOST_TEST(answered[0].rtt_seconds == 0.1, boost::test_tools::tolerance(1e-9));
  h.now += 100ms;
  BOOST_TEST(describe(h.s.onFrame(h.now, echo(hb[0].sequence))) == "Frame(HeartBeat)");
}

BOOST_AUTO_TEST_CASE(an_unanswered_ping_without_frames_still_times_out) {
  Harness h;
  h.goLive();
  h.advance(60s);
  BOOST_TEST(describe(h.advance(29999ms)) == "");
  // An unrelated PONG (not ours) is still a sign of life.
  h.s.onPong(h.now, "unsolicited");
  BOOST_TEST(describe(h.advance(89999ms)).find("Disconnected") == std::string::npos);
  BOOST_TEST(describe(h.advance(1ms)).find("Disconnected(heartbeat_timeout)") != std::string::npos);
  // A PONG after the connection was dropped is ignored.
  BOOST_TEST(h.s.onPong(h.now, "late").empty());
}

BOOST_AUTO_TEST_CASE(incomplete_message_close_has_its_own_reason) {
  Harness h;
  h.goLive();
  const Commands closed = h.s.onClosed(
      h.now, {sess::CloseCause::IncompleteMessage, std::nullopt, "unfinished after 90000 ms"});
  BOOST_TEST(describe(closed) == "Disconnected(incomplete_message) State(backoff)");
  BOOST_TEST(reportsOf<metrics::Disconnected>(closed)[0].detail ==
             "message left incomplete: unfinished after 90000 ms");
}

BOOST_AUTO_TEST_CASE(first_push_before_any_subscribe_reply_goes_live) {
  Harness h;
  h.start();
  h.s.onControlToken(h.now, grant());
  h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("ws")});
  h.s.onConnected(h.now);
  // A rejected frame or an unknown shape is no proof of a subscription.
  BOOST_TEST(describe(h.s.onFrame(h.now, rejection(metrics::RejectReason::InvalidJson))) ==
             "Rejected(invalid_json)");
  BOOST_TEST(!h.s.up());
  const Commands first = h.s.onFrame(h.now, push(metrics::SpeakersUpdate{}, "SpeakerChangeNotify"));
  BOOST_TEST(describe(first) ==
             "Frame(SpeakerChangeNotify) Subscribed State(subscribed,up) OtherEvent");
  BOOST_TEST(h.s.up());
  // A Subscribe reply arriving later changes nothing; the subscribe deadline no longer applies.
  BOOST_TEST(describe(h.s.onFrame(h.now, subscribeReply(0))) == "Frame(Subscribe)");
  BOOST_TEST(describe(h.advance(59s)) == "");
  BOOST_TEST(describe(h.advance(1s)) == "SendHeartbeat SendPing");
  BOOST_TEST(h.s.up());
}

BOOST_AUTO_TEST_CASE(server_close_backs_off_then_reconnects) {
  Harness h;
  h.goLive();
  h.liveFor(5min);  // answered heartbeats: a stable subscription
  const Commands closed = h.s.onClosed(h.now, serverClose());
  BOOST_TEST(describe(closed) == "Disconnected(server_closed) State(backoff)");
  BOOST_TEST(reportsOf<metrics::Disconnected>(closed)[0].detail ==
             "closed by server (code 1000): bye");
  const auto deadline = h.s.nextDeadline();
  BOOST_REQUIRE(deadline.has_value());
  BOOST_TEST((*deadline - h.now <= 1s));  // attempt counter was reset by the stable connection
  BOOST_TEST(h.s.status(h.now).attempt == 1u);
  h.toDeadline();
  BOOST_TEST(describe(h.connect()) ==
             "Connect SendSubscribe Frame(Subscribe) Subscribed State(subscribed,up)");
}

BOOST_AUTO_TEST_CASE(backoff_grows_with_full_jitter_and_stays_within_the_cap) {
  auto run = [](std::uint64_t seed) {
    Harness h(defaultOptions(), seed);
    h.start();
    h.s.onControlToken(h.now, grant());
    std::vector<std::chrono::milliseconds> delays;
    // 20 attempts stay well inside the token's 25 minutes before refresh.
    for (unsigned attempt = 0; attempt < 20; ++attempt) {
      h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("ws")});
      const Commands failed = h.s.onConnectFailed(h.now, "TLS handshake failed");
      BOOST_TEST(describe(failed) == "ConnectFailed(handshake) State(backoff)");
      const auto delay =
          std::chrono::duration_cast<std::chrono::milliseconds>(*h.s.nextDeadline() - h.now);
      BOOST_TEST(delay.count() >= 0);
      BOOST_TEST((delay <= sess::backoffCap(1s, 60s, attempt)));
      delays.push_back(delay);
      BOOST_TEST(describe(h.toDeadline()) == "State(connecting) FetchWsToken");
    }
    return delays;
  };
  const auto a = run(1);
  BOOST_TEST((a == run(1)));  // reproducible from the seed
  BOOST_TEST((a != run(2)));
  // Full jitter: once the cap is 60 s the delays spread over it rather than staying small.
  auto late_max = std::chrono::milliseconds::zero();
  for (std::size_t i = 8; i < a.size(); ++i) {
    late_max = std::max(late_max, a[i]);
  }
  BOOST_TEST((late_max > 30s));
}

BOOST_AUTO_TEST_CASE(backoff_cap_doubles_up_to_the_maximum) {
  BOOST_TEST((sess::backoffCap(1s, 60s, 0) == 1s));
  BOOST_TEST((sess::backoffCap(1s, 60s, 1) == 2s));
  BOOST_TEST((sess::backoffCap(1s, 60s, 5) == 32s));
  BOOST_TEST((sess::backoffCap(1s, 60s, 6) == 60s));
  BOOST_TEST((sess::backoffCap(1s, 60s, std::numeric_limits<unsigned>::max()) == 60s));
  BOOST_TEST(
      (sess::backoffCap(std::chrono::milliseconds::max() / 3, std::chrono::milliseconds::max(),
                        10) == std::chrono::milliseconds::max()));
}

BOOST_AUTO_TEST_CASE(backoff_resets_only_after_a_stable_subscription) {
  Harness h;
  h.start();
  for (int i = 0; i < 5; ++i) {
    h.s.onControlToken(h.now, failure(sess::FailureKind::ServerError, "HTTP 503"));
    h.toDeadline();
  }
  BOOST_TEST(h.s.status(h.now).attempt == 5u);
  h.s.onControlToken(h.now, grant());
  h.connect();
  // Closed before any heartbeat round trip: not stable, the attempt counter keeps growing.
  h.s.onClosed(h.now, serverClose());
  BOOST_TEST(h.s.status(h.now).attempt == 6u);
  h.toDeadline();
  h.connect();
  h.liveFor(61s);  // one answered heartbeat
  h.s.onClosed(h.now, serverClose());
  BOOST_TEST(h.s.status(h.now).attempt == 1u);
}

BOOST_AUTO_TEST_CASE(control_token_is_refreshed_before_expiry_without_dropping_the_connection) {
  Harness h;
  h.goLive();
  Commands all = h.liveFor(25min - 1ms);
  BOOST_TEST(commandsOf<sess::FetchControlToken>(all).empty());
  const Commands due = h.step(1ms);
  const auto fetch = commandsOf<sess::FetchControlToken>(due);
  BOOST_REQUIRE(fetch.size() == 1u);
  BOOST_TEST(fetch[0].current_token.value_or(hme::Secret()).reveal() == kToken);
  BOOST_TEST(describe(h.s.onControlToken(h.now, grant("cnr-second"))) == "TokenRefreshed");
  BOOST_TEST((h.s.state() == SessionState::Subscribed));
  // The next refresh is due 25 minutes after this one, not before.
  all = h.liveFor(25min - 1ms);
  BOOST_TEST(commandsOf<sess::FetchControlToken>(all).empty());
  BOOST_TEST(commandsOf<sess::CloseConnection>(all).empty());
  BOOST_TEST(commandsOf<sess::FetchControlToken>(h.step(1ms)).size() == 1u);
  h.s.onControlToken(h.now, grant("cnr-third"));
  // A reconnect uses the refreshed token.
  h.s.onClosed(h.now, serverClose());
  const Commands retry = h.toDeadline();
  BOOST_TEST(commandsOf<sess::FetchWsToken>(retry).at(0).control_token.reveal() == "cnr-third");
}

BOOST_AUTO_TEST_CASE(short_lived_token_is_refreshed_at_half_its_lifetime) {
  Harness h;
  h.start();
  h.s.onControlToken(h.now, grant(kToken, 6min));  // less than 2 × 5 min
  h.connect();
  BOOST_TEST(commandsOf<sess::FetchControlToken>(h.liveFor(3min - 1ms)).empty());
  const auto fetch = commandsOf<sess::FetchControlToken>(h.step(1ms));
  BOOST_REQUIRE(fetch.size() == 1u);
  BOOST_TEST(fetch[0].current_token.value_or(hme::Secret()).reveal() == kToken);
}

BOOST_AUTO_TEST_CASE(tiny_token_lifetime_refreshes_before_expiry_but_not_in_a_loop) {
  Harness h;
  h.start();
  h.s.onControlToken(h.now, grant(kToken, 4s));  // half of it (2 s) is the earliest refresh
  h.connect();
  BOOST_TEST(commandsOf<sess::FetchControlToken>(h.liveFor(2s - 1ms)).empty());
  BOOST_TEST(commandsOf<sess::FetchControlToken>(h.step(1ms)).size() == 1u);
  Harness tiny;
  tiny.start();
  tiny.s.onControlToken(tiny.now, grant(kToken, 100ms));  // the 2 s floor applies
  tiny.connect();
  // The token expires at 100 ms (the connection is recycled with backoff), but no refresh of
  // the old token is attempted before the floor.
  for (const auto& fetch : commandsOf<sess::FetchControlToken>(tiny.liveFor(2s - 1ms))) {
    BOOST_TEST(!fetch.current_token.has_value());
  }
}

BOOST_AUTO_TEST_CASE(failed_refresh_retries_with_backoff_and_drops_only_at_expiry) {
  Harness h;
  h.goLive();
  h.liveFor(25min - 1ms);
  Commands all = h.step(1ms);
  std::size_t fetches = commandsOf<sess::FetchControlToken>(all).size();
  BOOST_TEST(
      h.s.onControlToken(h.now, failure(sess::FailureKind::ServerError, "HTTP 500")).empty());
  // Until expiry: every refresh fails, the connection stays, heartbeats go on.
  const auto expiry = h.now + 5min;
  while (*h.s.nextDeadline() < expiry) {
    const Commands out = h.toDeadline();
    append(all, out);
    for (const auto& hb : commandsOf<sess::SendHeartbeat>(out)) {
      h.s.onFrame(h.now, echo(hb.sequence));
    }
    const auto refetch = commandsOf<sess::FetchControlToken>(out);
    fetches += refetch.size();
    if (!refetch.empty()) {
      BOOST_TEST(refetch[0].current_token.has_value());
      h.s.onControlToken(h.now, failure(sess::FailureKind::Network, "timeout"));
    }
    BOOST_TEST(h.s.up());
  }
  BOOST_TEST(fetches > 3u);
  BOOST_TEST(commandsOf<sess::CloseConnection>(all).empty());
  BOOST_TEST(commandsOf<sess::SendHeartbeat>(all).size() >= 4u);
  // Counted by the runner once sent: the session reports no HeartbeatSent itself.
  BOOST_TEST(reportsOf<metrics::HeartbeatSent>(all).empty());
  const Commands expired = h.tickAt(expiry);
  BOOST_TEST(describe(expired) == "CloseConnection Disconnected(error) State(backoff)");
  // With the token gone, the reconnect starts from a new control token.
  BOOST_TEST(describe(h.toDeadline()) == "State(connecting) FetchControlToken");
}

BOOST_AUTO_TEST_CASE(control_token_rejection_means_waiting_and_is_retried_with_backoff) {
  Harness h;
  h.start();
  const Commands rejected =
      h.s.onControlToken(h.now, failure(sess::FailureKind::Rejected, "HTTP 401 MMC.111072065"));
  BOOST_TEST(describe(rejected) == "ConnectFailed(control_token) State(waiting)");
  BOOST_TEST(reportsOf<metrics::ConnectFailed>(rejected)[0].detail == "HTTP 401 MMC.111072065");
  for (int i = 0; i < 20; ++i) {
    const auto delay = *h.s.nextDeadline() - h.now;
    BOOST_TEST((delay <= 60s));
    // Retrying from `waiting` does not flicker through `connecting`.
    BOOST_TEST(describe(h.toDeadline()) == "FetchControlToken");
    BOOST_TEST(describe(h.s.onControlToken(
                   h.now, failure(sess::FailureKind::Rejected, "HTTP 401 MMC.111072065"))) ==
               "ConnectFailed(control_token)");
    BOOST_TEST((h.s.state() == SessionState::Waiting));
  }
  h.toDeadline();
  BOOST_TEST(describe(h.s.onControlToken(h.now, grant())) == "State(connecting) FetchWsToken");
}

BOOST_AUTO_TEST_CASE(rate_limited_control_token_means_backoff) {
  Harness h;
  h.start();
  const Commands limited =
      h.s.onControlToken(h.now, failure(sess::FailureKind::RateLimited, "HTTP 429 MMC.100000429"));
  BOOST_TEST(describe(limited) == "ConnectFailed(control_token) State(backoff)");
  BOOST_TEST(describe(h.toDeadline()) == "State(connecting) FetchControlToken");
}

BOOST_AUTO_TEST_CASE(rejected_ws_token_drops_the_cached_control_token) {
  Harness h;
  h.start();
  h.s.onControlToken(h.now, grant());
  const Commands failed = h.s.onWsToken(h.now, failure(sess::FailureKind::Rejected, "HTTP 401"));
  BOOST_TEST(describe(failed) == "ConnectFailed(ws_token) State(backoff)");
  BOOST_TEST(describe(h.toDeadline()) == "State(connecting) FetchControlToken");
  // A non-rejection keeps it.
  h.s.onControlToken(h.now, grant());
  h.s.onWsToken(h.now, failure(sess::FailureKind::ServerError, "HTTP 502"));
  BOOST_TEST(describe(h.toDeadline()) == "State(connecting) FetchWsToken");
}

BOOST_AUTO_TEST_CASE(subscribe_failure_closes_and_backs_off) {
  Harness h;
  h.start();
  h.s.onControlToken(h.now, grant());
  h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("ws")});
  h.s.onConnected(h.now);
  const Commands refused = h.s.onFrame(h.now, subscribeReply(5, "AUTH\x01 FAILED "));
  BOOST_TEST(describe(refused) ==
             "Frame(Subscribe) CloseConnection ConnectFailed(subscribe) State(backoff)");
  BOOST_TEST(reportsOf<metrics::ConnectFailed>(refused)[0].detail == "returnCode 5 (AUTH? FAILED)");
  BOOST_TEST(reportsOf<metrics::Subscribed>(refused).empty());
  // The server refused the control token: the next attempt fetches a fresh one instead of
  // reusing the refused token until its refresh time.
  const Commands retry = h.toDeadline();
  BOOST_TEST(describe(retry) == "State(connecting) FetchControlToken");
  BOOST_TEST(!commandsOf<sess::FetchControlToken>(retry)[0].current_token.has_value());
}

BOOST_AUTO_TEST_CASE(missing_subscribe_reply_and_push_time_out_after_subscribe_timeout) {
  sess::SessionOptions options = defaultOptions();
  options.subscribe_timeout = 3s;  // api.timeout; unrelated to heartbeat_timeout
  Harness h(options);
  h.start();
  h.s.onControlToken(h.now, grant());
  h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("ws")});
  h.s.onConnected(h.now);
  BOOST_TEST(describe(h.advance(2999ms)) == "");
  const Commands failed = h.advance(1ms);
  BOOST_TEST(describe(failed) == "CloseConnection ConnectFailed(subscribe) State(backoff)");
  BOOST_TEST(reportsOf<metrics::ConnectFailed>(failed)[0].detail ==
             "no Subscribe reply and no push within 3 s");
}

BOOST_AUTO_TEST_CASE(handshake_failure_is_a_connect_failure) {
  Harness h;
  h.start();
  h.s.onControlToken(h.now, grant());
  h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("ws")});
  const Commands failed = h.s.onConnectFailed(h.now, "HTTP 403 at upgrade");
  BOOST_TEST(describe(failed) == "ConnectFailed(handshake) State(backoff)");
  BOOST_TEST(h.s.status(h.now).last_error == "handshake: HTTP 403 at upgrade");
}

BOOST_AUTO_TEST_CASE(close_before_subscribe_reply_is_a_subscribe_failure) {
  Harness h;
  h.start();
  h.s.onControlToken(h.now, grant());
  h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("ws")});
  h.s.onConnected(h.now);
  BOOST_TEST(describe(h.s.onClosed(h.now, serverClose())) ==
             "ConnectFailed(subscribe) State(backoff)");
}

BOOST_AUTO_TEST_CASE(pushes_are_forwarded_in_order) {
  Harness h;
  h.goLive();
  metrics::ParticipantsUpdate update;
  update.full = true;
  const Commands out = h.s.onFrame(h.now, push(update, "ParticipantsNotify"));
  BOOST_TEST(describe(out) == "Frame(ParticipantsNotify) OtherEvent");
  BOOST_REQUIRE(reportsOf<metrics::ParticipantsUpdate>(out).size() == 1u);
  BOOST_TEST(reportsOf<metrics::ParticipantsUpdate>(out)[0].full);
  BOOST_TEST(describe(h.s.onFrame(h.now, rejection(metrics::RejectReason::InvalidJson))) ==
             "Rejected(invalid_json)");
  BOOST_TEST((h.s.state() == SessionState::Subscribed));
}

BOOST_AUTO_TEST_CASE(too_large_frame_recycles_the_connection) {
  Harness h;
  h.goLive();
  const Commands closed =
      h.s.onClosed(h.now, sess::ClosedInfo{sess::CloseCause::FrameTooLarge, std::nullopt, ""});
  BOOST_TEST(describe(closed) == "Rejected(too_large) Disconnected(error) State(backoff)");

  Harness g;
  g.goLive();
  BOOST_TEST(describe(g.s.onFrame(g.now, rejection(metrics::RejectReason::TooLarge))) ==
             "Rejected(too_large) CloseConnection Disconnected(error) State(backoff)");
}

BOOST_AUTO_TEST_CASE(destroyed_meeting_ends_and_is_retried_at_the_slow_end) {
  Harness h;
  h.goLive();
  const Commands destroyed = h.s.onFrame(h.now, destroyedPush());
  BOOST_TEST(describe(destroyed) == "Frame(ConfDynamicInfoNotify) ConfDynamicInfo State(ended)");
  BOOST_TEST(!h.s.up());
  // Trailing pushes are still applied until the server closes.
  BOOST_TEST(describe(h.s.onFrame(h.now, push(metrics::SpeakersUpdate{}, "SpeakerChangeNotify"))) ==
             "Frame(SpeakerChangeNotify) OtherEvent");
  const Commands closed = h.s.onClosed(h.now, serverClose());
  BOOST_TEST(describe(closed) == "Disconnected(meeting_ended)");
  BOOST_TEST((*h.s.nextDeadline() - h.now == 60s));
  // The old control token belonged to the ended meeting: a fresh one is fetched.
  BOOST_TEST(describe(h.toDeadline()) == "FetchControlToken");
  BOOST_TEST(describe(h.s.onControlToken(
                 h.now, failure(sess::FailureKind::Rejected, "HTTP 401 MMC.111072065"))) ==
             "ConnectFailed(control_token)");
  BOOST_TEST((h.s.state() == SessionState::Ended));
  BOOST_TEST((*h.s.nextDeadline() - h.now == 60s));
  // The meeting room runs again.
  h.toDeadline();
  BOOST_TEST(describe(h.s.onControlToken(h.now, grant())) == "State(connecting) FetchWsToken");
}

BOOST_AUTO_TEST_CASE(destroyed_meeting_is_closed_by_us_if_the_server_lingers) {
  Harness h;
  h.goLive();
  h.s.onFrame(h.now, destroyedPush());
  BOOST_TEST(describe(h.advance(9s)) == "");
  BOOST_TEST(describe(h.advance(1s)) == "CloseConnection Disconnected(meeting_ended)");
  BOOST_TEST((h.s.state() == SessionState::Ended));
}

BOOST_AUTO_TEST_CASE(refresh_in_flight_during_a_reconnect_is_not_duplicated) {
  Harness h;
  h.goLive();
  h.liveFor(25min - 1ms);
  BOOST_TEST(commandsOf<sess::FetchControlToken>(h.step(1ms)).size() == 1u);
  h.s.onClosed(h.now, serverClose());
  // The retry waits for the refresh already under way instead of fetching again.
  BOOST_TEST(describe(h.toDeadline()) == "State(connecting)");
  BOOST_TEST(!h.s.nextDeadline().has_value());
  BOOST_TEST(describe(h.s.onControlToken(h.now, grant("cnr-new"))) ==
             "TokenRefreshed FetchWsToken");
}

BOOST_AUTO_TEST_CASE(stop_closes_and_silences_the_session) {
  Harness h;
  h.goLive();
  BOOST_TEST(describe(h.s.stop()) == "CloseConnection");
  BOOST_TEST(!h.s.nextDeadline().has_value());
  BOOST_TEST(h.s.onTick(h.now + 1h).empty());
  BOOST_TEST(h.s.onFrame(h.now, echo("1")).empty());
  BOOST_TEST(h.s.onClosed(h.now, serverClose()).empty());
  BOOST_TEST(h.s.onControlToken(h.now, grant()).empty());
  BOOST_TEST(h.s.stop().empty());
}

BOOST_AUTO_TEST_CASE(inputs_out_of_phase_are_ignored) {
  Harness h;
  BOOST_TEST(h.s.onConnected(h.now).empty());  // before start
  h.start();
  BOOST_TEST(h.s.start(h.now, {}).empty());  // only once
  BOOST_TEST(h.s.onWsToken(h.now, sess::WsTokenGrant{hme::Secret("ws")}).empty());
  BOOST_TEST(h.s.onFrame(h.now, subscribeReply(0)).empty());
  BOOST_TEST(h.s.onConnectFailed(h.now, "x").empty());
  BOOST_TEST(!h.s.nextDeadline().has_value());  // waiting for the token answer only
  // A grant without a token is a server error, not a crash or a connect.
  BOOST_TEST(
      describe(h.s.onControlToken(h.now, sess::ControlTokenGrant{hme::Secret(), kWsUrl, 30min})) ==
      "ConnectFailed(control_token) State(backoff)");
  BOOST_TEST(h.s.onControlToken(h.now, grant()).empty());  // nothing was asked for
}

BOOST_AUTO_TEST_CASE(status_view_renders_without_secrets) {
  Harness h;
  h.start();
  BOOST_TEST(sess::toText(h.s.status(h.now)) == "connecting (fetching control token)");
  h.s.onControlToken(h.now, failure(sess::FailureKind::RateLimited, "HTTP 429 MMC.100000429"));
  const auto view = h.s.status(h.now);
  BOOST_TEST((view.state == SessionState::Backoff));
  BOOST_REQUIRE(view.next_retry_in.has_value());
  BOOST_TEST((*view.next_retry_in <= 1s));
  const std::string expected = "backoff (waiting to retry), attempt 1, next retry in " +
                               std::to_string(view.next_retry_in->count()) +
                               " s, last error: control_token: HTTP 429 MMC.100000429";
  BOOST_TEST(sess::toText(view) == expected);
  // The absolute retry time, for readers that count down later (the runner's status line).
  BOOST_REQUIRE(view.retry_at.has_value());
  BOOST_TEST((view.retry_at == h.s.nextDeadline()));
  BOOST_TEST(h.s.status(*view.retry_at + 1s).next_retry_in->count() == 0);

  Harness live;
  live.goLive();
  const std::string text = sess::toText(live.s.status(live.now));
  BOOST_TEST(text == "subscribed, up (live)");
  BOOST_TEST(!live.s.status(live.now).retry_at.has_value());
  BOOST_TEST(text.find(kToken) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(token_lifetime_prefers_the_smaller_plausible_value) {
  const metrics::TimePoint wall{std::chrono::milliseconds(kWallStartMs)};
  const std::int64_t in_30_min = kWallStartMs + 30 * 60 * 1000;
  BOOST_TEST((sess::tokenLifetime(in_30_min, std::nullopt, wall) == 30min));
  BOOST_TEST((sess::tokenLifetime(std::nullopt, 600, wall) == 10min));
  BOOST_TEST((sess::tokenLifetime(in_30_min, 1200, wall) == 20min));
  // Local clock ahead of the server's by more than the lifetime: the relative value wins.
  BOOST_TEST((sess::tokenLifetime(kWallStartMs - 1000, 1800, wall) == 30min));
  // Nothing plausible: the documented 30 minutes.
  BOOST_TEST((sess::tokenLifetime(std::numeric_limits<std::int64_t>::min(), -5, wall) == 30min));
  BOOST_TEST((sess::tokenLifetime(std::numeric_limits<std::int64_t>::max(), 0, wall) == 30min));
  BOOST_TEST((sess::tokenLifetime(std::nullopt, std::nullopt, wall) == 30min));
}

BOOST_AUTO_TEST_SUITE_END()
