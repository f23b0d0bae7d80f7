// The exporter against the in-process simulator over real TLS sockets on 127.0.0.1:0: the
// Subscribe contract, snapshot and incremental merges against the simulator's ground truth,
// reconnects, heartbeat cadence and silence recovery, token refresh.

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "Poco/Base64Decoder.h"
#include "Poco/JSON/Array.h"
#include "Poco/JSON/Object.h"
#include "Poco/JSON/Parser.h"
#include "plugin/transport/rest_client.h"
#include "tests/integration/exporter_fixture.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;
using hme::simulator::DropMode;
using hme::simulator::RestCall;
using Poco::JSON::Object;

const std::string kA = "910000001";
const std::string kB = "910000002";

std::vector<RestCall> callsFor(const std::vector<RestCall>& calls, const std::string& meeting_id) {
  std::vector<RestCall> result;
  for (const auto& call : calls) {
    if (call.meeting_id == meeting_id) result.push_back(call);
  }
  return result;
}

const char* kindName(RestCall::Kind kind) {
  switch (kind) {
    case RestCall::Kind::ControlToken:
      return "C";
    case RestCall::Kind::WsToken:
      return "W";
    case RestCall::Kind::Upgrade:
      return "U";
    case RestCall::Kind::Other:
      break;
  }
  return "?";
}

// The meeting's calls as a string of kinds, e.g. "CWUWU"; a refused call is lower-case.
std::string callPattern(const std::vector<RestCall>& calls) {
  std::string pattern;
  for (const auto& call : calls) {
    const char kind = kindName(call.kind)[0];
    pattern += call.accepted ? kind : static_cast<char>(kind - 'A' + 'a');
  }
  return pattern;
}

Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string base64Decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::string out;
  char c = 0;
  while (decoder.get(c)) out += c;
  return out;
}

bool allDigits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

double counter(const ExporterHarness& h, const std::string& name, const Labels& labels) {
  return h.scrape().valueOr(name, labels, 0);
}

// Empty when the exporter's participant series of `meeting_id` equal the simulator's truth;
// otherwise the first difference, for the failure message. Without `counters`, the join and
// leave counters are left out (changes made while disconnected are seen only as differences).
std::string truthMismatch(const ExporterHarness& h, const std::string& meeting_id,
                          bool counters = true) {
  const auto truth = h.simulator().truth(meeting_id);
  if (!truth) return "no truth for " + meeting_id;
  const Scrape scrape = h.scrape();
  const struct {
    const char* name;
    Labels extra;
    double expected;
  } expectations[] = {
      {"huawei_meeting_participants", {}, static_cast<double>(truth->participants)},
      {"huawei_meeting_participants_calling", {}, static_cast<double>(truth->calling)},
      {"huawei_meeting_participant_joins_total", {}, static_cast<double>(truth->joins)},
      {"huawei_meeting_participant_leaves_total", {}, static_cast<double>(truth->leaves)},
      {"huawei_meeting_participants_by_role",
       {{"role", "host"}},
       static_cast<double>(truth->hosts)},
      {"huawei_meeting_participants_by_role",
       {{"role", "cohost"}},
       static_cast<double>(truth->cohosts)},
      {"huawei_meeting_participants_muted", {}, static_cast<double>(truth->muted)},
      {"huawei_meeting_participants_video", {}, static_cast<double>(truth->video)},
      {"huawei_meeting_participants_hand_raised", {}, static_cast<double>(truth->hand_raised)},
      {"huawei_meeting_participants_sharing", {}, static_cast<double>(truth->sharing)},
      {"huawei_meeting_attendees", {}, static_cast<double>(truth->attendees)},
      {"huawei_meeting_waiting_room_participants", {}, static_cast<double>(truth->waiting)},
      {"huawei_meeting_participants_poor_network", {}, static_cast<double>(truth->poor_network)},
  };
  for (const auto& e : expectations) {
    if (!counters && std::string(e.name).find("_total") != std::string::npos) continue;
    const auto value = scrape.value(e.name, forMeeting(meeting_id, e.extra));
    if (!value || *value != e.expected) {
      std::ostringstream out;
      out << e.name << " of " << meeting_id << ": exporter "
          << (value ? std::to_string(*value) : "absent") << ", truth " << e.expected << " (after "
          << truth->steps << " steps)";
      return out.str();
    }
  }
  return "";
}

