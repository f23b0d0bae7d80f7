// A meeting of the size the service allows (protocol.md §3): 3,000 participants, whose full
// ParticipantsNotify (about 2.3 MB) arrives at every (re)connect. With the default frame limit it
// is counted right on the first connection, and a reconnect's replayed snapshot changes nothing.

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>

#include "config/config.h"
#include "simulator/meeting.h"
#include "tests/integration/fault_harness.h"

namespace {

using namespace std::chrono_literals;
using hme::faults::Harness;
using hme::faults::meetingSpec;

const std::string kMeeting = "900700001";
constexpr int kParticipants = 3000;

// The text of the meeting's full ParticipantsNotify, as the simulator sends it.
std::size_t snapshotBytes(const hme::simulator::MeetingSpec& spec) {
  hme::simulator::Meeting meeting(spec, 1, 1'700'000'000'000);
  const auto push = meeting.snapshot(hme::simulator::PushType::Participants, 1'700'000'000'000);
  return push ? push->text.size() : 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(large_meeting)

BOOST_AUTO_TEST_CASE(three_thousand_participants_are_counted_on_the_first_connection) {
  const auto spec = meetingSpec(kMeeting, kParticipants);
  // Above the former 1 MiB default, within the current one. (The simulator's items are ~500 B,
  // the real service's ~750 B: protocol.md §3.)
  const std::size_t snapshot = snapshotBytes(spec);
  BOOST_TEST_MESSAGE("full ParticipantsNotify of " << kParticipants << " participants: " << snapshot
                                                   << " bytes");
  BOOST_TEST_REQUIRE(snapshot > std::size_t{1} << 20U);
  BOOST_TEST_REQUIRE(snapshot < hme::config::SessionConfig{}.max_frame_bytes);

  Harness h({spec});
  // The harness's 3 s heartbeat timeout is meant for fault tests; under a loaded machine, TLS
  // and decoding of megabyte snapshots may stall a session longer, and a recycled connection
  // is exactly what this test must not see for other reasons. Production uses 90 s.
  h.config().session.heartbeat_timeout = 30s;
  const auto truth = h.sim().truth(kMeeting);
  BOOST_TEST_REQUIRE(truth.has_value());
  BOOST_TEST_REQUIRE(truth->pids.size() == static_cast<std::size_t>(kParticipants));

  const auto started = std::chrono::steady_clock::now();
  h.startExporter();
  std::string why;
  BOOST_TEST_REQUIRE(h.waitFor([&] { return h.countsMatchTruth(kMeeting, true, why); }, 60s), why);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  BOOST_TEST_MESSAGE("time from exporter start to the first correct count: " << elapsed.count()
                                                                             << " ms");

  BOOST_TEST(h.metric("huawei_meeting_participants", kMeeting) ==
             static_cast<double>(truth->participants));
  BOOST_TEST(h.metric("huawei_meeting_participants_calling", kMeeting) ==
             static_cast<double>(truth->calling));
  BOOST_TEST(h.metric("huawei_meeting_connects_total", kMeeting) == 1.0);
  for (const char* reason : {"invalid_json", "invalid_message", "too_large", "binary_frame"}) {
    BOOST_TEST(h.metric("huawei_meeting_message_errors_total", kMeeting, {{"reason", reason}}) ==
               0.0);
  }
  BOOST_TEST(h.metric("huawei_meeting_message_items_rejected_total", kMeeting,
                      {{"reason", "id_too_long"}}) == 0.0);

  // A reconnect brings the same snapshot again: counted once more as a message, not as joins.
  h.sim().dropConnections(kMeeting, hme::simulator::DropMode::CloseFrame, 1001);
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        const auto state = h.state(kMeeting);
        return state.counters.connects == 2 && state.session.up &&
               h.countsMatchTruth(kMeeting, true, why);
      },
      60s));
  const auto state = h.state(kMeeting);
  BOOST_TEST(state.counters.participant_joins == truth->joins);
  BOOST_TEST(state.counters.messageErrorsTotal() == 0u);
  const auto violations = h.counterViolations();
  BOOST_TEST(violations.empty(), (violations.empty() ? "" : violations.front()));
}

BOOST_AUTO_TEST_SUITE_END()
