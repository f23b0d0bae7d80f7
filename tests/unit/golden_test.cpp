// Golden expositions: each tests/testdata/scenarios/<name>.jsonl is replayed through
// protocol::decode → reduce → Collector, and every scrape it asks for is compared byte for byte
// with tests/testdata/golden/<name>[-<label>].prom. `UPDATE_GOLDEN=1 unit_tests
// --run_test=golden` rewrites the golden files instead; review the diff before committing.
//
// Scenario lines are JSON objects; `at_ms` (Unix ms) is the event time and `meeting_id` the
// meeting, plus exactly one of:
//   {"comment": "..."}                                    ignored
//   {"options": {"participant_names": true, "max_participants_per_meeting": 3,
//                "participant_series": true, "ended_meeting_retention_ms": 300000}}
//   {"add": true} / {"remove": true}                      MeetingStore::addMeeting / removeMeeting
//   {"frame": {...}}                                      a text frame (the object, serialised):
//   {"frame_text": "..."}                                   decoded; FrameReceived or
//                                                           FrameRejected, then the push, exactly
//                                                           as the session feeds them
//   {"session": "state", "state": "subscribed", "up": true}     SessionStateChanged
//   {"session": "subscribed"}                                   Subscribed
//   {"session": "connect_failed", "stage": "ws_token", "detail": "..."}
//   {"session": "disconnected", "reason": "error", "detail": "..."}
//   {"session": "heartbeat_sent"} / {"session": "token_refreshed"}
//   {"session": "heartbeat_answered", "rtt_seconds": 0.05}
//   {"session": "frame_rejected", "reason": "too_large"}        (binary_frame, too_large)
//   {"config_reload": true}                               MeetingStore::setConfigReload
//   {"scrape": "label"}                                   render at `at_ms`; compare with
//                                                           golden/<name>-<label>.prom
//                                                           (golden/<name>.prom if label is "")
//
// What the scenarios check, value by value, is reasoned in the comment lines of each scenario
// file and summarised here:
//  - single_meeting: every message-derived metric of one meeting (988712345) with hand-computed
//    values: 5 in the first snapshot (one of them being called), then one join and one leave →
//    joins 6, leaves 1, participants 4, calling 1; roles host 1 / cohost 1 / participant 2;
//    clients desktop 2 / mobile 1 / pad 1; network figures in base units (delay 37 ms → 0.037,
//    loss 1000 → 0.1, fluxIn 2 → 25 B/s); invite results of every code class; the caller's
//    figures absent everywhere; max 3 participant series → over_series_limit 1.
//  - multi_meeting: three meetings in three session states; a title with `"`, `\` and a newline
//    is escaped in the exposition; opt-in participant names.
//  - reconnect: the full snapshots after a re-subscribe count only differences (joins 4,
//    leaves 1) and a replayed InviteResultNotify is not counted again (invites 3, not 5).
//  - ended_meeting: series stay for the retention, vanish at ended_at + retention (sessions
//    gauge still says `ended`), and return with continuing counters after a new subscription.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "metrics/collector.h"
#include "metrics/events.h"
#include "metrics/store.h"
#include "plugin/protocol/decoder.h"