bool matchesTruth(const ExporterHarness& h, const std::string& meeting_id, bool counters = true) {
  return truthMismatch(h, meeting_id, counters).empty();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exporter)

BOOST_AUTO_TEST_CASE(subscribe_contract_and_fresh_ws_token_per_connect) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));

  // First connect: control token, then a wsToken, then the upgrade that presents it.
  BOOST_CHECK_EQUAL(callPattern(callsFor(h.simulator().restCalls(), kA)), "CWU");

  // Each reconnect fetches a NEW wsToken (single use) and reuses the still-valid control token.
  for (const DropMode mode : {DropMode::TcpClose, DropMode::CloseFrame}) {
    const double connects = counter(h, "huawei_meeting_connects_total", forMeeting(kA));
    h.simulator().dropConnections(kA, mode);
    BOOST_REQUIRE(h.waitForMetric(
        "huawei_meeting_connects_total", forMeeting(kA),
        [&](double v) { return v == connects + 1; }, 10s));
  }
  BOOST_CHECK_EQUAL(callPattern(callsFor(h.simulator().restCalls(), kA)), "CWUWUWU");
  const auto obs = h.simulator().observations(kA);
  BOOST_CHECK_EQUAL(obs.ws_tokens_issued, 3U);
  BOOST_CHECK_EQUAL(obs.ws_tokens_used, 3U);  // each token presented once, each accepted
  BOOST_CHECK_EQUAL(obs.connections_accepted, 3U);
  BOOST_CHECK_EQUAL(obs.subscribes_accepted, 3U);
  BOOST_CHECK_EQUAL(obs.control_tokens_issued, 1U);

  // The Subscribe frames: `data` is a string holding JSON (double-encoded) with the configured
  // types and confToken = "Basic " + base64(control token); sequences are 30 digits, increasing.
  const auto secrets = h.simulator().secrets();
  const auto configured = hme::config::defaultSubscribeTypes();
  BOOST_REQUIRE_EQUAL(obs.subscribe_frames.size(), 3U);
  std::string previous_sequence;
  std::string control_token;
  for (const auto& frame : obs.subscribe_frames) {
    const Object::Ptr outer = parseObject(frame);
    BOOST_CHECK_EQUAL(outer->getValue<std::string>("action"), "Subscribe");
    const std::string sequence = outer->getValue<std::string>("sequence");
    BOOST_CHECK_EQUAL(sequence.size(), 30U);
    BOOST_CHECK(allDigits(sequence));
    BOOST_CHECK_GT(sequence, previous_sequence);
    previous_sequence = sequence;

    BOOST_REQUIRE(outer->get("data").isString());
    const Object::Ptr data = parseObject(outer->getValue<std::string>("data"));
    const auto types = data->getArray("subscribeType");
    BOOST_REQUIRE(types);
    std::vector<std::string> sent;
    for (std::size_t i = 0; i < types->size(); ++i) {
      sent.push_back(types->getElement<std::string>(static_cast<unsigned>(i)));
    }
    BOOST_CHECK_EQUAL_COLLECTIONS(sent.begin(), sent.end(), configured.begin(), configured.end());

    const std::string conf_token = data->getValue<std::string>("confToken");
    BOOST_REQUIRE_EQUAL(conf_token.rfind("Basic ", 0), 0U);
    const std::string token = base64Decode(conf_token.substr(6));
    BOOST_CHECK(std::find(secrets.begin(), secrets.end(), token) != secrets.end());
    BOOST_CHECK_NE(token, testMeetingSpec(kA).host_password);
    if (control_token.empty()) control_token = token;
    BOOST_CHECK_EQUAL(token, control_token);  // one control token, reused on every reconnect
  }

  // The decoded token is the control token the simulator issued: it buys a wsToken.
  const hme::transport::RestClient rest(h.simulator().apiUrl(), {pkiFile("ca.pem"), false}, 3s);
  BOOST_CHECK(rest.getWsToken(kA, hme::Secret(control_token)).ok());
}

