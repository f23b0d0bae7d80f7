// The end-to-end rows of the bad-input table (docs/reliability.md): hostile frames pushed by the
// simulator to one meeting are counted in huawei_meeting_message_errors_total{reason} or applied
// safely, while a second meeting on the same exporter keeps running undisturbed.

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "tests/integration/fault_harness.h"

namespace {

using namespace std::chrono_literals;
using hme::faults::Harness;
using hme::faults::meetingSpec;
using hme::metrics::RejectReason;

const std::string kBad = "900500001";
const std::string kGood = "900500002";

std::uint64_t errors(const hme::metrics::MeetingState& state, RejectReason reason) {
  return state.counters.message_errors[static_cast<std::size_t>(reason)];
}

std::uint64_t messages(const hme::metrics::MeetingState& state, const std::string& action) {
  return state.counters.messages[hme::metrics::messageActionIndex(action)];
}

std::string participantsFrame(std::size_t items, bool full) {
  std::string frame = std::string(R"({"action":"ParticipantsNotify","msgMode":)") +
                      (full ? "0" : "1") + R"(,"data":[)";
  for (std::size_t i = 0; i < items; ++i) {
    if (i != 0) frame += ',';
    frame += R"({"pid":"x)" + std::to_string(i) + R"(","pinfoMap":{"STATE":"0"}})";
  }
  return frame + "]}";
}

struct Row {
  const char* input;
  std::function<void(hme::simulator::Simulator&)> send;
  // True once the exporter shows the expected behaviour (given the state before the row).
  std::function<bool(const hme::metrics::MeetingState& before,
                     const hme::metrics::MeetingState& now)>
      handled;
};

bool counted(const hme::metrics::MeetingState& before, const hme::metrics::MeetingState& now,
             RejectReason reason) {
  return errors(now, reason) == errors(before, reason) + 1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(badinput_e2e)

BOOST_AUTO_TEST_CASE(hostile_frames_are_counted_or_applied_and_other_meetings_keep_running) {
  Harness h({meetingSpec(kBad), meetingSpec(kGood)});
  // A limit well below the 16 MiB default keeps the oversized rows small and quick to send.
  h.config().session.max_frame_bytes = 1u << 20U;
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kBad));
  BOOST_TEST_REQUIRE(h.waitUp(kGood));

  std::string deep = R"({"action":"ParticipantsNotify","data":)";
  for (int i = 0; i < 10000; ++i) deep += "[";
  deep += std::string(10000, ']') + "}";
  std::string pinfo =
      R"({"action":"ParticipantsNotify","msgMode":1,"data":[{"pid":"wide","pinfoMap":{"STATE":"0")";
  for (int i = 0; i < 10000; ++i) pinfo += ",\"K" + std::to_string(i) + "\":\"v\"";
  pinfo += "}}]}";

