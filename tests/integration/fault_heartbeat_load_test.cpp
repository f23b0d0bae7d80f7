// Heartbeat under load: while the simulator floods one meeting with pushes and a client scrapes
// in a loop, the heartbeats the simulator receives keep their rhythm (every gap ≤
// heartbeat_interval + 1 s) and the session stays up. The test floods 2,000 frames/s, which every
// build (sanitizers included) processes with room to spare on two shared cores, so only a broken
// interleaving of heartbeats and frames can fail it. The issue's 20,000 frames/s is
// bench/heartbeat_load (numbers in docs/reliability.md): on a machine shared with other jobs that
// rate makes the bound depend on the scheduler, and a test must not fail on timing.

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/fault_harness.h"

namespace {

using namespace std::chrono_literals;
using hme::faults::Harness;
using hme::faults::meetingSpec;

constexpr double kFramesPerSecond = 2000;

const std::string kMeeting = "900800001";

}  // namespace

BOOST_AUTO_TEST_SUITE(fault)

BOOST_AUTO_TEST_CASE(heartbeats_keep_their_rhythm_under_a_flood_and_scrapes) {
  Harness h({meetingSpec(kMeeting)});
  h.config().session.heartbeat_timeout = 5s;
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kMeeting));

  std::atomic<bool> flooding{true};
  std::atomic<std::size_t> scrapes{0};
  std::thread scraper([&] {
    while (flooding) {
      h.exporter().renderMetrics();
      ++scrapes;
    }
  });

  const std::string frame = R"({"action":"SpeakerChangeNotify","confID":")" + kMeeting +
                            R"(","msgMode":0,"data":[{"pid":"flood","speakingVolume":50}]})";
  const auto messages = [&] {
    std::uint64_t total = 0;
    for (const auto n : h.state(kMeeting).counters.messages) total += n;
    return total;
  };
  const std::uint64_t before = messages();
  const auto heartbeats_before = h.sim().observations(kMeeting).heartbeats.size();
  const auto wall_start = std::chrono::system_clock::now();
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t sent = 0;
  while (std::chrono::steady_clock::now() - start < 6s) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (; static_cast<double>(sent) < elapsed * kFramesPerSecond; ++sent) {
      h.sim().sendText(kMeeting, frame);
    }
    std::this_thread::sleep_for(1ms);  // pacing of the flood, not a synchronisation
  }
  BOOST_TEST_REQUIRE(h.waitFor([&] { return messages() - before >= sent; }, 30s),
                     "the exporter processed the whole flood");
  flooding = false;
  scraper.join();

  const auto observed = h.sim().observations(kMeeting);
  double max_gap = 0;
  std::size_t beats = 0;
  auto previous = wall_start;
  for (std::size_t i = heartbeats_before; i < observed.heartbeats.size(); ++i) {
    if (observed.heartbeats[i] < wall_start) continue;
    max_gap =
        std::max(max_gap, std::chrono::duration<double>(observed.heartbeats[i] - previous).count());
    previous = observed.heartbeats[i];
    ++beats;
  }
  max_gap = std::max(
      max_gap, std::chrono::duration<double>(std::chrono::system_clock::now() - previous).count());
  BOOST_TEST_MESSAGE("flood " << sent << " frames, " << scrapes.load() << " scrapes, " << beats
                              << " heartbeats, max gap " << max_gap << " s");
  BOOST_TEST(beats >= 4u);
  BOOST_TEST(max_gap <= 2.0, "max gap " << max_gap << " s, bound: heartbeat_interval 1 s + 1 s");
  BOOST_TEST(scrapes.load() > 0u);
  BOOST_TEST(h.state(kMeeting).session.up);
  BOOST_TEST(h.state(kMeeting).counters.connects == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