BOOST_AUTO_TEST_CASE(snapshot_and_incremental_merges_match_truth) {
  ExporterHarness h;
  auto spec = testMeetingSpec(kA);
  spec.participants = 9;
  spec.waiting = 2;
  h.addMeeting(spec);
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_CHECK_MESSAGE(h.waitFor([&] { return matchesTruth(h, kA); }, 5s), truthMismatch(h, kA));
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_participant_joins_total", forMeeting(kA)),
                    static_cast<double>(spec.participants));

  // Incremental pushes (msgMode 1) merged into the snapshot state.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) BOOST_REQUIRE(h.simulator().step(kA));
    BOOST_CHECK_MESSAGE(h.waitFor([&] { return matchesTruth(h, kA); }, 5s),
                        "round " << round << ": " << truthMismatch(h, kA));
  }
  const auto truth = h.simulator().truth(kA);
  BOOST_REQUIRE(truth);
  BOOST_CHECK_EQUAL(truth->steps, 15U);
  BOOST_CHECK_GT(truth->joins, static_cast<std::uint64_t>(spec.participants));  // it moved
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_state", forMeeting(kA, {{"state", "created"}})),
                    1.0);
}

BOOST_AUTO_TEST_CASE(reconnect_does_not_double_count_joins) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_REQUIRE_MESSAGE(h.waitFor([&] { return matchesTruth(h, kA); }, 5s), truthMismatch(h, kA));

  const Labels server_closed = forMeeting(kA, {{"reason", "server_closed"}});
  const Labels participants_pushes = forMeeting(kA, {{"action", "ParticipantsNotify"}});
  for (const DropMode mode : {DropMode::TcpClose, DropMode::CloseFrame}) {
    const double connects = counter(h, "huawei_meeting_connects_total", forMeeting(kA));
    const double closed = counter(h, "huawei_meeting_disconnects_total", server_closed);
    for (int i = 0; i < 3; ++i) BOOST_REQUIRE(h.simulator().step(kA));
    BOOST_REQUIRE_MESSAGE(h.waitFor([&] { return matchesTruth(h, kA); }, 5s), truthMismatch(h, kA));

    const double snapshots = counter(h, "huawei_meeting_messages_total", participants_pushes);
    h.simulator().dropConnections(kA, mode);
    BOOST_REQUIRE(h.waitForMetric(
        "huawei_meeting_connects_total", forMeeting(kA),
        [&](double v) { return v == connects + 1; }, 10s));
    BOOST_CHECK(h.waitUp(kA, 5s));
    BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_disconnects_total", server_closed), closed + 1);
    // The snapshot after the reconnect counts only differences: joins still equal the truth.
    // Wait until the new connection's ParticipantsNotify snapshot has been applied.
    BOOST_REQUIRE(h.waitFor(
        [&] {
          return counter(h, "huawei_meeting_messages_total", participants_pushes) > snapshots;
        },
        5s));
    BOOST_CHECK_MESSAGE(h.waitFor([&] { return matchesTruth(h, kA); }, 5s), truthMismatch(h, kA));

    // And changes after the reconnect are merged as before.
    for (int i = 0; i < 3; ++i) BOOST_REQUIRE(h.simulator().step(kA));
    BOOST_CHECK_MESSAGE(h.waitFor([&] { return matchesTruth(h, kA); }, 5s), truthMismatch(h, kA));
  }
  const Scrape scrape = h.scrape();
  BOOST_CHECK_EQUAL(
      scrape.valueOr("huawei_meeting_disconnects_total", forMeeting(kA, {{"reason", "error"}}), -1),
      0.0);
  BOOST_CHECK_EQUAL(scrape.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1), 3.0);

  // Changes made while the exporter cannot connect are caught up by the next snapshot; the
  // counters see them as differences and never go back.
  const double joins = scrape.valueOr("huawei_meeting_participant_joins_total", forMeeting(kA), -1);
  const double leaves =
      scrape.valueOr("huawei_meeting_participant_leaves_total", forMeeting(kA), -1);
  h.simulator().refuseTokenCalls(
      {hme::simulator::TokenEndpoint::WebSocket, 503, "MMC.000000503", "BUSY", 0});
  h.simulator().dropConnections(kA, DropMode::CloseFrame);
  BOOST_REQUIRE(h.waitForMetric(
      "huawei_meeting_connect_failures_total", forMeeting(kA, {{"stage", "ws_token"}}),
      [](double v) { return v >= 1; }, 5s));
  for (int i = 0; i < 8; ++i) BOOST_REQUIRE(h.simulator().step(kA));
  h.simulator().clearTokenRefusals();
  BOOST_REQUIRE(h.waitUp(kA, 5s));
  BOOST_CHECK_MESSAGE(h.waitFor([&] { return matchesTruth(h, kA, false); }, 5s),
                      truthMismatch(h, kA, false));
  const Scrape after = h.scrape();
  const double joins_after =
      after.valueOr("huawei_meeting_participant_joins_total", forMeeting(kA), -1);
  const double leaves_after =
      after.valueOr("huawei_meeting_participant_leaves_total", forMeeting(kA), -1);
  BOOST_CHECK_GE(joins_after, joins);
  BOOST_CHECK_GE(leaves_after, leaves);
  BOOST_CHECK_EQUAL(joins_after - leaves_after,
                    after.valueOr("huawei_meeting_participants", forMeeting(kA), -1) +
                        after.valueOr("huawei_meeting_participants_calling", forMeeting(kA), -1));
}

