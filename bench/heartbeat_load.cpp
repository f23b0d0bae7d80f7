// Heartbeat under load: the simulator floods one meeting with push frames (default 20,000/s)
// while a client scrapes the exporter in a loop; the simulator measures the gaps between the
// heartbeats it receives. The requirement: every gap ≤ heartbeat_interval + 1 s.
//
// A bench, not a ctest: on two shared cores (and under sanitizers) the exporter may not keep
// up with 20,000 frames/s, and a timing bound must not make the test suite flaky. Run:
//   build/bench/heartbeat_load [--rate=20000] [--seconds=10] [--heartbeat-ms=1000]
// It prints the numbers and a verdict line, and exits 1 if the bound was broken.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "config/config.h"
#include "plugin/app/exporter.h"
#include "plugin/log/log.h"
#include "simulator/simulator.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

long flag(int argc, char** argv, std::string_view name, long fallback) {
  const std::string prefix = "--" + std::string(name) + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg.rfind(prefix, 0) == 0) return std::strtol(arg.data() + prefix.size(), nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const long rate = flag(argc, argv, "rate", 20000);
  const long seconds = flag(argc, argv, "seconds", 10);
  const std::chrono::milliseconds heartbeat(flag(argc, argv, "heartbeat-ms", 1000));
  hme::log::logger().setLevel(hme::log::Level::Warn);

  const std::string pki = HME_TESTDATA_DIR "/pki/";
  hme::simulator::SimulatorOptions options;
  options.cert_file = pki + "server.pem";
  options.key_file = pki + "server.key";
  options.tick = 0ms;
  hme::simulator::Simulator sim(options);
  const std::string meeting_id = "900700001";
  hme::simulator::MeetingSpec spec;
  spec.meeting_id = meeting_id;
  spec.host_password = "load-test-password";
  spec.lively = false;
  sim.addMeeting(spec);
  sim.start();

  hme::config::Config config;
  config.api.url = sim.apiUrl();
  config.api.ca_file = pki + "ca.pem";
  config.session.heartbeat_interval = heartbeat;
  config.session.heartbeat_timeout = heartbeat * 5;
  config.meetings.push_back({meeting_id, hme::config::Secret(spec.host_password)});
  hme::app::Exporter exporter([&] { return config; }, "bench", "bench");
  exporter.start();
  const auto up = [&] {
    const auto state = exporter.store().snapshot(meeting_id);
    return state && state->session.up;
  };
  if (!sim.waitFor(up, 30s)) {
    std::fprintf(stderr, "the exporter did not subscribe\n");
    return 2;
  }
  const auto messages = [&] {
    std::uint64_t total = 0;
    if (const auto state = exporter.store().snapshot(meeting_id)) {
      for (const auto n : state->counters.messages) total += n;
    }
    return total;
  };

  const std::string frame = R"({"action":"SpeakerChangeNotify","confID":")" + meeting_id +
                            R"(","msgMode":0,"data":[{"pid":"flood","speakingVolume":50}]})";
  std::atomic<bool> flooding{true};
  std::atomic<std::uint64_t> scrapes{0};
  std::thread scraper([&] {
    while (flooding) {
      exporter.renderMetrics();
      ++scrapes;
    }
  });

  const std::uint64_t messages_before = messages();
  const auto heartbeats_before = sim.observations(meeting_id).heartbeats.size();
  const auto wall_start = std::chrono::system_clock::now();
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  std::uint64_t sent = 0;
  while (Clock::now() < end) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const auto due = static_cast<std::uint64_t>(elapsed * static_cast<double>(rate));
    for (; sent < due; ++sent) sim.sendText(meeting_id, frame);
    std::this_thread::sleep_for(1ms);
  }
  const double flood_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the exporter drain what is queued, up to the flood's own length.
  sim.waitFor([&] { return messages() - messages_before >= sent; }, std::chrono::seconds(seconds));
  const double drain_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  flooding = false;
  scraper.join();

  const auto observed = sim.observations(meeting_id);
  double max_gap = 0;
  std::size_t beats = 0;
  auto previous = wall_start;
  for (std::size_t i = heartbeats_before; i < observed.heartbeats.size(); ++i) {
    const auto at = observed.heartbeats[i];
    if (at < wall_start) continue;
    max_gap = std::max(max_gap, std::chrono::duration<double>(at - previous).count());
    previous = at;
    ++beats;
  }
  // Silence at the end counts too.
  max_gap = std::max(
      max_gap, std::chrono::duration<double>(std::chrono::system_clock::now() - previous).count());
  const double bound = std::chrono::duration<double>(heartbeat).count() + 1.0;
  const std::uint64_t counted = messages() - messages_before;
  const bool still_up = up();
  std::printf("flood: %llu frames in %.1f s (%.0f/s offered), exporter counted %llu (%.0f/s)\n",
              static_cast<unsigned long long>(sent), flood_seconds,
              static_cast<double>(sent) / flood_seconds, static_cast<unsigned long long>(counted),
              static_cast<double>(counted) / drain_seconds);
  std::printf("scrapes during the flood: %llu (%.1f/s)\n",
              static_cast<unsigned long long>(scrapes.load()),
              static_cast<double>(scrapes.load()) / drain_seconds);
  std::printf("heartbeats received by the server: %zu, max gap %.3f s (bound %.3f s), up %d\n",
              beats, max_gap, bound, still_up ? 1 : 0);
  const bool pass = max_gap <= bound && beats > 0 && still_up;
  std::printf("verdict: %s\n", pass ? "PASS" : "FAIL");
  exporter.stop();
  sim.stop();
  return pass ? 0 : 1;
}