  const Row rows[] = {
      {"malformed JSON", [](auto& sim) { sim.sendMalformed(kBad); },
       [](const auto& b, const auto& n) { return counted(b, n, RejectReason::InvalidJson); }},
      {"truncated UTF-8",
       [](auto& sim) {
         sim.sendText(kBad, "{\"action\":\"ConfBasicInfoNotify\",\"title\":\"Caf\xC3\",\"x\":1}");
       },
       [](const auto& b, const auto& n) { return counted(b, n, RejectReason::InvalidJson); }},
      {"binary frame", [](auto& sim) { sim.sendBinary(kBad, std::string("\x00\x01\xff", 3)); },
       [](const auto& b, const auto& n) { return counted(b, n, RejectReason::BinaryFrame); }},
      {"2 MiB frame", [](auto& sim) { sim.sendOversized(kBad, 2u << 20U); },
       [](const auto& b, const auto& n) {
         // Counted, and the connection is recycled.
         return counted(b, n, RejectReason::TooLarge) &&
                n.counters.connects == b.counters.connects + 1 && n.session.up;
       }},
      {"JSON nested 10,000 levels", [&deep](auto& sim) { sim.sendText(kBad, deep); },
       [](const auto& b, const auto& n) { return counted(b, n, RejectReason::InvalidJson); }},
      {"100,000-item data array over max_frame_bytes",
       [](auto& sim) { sim.sendText(kBad, participantsFrame(100000, true)); },
       [](const auto& b, const auto& n) {
         return counted(b, n, RejectReason::TooLarge) && n.session.up &&
                n.participants.size() == b.participants.size();
       }},
      {"wrong type: data is a number",
       [](auto& sim) { sim.sendText(kBad, R"({"action":"ParticipantsNotify","data":5})"); },
       [](const auto& b, const auto& n) { return counted(b, n, RejectReason::InvalidMessage); }},
      {"wrong type: pinfoMap is an array",
       [](auto& sim) {
         sim.sendText(
             kBad,
             R"({"action":"ParticipantsNotify","msgMode":1,"data":[{"pid":"p","pinfoMap":[1]}]})");
       },
       [](const auto& b, const auto& n) { return counted(b, n, RejectReason::InvalidMessage); }},
      {"wrong type: action is a number",
       [](auto& sim) { sim.sendText(kBad, R"({"action":12,"data":{}})"); },
       [](const auto& b, const auto& n) { return counted(b, n, RejectReason::InvalidMessage); }},
      {"duplicate keys",
       [](auto& sim) {
         sim.sendText(
             kBad,
             R"({"action":"ConfBasicInfoNotify","title":"first","title":"second","data":{}})");
       },
       [](const auto& b, const auto& n) {
         return messages(n, "ConfBasicInfoNotify") == messages(b, "ConfBasicInfoNotify") + 1 &&
                n.counters.messageErrorsTotal() == b.counters.messageErrorsTotal() &&
                (n.info.title == "first" || n.info.title == "second");
       }},
      {"unknown action",
       [](auto& sim) { sim.sendText(kBad, R"({"action":"BrandNewNotify","data":{"a":1}})"); },
       [](const auto& b, const auto& n) {
         return messages(n, "unknown") == messages(b, "unknown") + 1 &&
                n.counters.messageErrorsTotal() == b.counters.messageErrorsTotal();
       }},
      {"pinfoMap with 10,000 keys", [&pinfo](auto& sim) { sim.sendText(kBad, pinfo); },
       [](const auto& b, const auto& n) {
         return n.participants.count("wide") == 1 &&
                n.counters.participant_joins == b.counters.participant_joins + 1;
       }},
      {"label values with control characters",
       [](auto& sim) {
         sim.sendText(
             kBad,
             R"({"action":"ConfBasicInfoNotify","title":"evil\u0000\n\u001b[2Jtitle","data":{}})");
       },
       [](const auto& b, const auto& n) {
         return messages(n, "ConfBasicInfoNotify") == messages(b, "ConfBasicInfoNotify") + 1 &&
                n.info.title.find("title") != std::string::npos;
       }},
  };

  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.input) {
      const auto before = h.state(kBad);
      const auto good_before = h.state(kGood);
      row.send(h.sim());
      BOOST_TEST_REQUIRE(h.waitFor([&] { return row.handled(before, h.state(kBad)); }, 20s));
      BOOST_TEST_REQUIRE(h.waitUp(kBad));

      // The other meeting was not disturbed: same connection, and a change reaches it.
      BOOST_TEST(h.sim().step(kGood));
      BOOST_TEST_REQUIRE(h.waitFor(
          [&] {
            std::string why;
            return h.countsMatchTruth(kGood, true, why);
          },
          5s));
      const auto good = h.state(kGood);
      BOOST_TEST(good.session.up);
      BOOST_TEST(good.counters.connects == good_before.counters.connects);
      BOOST_TEST(good.counters.messageErrorsTotal() == 0u);
    }
  }

  // Every rendered label value is printable: no control character reached the exposition.
  const std::string text = h.exporter().renderMetrics();
  for (const char c : text) {
    BOOST_TEST_REQUIRE((c == '\n' || static_cast<unsigned char>(c) >= 0x20));
  }
  BOOST_TEST(h.metric("huawei_meeting_message_errors_total", kBad, {{"reason", "invalid_json"}}) ==
             3);
  BOOST_TEST(h.metric("huawei_meeting_message_errors_total", kBad, {{"reason", "too_large"}}) == 2);
  BOOST_TEST(h.metric("huawei_meeting_message_errors_total", kBad, {{"reason", "binary_frame"}}) ==
             1);
  BOOST_TEST(
      h.metric("huawei_meeting_message_errors_total", kBad, {{"reason", "invalid_message"}}) == 3);
  const auto violations = h.counterViolations();
  BOOST_TEST(violations.empty(), (violations.empty() ? "" : violations.front()));
}

BOOST_AUTO_TEST_CASE(hundred_thousand_items_within_the_frame_limit_are_applied_bounded) {
  Harness h({meetingSpec(kBad)});
  h.config().session.max_frame_bytes = 8u << 20U;
  // Decoding and reducing 100,000 items takes a while on a loaded machine: keep the heartbeat
  // timeout well above it, as in production (90 s), so the connection is not recycled.
  h.config().session.heartbeat_timeout = 30s;
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kBad));
  const std::string frame = participantsFrame(100000, false);
  BOOST_TEST_REQUIRE(frame.size() > (1u << 20U));
  h.sim().sendText(kBad, frame);
  BOOST_TEST_REQUIRE(h.waitFor([&] { return h.state(kBad).participants.size() >= 100000u; }, 60s));
  const auto state = h.state(kBad);
  // Bounded by ReduceOptions::max_list_entries (100000 per list): the meeting's own
  // participants plus the new ones never exceed it, and only admitted pids count as joins.
  BOOST_TEST(state.participants.size() == 100000u);
  BOOST_TEST(state.counters.participant_joins - state.counters.participant_leaves ==
             state.participants.size());
  BOOST_TEST(state.session.up);
  // Per-participant series stay capped by metrics.max_participants_per_meeting (1000).
  const auto samples = h.scrape();
  std::size_t info_series = 0;
  for (const auto& sample : samples)
    info_series += sample.name == "huawei_meeting_participant_info";
  BOOST_TEST(info_series <= 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