BOOST_AUTO_TEST_CASE(heartbeat_cadence_and_silence_recovery) {
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kA));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));

  // Cadence: over ~6 s the simulator sees a heartbeat at least every interval + 0.5 s.
  const auto window_start = std::chrono::system_clock::now();
  const auto beats_in_window = [&] {
    std::vector<std::chrono::system_clock::time_point> beats;
    for (const auto& at : h.simulator().observations(kA).heartbeats) {
      if (at >= window_start) beats.push_back(at);
    }
    return beats;
  };
  BOOST_REQUIRE(h.waitFor(
      [&] {
        const auto beats = beats_in_window();
        return !beats.empty() && beats.back() - window_start >= 6s;
      },
      10s));
  const auto beats = beats_in_window();
  BOOST_REQUIRE_GE(beats.size(), 5U);
  std::chrono::duration<double> max_gap{0};
  std::chrono::duration<double> min_gap{1e9};
  for (std::size_t i = 1; i < beats.size(); ++i) {
    const std::chrono::duration<double> gap = beats[i] - beats[i - 1];
    max_gap = std::max(max_gap, gap);
    min_gap = std::min(min_gap, gap);
  }
  BOOST_TEST_MESSAGE("heartbeats in 6 s: " << beats.size() << ", gaps " << min_gap.count() << " .. "
                                           << max_gap.count() << " s");
  BOOST_CHECK_LE(max_gap.count(), 1.5);
  BOOST_CHECK_GE(min_gap.count(), 0.5);  // no bursts either
  // The store counts a heartbeat just after it is on the wire, so the server may see it first.
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_heartbeats_sent_total", forMeeting(kA),
      [&](double v) { return v >= static_cast<double>(beats.size()); }, 2s));
  const Scrape scrape = h.scrape();
  const double rtt = scrape.valueOr("huawei_meeting_heartbeat_rtt_seconds", forMeeting(kA), -1);
  BOOST_CHECK_GT(rtt, 0.0);
  BOOST_CHECK_LT(rtt, 1.0);

  // Silence: the half-open connection is recycled after heartbeat_timeout...
  const Labels timeout_reason = forMeeting(kA, {{"reason", "heartbeat_timeout"}});
  const double timeouts = counter(h, "huawei_meeting_disconnects_total", timeout_reason);
  h.simulator().setSilent(kA, true);
  BOOST_REQUIRE(h.waitForMetric(
      "huawei_meeting_disconnects_total", timeout_reason,
      [&](double v) { return v == timeouts + 1; }, 8s));
  BOOST_CHECK_EQUAL(counter(h, "huawei_meeting_up", forMeeting(kA)), 0.0);
  // ...and once the server talks again the session comes back.
  h.simulator().setSilent(kA, false);
  BOOST_CHECK(h.waitUp(kA, 10s));
}