namespace hme::metrics {
namespace {

namespace fs = std::filesystem;
using Poco::JSON::Object;

const fs::path kTestdata = HME_TESTDATA_DIR;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename Enum, std::size_t N>
Enum parseLabel(const std::string& label, const Enum (&values)[N]) {
  for (auto value : values) {
    if (label == toLabel(value)) return value;
  }
  throw std::runtime_error("unknown label value: " + label);
}

constexpr SessionState kStates[] = {SessionState::Waiting, SessionState::Connecting,
                                    SessionState::Subscribed, SessionState::Backoff,
                                    SessionState::Ended};
constexpr ConnectStage kStages[] = {ConnectStage::ControlToken, ConnectStage::WsToken,
                                    ConnectStage::Handshake, ConnectStage::Subscribe};
constexpr DisconnectReason kReasons[] = {DisconnectReason::ServerClosed,
                                         DisconnectReason::HeartbeatTimeout,
                                         DisconnectReason::Error, DisconnectReason::MeetingEnded};
constexpr RejectReason kRejects[] = {RejectReason::InvalidJson, RejectReason::InvalidMessage,
                                     RejectReason::TooLarge, RejectReason::BinaryFrame};

// The events the session would report for one received text frame.
std::vector<EventBody> frameEvents(const std::string& text) {
  auto decoded = protocol::decode(text);
  if (const auto* rejection = std::get_if<protocol::Rejection>(&decoded.message)) {
    return {FrameRejected{rejection->reason}};
  }
  std::vector<EventBody> events = {FrameReceived{decoded.action}};
  if (auto* push = std::get_if<protocol::Push>(&decoded.message)) {
    events.push_back(std::move(push->event));
  }
  return events;
}

EventBody sessionEvent(const Object& line) {
  const auto kind = line.getValue<std::string>("session");
  const auto text = [&](const char* key) {
    return line.has(key) ? line.getValue<std::string>(key) : std::string();
  };
  if (kind == "state") {
    return SessionStateChanged{parseLabel(text("state"), kStates), line.getValue<bool>("up")};
  }
  if (kind == "subscribed") return Subscribed{};
  if (kind == "connect_failed") {
    return ConnectFailed{parseLabel(text("stage"), kStages), text("detail")};
  }
  if (kind == "disconnected") {
    return Disconnected{parseLabel(text("reason"), kReasons), text("detail")};
  }
  if (kind == "heartbeat_sent") return HeartbeatSent{};
  if (kind == "heartbeat_answered") return HeartbeatAnswered{line.getValue<double>("rtt_seconds")};
  if (kind == "token_refreshed") return TokenRefreshed{};
  if (kind == "frame_rejected") return FrameRejected{parseLabel(text("reason"), kRejects)};
  throw std::runtime_error("unknown session event: " + kind);
}

// Replays one scenario; returns golden file name → rendered exposition.
std::map<std::string, std::string> replay(const fs::path& scenario) {
  const std::string name = scenario.stem().string();
  auto store = std::make_shared<MeetingStore>();
  RenderOptions options;
  TimePoint now{};
  options.now = [&now] { return now; };
  Collector collector(store, "0.0.0-golden", "golden", options);

  std::map<std::string, std::string> scrapes;
  std::ifstream in(scenario);
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (text.empty()) continue;
    BOOST_TEST_CONTEXT(scenario.filename().string() << ":" << number) {
      const auto line = Poco::JSON::Parser().parse(text).extract<Object::Ptr>();
      if (line->has("comment")) continue;
      const TimePoint at{std::chrono::milliseconds(line->getValue<std::int64_t>("at_ms"))};
      const std::string meeting_id =
          line->has("meeting_id") ? line->getValue<std::string>("meeting_id") : "";
      if (line->has("options")) {
        const auto set = line->getObject("options");
        options.participant_names = set->optValue("participant_names", false);
        options.participant_series = set->optValue("participant_series", true);
        options.max_participants_per_meeting =
            set->optValue<std::size_t>("max_participants_per_meeting", 1000);
        options.ended_meeting_retention = std::chrono::milliseconds(
            set->optValue<std::int64_t>("ended_meeting_retention_ms", 300000));
        collector.setOptions(options);
        ReduceOptions reduce_options;
        reduce_options.keep_participant_names = options.participant_names;
        store->setReduceOptions(reduce_options);
      } else if (line->has("add")) {
        BOOST_TEST(store->addMeeting(meeting_id, at));
      } else if (line->has("remove")) {
        BOOST_TEST(store->removeMeeting(meeting_id));
      } else if (line->has("frame") || line->has("frame_text")) {
        std::string frame;
        if (line->has("frame")) {
          std::ostringstream out;
          Poco::JSON::Stringifier::stringify(line->getObject("frame"), out);
          frame = out.str();
        } else {
          frame = line->getValue<std::string>("frame_text");
        }
        for (auto& body : frameEvents(frame)) {
          BOOST_TEST(store->apply(meeting_id, Event{at, std::move(body)}));
        }
      } else if (line->has("session")) {
        BOOST_TEST(store->apply(meeting_id, Event{at, sessionEvent(*line)}));
      } else if (line->has("config_reload")) {
        store->setConfigReload(line->getValue<bool>("config_reload"), at);
      } else if (line->has("scrape")) {
        const auto label = line->getValue<std::string>("scrape");
        now = at;
        scrapes[name + (label.empty() ? "" : "-" + label) + ".prom"] =
            renderText(collector.Collect());
      } else {
        BOOST_FAIL("line has no known kind");
      }
    }
  }
  return scrapes;
}

// First line where the two texts differ, for a readable failure.
std::string firstDifference(const std::string& expected, const std::string& actual) {
  std::istringstream a(expected);
  std::istringstream b(actual);
  std::string left;
  std::string right;
  for (int line = 1;; ++line) {
    const bool more_left = static_cast<bool>(std::getline(a, left));
    const bool more_right = static_cast<bool>(std::getline(b, right));
    if (!more_left && !more_right) return "no difference";
    if (!more_left || !more_right || left != right) {
      return "line " + std::to_string(line) + ": golden '" + (more_left ? left : "<end>") +
             "' vs rendered '" + (more_right ? right : "<end>") + "'";
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(golden)

BOOST_AUTO_TEST_CASE(scenarios_render_their_golden_expositions) {
  const bool update = std::getenv("UPDATE_GOLDEN") != nullptr;
  const fs::path golden_dir = kTestdata / "golden";
  std::set<std::string> produced;
  std::size_t scenarios = 0;
  for (const auto& entry : fs::directory_iterator(kTestdata / "scenarios")) {
    if (entry.path().extension() != ".jsonl") continue;
    ++scenarios;
    for (const auto& [file, text] : replay(entry.path())) {
      produced.insert(file);
      const auto path = golden_dir / file;
      if (update) {
        std::ofstream(path, std::ios::binary) << text;
        continue;
      }
      BOOST_TEST_CONTEXT(path.string()) {
        BOOST_REQUIRE_MESSAGE(fs::exists(path), "missing; run with UPDATE_GOLDEN=1");
        const auto expected = readFile(path);
        BOOST_CHECK_MESSAGE(expected == text, firstDifference(expected, text));
      }
    }
  }
  BOOST_TEST(scenarios >= 4u);
  // A golden file no scenario produces any more is stale.
  for (const auto& entry : fs::directory_iterator(golden_dir)) {
    BOOST_TEST(produced.count(entry.path().filename().string()) == 1u,
               "stale golden file " << entry.path().filename());
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace hme::metrics
