// Loopback benchmarks against the simulator over real WSS (TLS on 127.0.0.1):
//
//   loopback_bench flood [meetings]                 (issue 6, 1b) frames/s the exporter absorbs
//                                                   while the simulator floods, and the
//                                                   exporter's CPU seconds per million frames
//   loopback_bench sessions N [interval_s] [window_s]
//                                                   (issue 6, 1e) N concurrent meeting sessions
//                                                   with heartbeats: RSS, threads, idle CPU,
//                                                   worst heartbeat gap
//
// The simulator runs in a child process (this program re-executed with --serve) so that the
// parent's getrusage, RSS and thread count are the exporter's alone. The parent runs the real
// app::Exporter (supervisor, one MeetingRunner per meeting, store, collector). The two talk over
// a pipe with one-line commands. Prints numbers; never passes or fails.

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/frames.h"
#include "config/config.h"
#include "metrics/meeting_state.h"
#include "plugin/app/exporter.h"
#include "plugin/log/log.h"
#include "simulator/pki.h"
#include "simulator/simulator.h"

namespace {

using namespace hme;
using namespace std::chrono_literals;

constexpr const char* kPassword = "bench-password";

std::string meetingId(std::size_t n) { return std::to_string(900000001 + n); }

// --- child: the simulator --------------------------------------------------------------------

int serve(std::size_t meetings) {
  char pattern[] = "/tmp/hme-bench-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return 1;
  const std::string directory = pattern;
  const auto pki = simulator::generatePki(directory);
  simulator::SimulatorOptions options;
  options.cert_file = pki.cert_file;
  options.key_file = pki.key_file;
  options.tick = 0ms;  // no scenario steps: the sessions are idle apart from heartbeats
  options.max_connections = static_cast<int>(meetings) + 16;
  options.silence_timeout = 600s;
  simulator::Simulator sim(options);
  for (std::size_t i = 0; i < meetings; ++i) {
    simulator::MeetingSpec spec;
    spec.meeting_id = meetingId(i);
    spec.host_password = kPassword;
    spec.participants = 4;
    sim.addMeeting(spec);
  }
  sim.start();
  std::cout << "ready " << sim.apiUrl() << " " << pki.ca_file << std::endl;

  auto window_start = std::chrono::system_clock::now();
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "flood") {
      std::size_t count = 0;
      std::size_t floods = 0;
      std::string kind;
      in >> floods >> count >> kind;
      const std::string frame = kind == "p20" ? bench::participantsFrame(meetingId(0), 0, 20)
                                              : bench::participantsFrame(meetingId(0), 0, 4);
      for (std::size_t i = 0; i < floods; ++i) sim.flood(meetingId(i), frame, count);
      std::cout << "ok " << frame.size() << std::endl;
    } else if (command == "window") {
      window_start = std::chrono::system_clock::now();
      std::cout << "ok" << std::endl;
    } else if (command == "gaps") {
      // Worst gap between consecutive heartbeats of one meeting inside the window; the window
      // start counts as a heartbeat so that a session that went silent shows up too.
      const auto end = std::chrono::system_clock::now();
      double worst = 0;
      std::size_t heartbeats = 0;
      std::size_t silent = 0;
      for (std::size_t i = 0; i < meetings; ++i) {
        const auto seen = sim.observations(meetingId(i)).heartbeats;
        auto last = window_start;
        std::size_t in_window = 0;
        for (const auto& at : seen) {
          if (at < window_start) continue;
          worst = std::max(worst, std::chrono::duration<double>(at - last).count());
          last = at;
          ++in_window;
        }
        worst = std::max(worst, std::chrono::duration<double>(end - last).count());
        heartbeats += in_window;
        silent += in_window == 0 ? 1 : 0;
      }
      std::cout << "gaps " << worst << " " << heartbeats << " " << silent << std::endl;
    } else if (command == "quit") {
      break;
    }
  }
  sim.stop();
  std::filesystem::remove_all(directory);
  return 0;
}