BOOST_AUTO_TEST_CASE(control_token_refreshed_while_connected) {
  auto options = testSimulatorOptions();
  options.control_token_lifetime = 4s;  // below 2 × token_refresh_before: refresh at half-life
  ExporterHarness h(options);
  h.addMeeting(testMeetingSpec(kA));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  const double connects = counter(h, "huawei_meeting_connects_total", forMeeting(kA));
  BOOST_REQUIRE_EQUAL(connects, 1.0);

  BOOST_REQUIRE(h.waitFor(
      [&] {
        return h.simulator().observations(kA).control_token_refreshes >= 1 &&
               counter(h, "huawei_meeting_token_refreshes_total", forMeeting(kA)) >= 1;
      },
      15s));
  const Scrape scrape = h.scrape();
  BOOST_CHECK_EQUAL(scrape.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1), connects);
  BOOST_CHECK_EQUAL(scrape.valueOr("huawei_meeting_up", forMeeting(kA), -1), 1.0);
  for (const char* reason : {"server_closed", "heartbeat_timeout", "error", "meeting_ended"}) {
    BOOST_CHECK_EQUAL(scrape.valueOr("huawei_meeting_disconnects_total",
                                     forMeeting(kA, {{"reason", reason}}), -1),
                      0.0);
  }
  // The refresh carried the old token (X-Conference-Authorization) and got a new one.
  BOOST_CHECK_GE(h.simulator().observations(kA).control_tokens_issued, 2U);
}

BOOST_AUTO_TEST_CASE(stop_with_connected_idle_meetings_returns_promptly) {
  // Runners sleep until their next deadline, here the 30 s heartbeat: only the wake-up
  // descriptor polled together with the socket can end those waits early.
  ExporterHarness h;
  h.editConfig([](hme::config::Config& config) {
    config.session.heartbeat_interval = 30s;
    config.session.heartbeat_timeout = 60s;
  });
  h.addMeeting(testMeetingSpec(kA));
  h.addMeeting(testMeetingSpec(kB));
  h.start();
  BOOST_REQUIRE(h.waitUp(kA, 10s));
  BOOST_REQUIRE(h.waitUp(kB, 10s));
  // Both runners are now blocked in receive(), nothing due for about 30 s.
  const auto start = std::chrono::steady_clock::now();
  h.exporter().stop();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST_MESSAGE("stop took " << elapsed.count() << " s");
  BOOST_CHECK_LT(elapsed.count(), 2.0);
  // The sessions really ended: the server saw both connections closed.
  BOOST_CHECK(h.waitFor(
      [&] {
        return h.simulator().observations(kA).connections_open == 0 &&
               h.simulator().observations(kB).connections_open == 0;
      },
      5s));
}

BOOST_AUTO_TEST_SUITE_END()
