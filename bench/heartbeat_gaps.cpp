// heartbeat_gaps: how regular are the exporter's heartbeats as the server sees them, and how
// soon is a meeting up again after its socket is killed? Runs the in-process simulator (lively
// meetings, freshly generated PKI) and an hme::app::Exporter with heartbeat_interval 2s and
// backoff_initial 1s, then prints numbers. It never judges them: no pass/fail.
//
// Usage: heartbeat_gaps [--seconds=30] [--meetings=2] [--drops=3]

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "config/config.h"
#include "plugin/app/exporter.h"
#include "plugin/log/log.h"
#include "simulator/pki.h"
#include "simulator/simulator.h"

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  int seconds = 30;
  int meetings = 2;
  int drops = 3;
};

Options parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const std::string& flag) -> std::optional<int> {
      if (arg.rfind(flag + "=", 0) != 0) return std::nullopt;
      const int parsed = std::stoi(arg.substr(flag.size() + 1));
      if (parsed < 1) throw std::invalid_argument(flag + " must be at least 1");
      return parsed;
    };
    if (auto v = value("--seconds")) {
      options.seconds = *v;
    } else if (auto m = value("--meetings")) {
      options.meetings = *m;
    } else if (auto d = value("--drops")) {
      options.drops = *d;
    } else {
      throw std::invalid_argument("unknown argument: " + arg);
    }
  }
  return options;
}

// Polls the exporter's store (not a test: a tight loop gives the best time resolution).
template <typename Predicate>
bool pollFor(Predicate&& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!predicate()) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

struct Health {
  bool up = false;
  std::uint64_t connects = 0;
};

Health healthOf(const hme::app::Exporter& exporter, const std::string& meeting_id) {
  Health health;
  exporter.store().visit(meeting_id, [&](const hme::metrics::MeetingState& state) {
    health.up = state.session.up;
    health.connects = state.counters.connects;
  });
  return health;
}

double seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

int run(const Options& options) {
  std::string directory = (std::filesystem::temp_directory_path() / "hme-bench-XXXXXX").string();
  if (mkdtemp(directory.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } cleanup{directory};

  const auto pki = hme::simulator::generatePki(directory);
  hme::simulator::SimulatorOptions sim_options;
  sim_options.cert_file = pki.cert_file;
  sim_options.key_file = pki.key_file;
  sim_options.tick = 1s;  // lively meetings: the server pushes while heartbeats run
  hme::simulator::Simulator simulator(sim_options);

  hme::config::Config config;
  std::vector<std::string> meeting_ids;
  for (int i = 0; i < options.meetings; ++i) {
    hme::simulator::MeetingSpec spec;
    spec.meeting_id = std::to_string(940000001 + i);
    spec.host_password = "bench-password-" + std::to_string(i);
    spec.participants = 8;
    simulator.addMeeting(spec);
    config.meetings.push_back({spec.meeting_id, hme::config::Secret(spec.host_password)});
    meeting_ids.push_back(spec.meeting_id);
  }
  simulator.start();
  config.api.url = simulator.apiUrl();
  config.api.ca_file = pki.ca_file;
  config.session.heartbeat_interval = 2s;
  config.session.heartbeat_timeout = 5s;
  config.session.backoff_initial = 1s;

  hme::app::Exporter exporter([&config] { return config; }, hme::app::version(),
                              hme::app::revision());
  exporter.start();
  const bool all_up = pollFor(
      [&] {
        return std::all_of(meeting_ids.begin(), meeting_ids.end(),
                           [&](const std::string& id) { return healthOf(exporter, id).up; });
      },
      30s);
  if (!all_up) {
    std::cerr << "heartbeat_gaps: the meetings did not come up within 30 s\n";
    return 1;
  }

  std::printf("heartbeat_interval 2s, backoff_initial 1s, %d meetings, %d s run\n",
              options.meetings, options.seconds);
  const auto run_start = std::chrono::system_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(options.seconds));
  const auto run_end = std::chrono::system_clock::now();

  std::printf("%-12s %10s %10s %10s\n", "meeting_id", "heartbeats", "gap_max_s", "gap_mean_s");
  for (const auto& id : meeting_ids) {
    std::vector<std::chrono::system_clock::time_point> beats;
    for (const auto& at : simulator.observations(id).heartbeats) {
      if (at >= run_start && at <= run_end) beats.push_back(at);
    }
    double max_gap = 0;
    double sum = 0;
    for (std::size_t i = 1; i < beats.size(); ++i) {
      const double gap = std::chrono::duration<double>(beats[i] - beats[i - 1]).count();
      max_gap = std::max(max_gap, gap);
      sum += gap;
    }
    const double mean = beats.size() > 1 ? sum / static_cast<double>(beats.size() - 1) : 0;
    std::printf("%-12s %10zu %10.3f %10.3f\n", id.c_str(), beats.size(), max_gap, mean);
  }

  std::printf("%-6s %-12s %16s\n", "drop", "meeting_id", "until_up_s");
  for (int drop = 0; drop < options.drops; ++drop) {
    const std::string& id = meeting_ids[static_cast<std::size_t>(drop) % meeting_ids.size()];
    // Start from a stable connection (one heartbeat answered), so the backoff starts from
    // backoff_initial rather than from an earlier failure.
    const std::size_t beats = simulator.observations(id).heartbeats.size();
    pollFor([&] { return simulator.observations(id).heartbeats.size() > beats; }, 10s);
    std::this_thread::sleep_for(200ms);

    const Health before = healthOf(exporter, id);
    const auto killed_at = SteadyClock::now();
    simulator.dropConnections(id, hme::simulator::DropMode::TcpClose);
    const bool back = pollFor(
        [&] {
          const Health now = healthOf(exporter, id);
          return now.up && now.connects > before.connects;
        },
        60s);
    if (back) {
      std::printf("%-6d %-12s %16.3f\n", drop + 1, id.c_str(),
                  seconds(SteadyClock::now() - killed_at));
    } else {
      std::printf("%-6d %-12s %16s\n", drop + 1, id.c_str(), "not within 60 s");
    }
  }
  exporter.stop();
  simulator.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // Numbers on stdout only; warnings and errors still reach stderr.
  hme::log::logger().setLevel(hme::log::Level::Warn);
  try {
    return run(parseOptions(argc, argv));
  } catch (const std::invalid_argument& e) {
    std::cerr << "heartbeat_gaps: " << e.what()
              << "\nusage: heartbeat_gaps [--seconds=30] [--meetings=2] [--drops=3]\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "heartbeat_gaps: " << e.what() << '\n';
    return 1;
  }
}