// --- parent: the exporter --------------------------------------------------------------------

class Child {
 public:
  explicit Child(std::size_t meetings) {
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      const std::string count = std::to_string(meetings);
      execl("/proc/self/exe", "loopback_bench", "--serve", count.c_str(), nullptr);
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    to_ = fdopen(to_child[1], "w");
    from_ = fdopen(from_child[0], "r");
  }
  ~Child() {
    command("quit", false);
    fclose(to_);
    fclose(from_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Sends one command line and returns the answer line.
  std::string command(const std::string& line, bool answer = true) {
    std::fprintf(to_, "%s\n", line.c_str());
    std::fflush(to_);
    return answer ? readLine() : "";
  }
  std::string readLine() {
    std::string line;
    int c = 0;
    while ((c = std::fgetc(from_)) != EOF && c != '\n') line += static_cast<char>(c);
    return line;
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

config::Config exporterConfig(const std::string& api_url, const std::string& ca_file,
                              std::size_t meetings, std::chrono::seconds heartbeat) {
  config::Config config;
  config.api.url = api_url;
  config.api.ca_file = ca_file;
  config.session.heartbeat_interval = heartbeat;
  config.session.heartbeat_timeout = heartbeat * 3;
  config.session.max_frame_bytes = 1 << 20;
  for (std::size_t i = 0; i < meetings; ++i) {
    config.meetings.push_back({meetingId(i), config::Secret(kPassword)});
  }
  return config;
}

std::size_t subscribed(const app::Exporter& exporter) {
  std::size_t count = 0;
  for (const auto& summary : exporter.store().summaries()) {
    count += summary.session_state == metrics::SessionState::Subscribed ? 1 : 0;
  }
  return count;
}

std::uint64_t participantsMessages(const app::Exporter& exporter, std::size_t meetings) {
  const auto index = metrics::messageActionIndex("ParticipantsNotify");
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < meetings; ++i) {
    exporter.store().visit(meetingId(i), [&](const metrics::MeetingState& state) {
      total += state.counters.messages[index];
    });
  }
  return total;
}

// Benchmarks poll: they measure, they do not need to react within microseconds.
bool waitUntil(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

int flood(std::size_t meetings) {
  Child child(meetings);
  std::istringstream ready(child.readLine());
  std::string word, api_url, ca_file;
  ready >> word >> api_url >> ca_file;
  if (word != "ready") return 1;
  const auto config = exporterConfig(api_url, ca_file, meetings, 60s);
  app::Exporter exporter([config] { return config; }, "bench", "bench");
  exporter.start();
  if (!waitUntil([&] { return subscribed(exporter) == meetings; }, 120s)) {
    std::printf("not all sessions subscribed\n");
    return 1;
  }
  std::printf("%-10s %-26s %8s %10s %12s %12s %14s\n", "meetings", "frame", "bytes", "frames",
              "frames/s", "MB/s", "CPU s/Mframe");
  for (const char* kind : {"p4", "p20"}) {
    const std::size_t count = std::string(kind) == "p20" ? 20000 : 60000;
    const auto before = participantsMessages(exporter, meetings);
    const double cpu0 = bench::processCpuSeconds();
    const double t0 = bench::nowSeconds();
    std::istringstream answer(child.command("flood " + std::to_string(meetings) + " " +
                                            std::to_string(count) + " " + kind));
    std::size_t bytes = 0;
    answer >> word >> bytes;
    const std::uint64_t expected = before + count * meetings;
    if (!waitUntil([&] { return participantsMessages(exporter, meetings) >= expected; }, 300s)) {
      std::printf("flood did not arrive\n");
      return 1;
    }
    const double seconds = bench::nowSeconds() - t0;
    const double cpu = bench::processCpuSeconds() - cpu0;
    const double frames = static_cast<double>(count * meetings);
    std::printf("%-10zu %-26s %8zu %10.0f %12.0f %12.1f %14.2f\n", meetings,
                std::string(kind) == "p20" ? "Participants, 20 people" : "Participants, 4 people",
                bytes, frames, frames / seconds,
                frames * static_cast<double>(bytes) / seconds / 1e6, cpu / frames * 1e6);
  }
  exporter.stop();
  return 0;
}

int sessions(std::size_t meetings, std::chrono::seconds interval, std::chrono::seconds window) {
  const auto rss0 = bench::rssBytes();
  const auto threads0 = bench::procStatus("Threads");
  Child child(meetings);
  std::istringstream ready(child.readLine());
  std::string word, api_url, ca_file;
  ready >> word >> api_url >> ca_file;
  if (word != "ready") return 1;
  const auto config = exporterConfig(api_url, ca_file, meetings, interval);
  const double start = bench::nowSeconds();
  const double cpu_start = bench::processCpuSeconds();
  app::Exporter exporter([config] { return config; }, "bench", "bench");
  exporter.start();
  const bool all = waitUntil([&] { return subscribed(exporter) == meetings; }, 600s);
  const double ramp = bench::nowSeconds() - start;
  const double ramp_cpu = bench::processCpuSeconds() - cpu_start;
  if (!all) std::printf("only %zu of %zu sessions subscribed\n", subscribed(exporter), meetings);

  // Settle one heartbeat interval, then measure an idle window.
  std::this_thread::sleep_for(interval);
  child.command("window");
  const double cpu0 = bench::processCpuSeconds();
  const double t0 = bench::nowSeconds();
  std::this_thread::sleep_for(window);
  const double idle_cpu = (bench::processCpuSeconds() - cpu0) / (bench::nowSeconds() - t0);
  std::istringstream gaps(child.command("gaps"));
  double worst_gap = 0;
  std::size_t heartbeats = 0;
  std::size_t silent = 0;
  gaps >> word >> worst_gap >> heartbeats >> silent;
  const auto rss = bench::rssBytes();
  const auto threads = bench::procStatus("Threads");
  std::printf("%-9s %9s %10s %10s %9s %10s %12s %11s %10s %8s\n", "sessions", "ramp s",
              "ramp CPU s", "RSS MiB", "KiB/sess", "threads", "idle CPU %", "heartbeats",
              "worst gap", "silent");
  std::printf("%-9zu %9.1f %10.1f %10.1f %9.0f %10llu %11.2f%% %11zu %9.2fs %8zu\n", meetings, ramp,
              ramp_cpu, static_cast<double>(rss) / 1048576.0,
              (static_cast<double>(rss) - static_cast<double>(rss0)) / 1024.0 /
                  static_cast<double>(meetings),
              static_cast<unsigned long long>(threads - threads0), idle_cpu * 100.0, heartbeats,
              worst_gap, silent);
  std::printf(
      "heartbeat interval %llds, idle window %llds; idle CPU %% is of one core; "
      "threads and KiB/session are the growth over the process before the sessions\n",
      static_cast<long long>(interval.count()), static_cast<long long>(window.count()));
  exporter.stop();
  return 0;
}

void raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  raiseFileLimit();
  signal(SIGPIPE, SIG_IGN);
  log::logger().setLevel(log::Level::Error);
  try {
    if (args.size() == 2 && args[0] == "--serve") return serve(std::stoul(args[1]));
    std::printf("loopback benchmark — %s\n", bench::machineDescription().c_str());
    if (!args.empty() && args[0] == "flood") {
      return flood(args.size() > 1 ? std::stoul(args[1]) : 1);
    }
    if (args.size() >= 2 && args[0] == "sessions") {
      const auto interval = std::chrono::seconds(args.size() > 2 ? std::stol(args[2]) : 10);
      const auto window = std::chrono::seconds(args.size() > 3 ? std::stol(args[3]) : 30);
      return sessions(std::stoul(args[1]), interval, window);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loopback_bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: loopback_bench flood [meetings] | sessions N [interval_s] [window_s]\n");
  return 2;
}
