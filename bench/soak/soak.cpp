// Soak: the exporter binary watches 200 simulated meetings with churn (meetings starting and
// ending, participants joining and leaving, connections dropped) for a given time, sampling the
// exporter process's RSS, open fds, threads and series count every 10 s. At the end every meeting
// ends; once ended_meeting_retention has passed, the series must be back at the baseline: the
// exporter-level series (those without a meeting_id) as at the start, and no series of any
// meeting the exporter saw end. Only a meeting that ended while the exporter was not subscribed
// (it cannot tell: the token service refuses it like a meeting not started yet) stays `waiting`
// and keeps its session series, as every meeting had at the start. RSS must stay within 10 % of
// its post-warm-up value. Prints a table and a verdict line; exits 1 on FAIL.
// Not part of ctest. Run:
//   build/bench/soak/soak [--minutes=10] [--meetings=200] [--sample-seconds=10] [--seed=1]

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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

std::size_t countEntries(const std::string& dir) {
  std::size_t n = 0;
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator(dir, error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++n;
  }
  return n;
}

std::size_t rssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoul(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// A free loopback port: bound and closed, then handed to the exporter.
std::uint16_t freePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  const auto port = socket.address().port();
  socket.close();
  return port;
}

std::string scrape(std::uint16_t port) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/metrics");
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& body = session.receiveResponse(response);
  std::string text;
  Poco::StreamCopier::copyToString(body, text);
  if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
    throw std::runtime_error("scrape: HTTP " + std::to_string(response.getStatus()));
  }
  return text;
}

struct Sample {
  double at_seconds = 0;
  std::size_t rss_kib = 0;
  std::size_t fds = 0;
  std::size_t threads = 0;
  std::size_t series = 0;
  std::size_t exporter_series = 0;  // series without a meeting_id label
  std::size_t meetings_with_series = 0;
  std::size_t waiting = 0;  // huawei_meeting_exporter_sessions{state="waiting"}
  std::size_t up = 0;
  std::size_t running = 0;  // meetings running in the simulator
};

// Samples the exporter; `keep_as` (if set) receives the scraped text.
Sample sample(pid_t pid, std::uint16_t port, Clock::time_point start, std::size_t running,
              const std::string& keep_as = "") {
  Sample s;
  s.at_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  s.rss_kib = rssKiB(pid);
  s.fds = countEntries("/proc/" + std::to_string(pid) + "/fd");
  s.threads = countEntries("/proc/" + std::to_string(pid) + "/task");
  const std::string text = scrape(port);
  if (!keep_as.empty()) std::ofstream(keep_as) << text;
  std::istringstream lines(text);
  std::string line;
  std::set<std::string> meetings;
  const std::string waiting_series = "huawei_meeting_exporter_sessions{state=\"waiting\"} ";
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++s.series;
    const auto at = line.find("meeting_id=\"");
    if (at == std::string::npos) {
      ++s.exporter_series;
    } else {
      meetings.insert(line.substr(at, line.find('"', at + 12) - at));
    }
    if (line.rfind(waiting_series, 0) == 0) {
      s.waiting = std::strtoul(line.c_str() + waiting_series.size(), nullptr, 10);
    }
    if (line.rfind("huawei_meeting_up{", 0) == 0 && line.size() > 2 &&
        line.compare(line.size() - 2, 2, " 1") == 0) {
      ++s.up;
    }
  }
  s.meetings_with_series = meetings.size();
  s.running = running;
  return s;
}

void print(const char* phase, const Sample& s) {
  std::printf("%8.0f  %-9s %9zu %6zu %8zu %8zu %5zu %8zu\n", s.at_seconds, phase, s.rss_kib / 1024,
              s.fds, s.threads, s.series, s.up, s.running);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const long minutes = flag(argc, argv, "minutes", 10);
  const long total_seconds = flag(argc, argv, "seconds", minutes * 60);
  const auto meetings = static_cast<int>(flag(argc, argv, "meetings", 200));
  const auto sample_every = std::chrono::seconds(flag(argc, argv, "sample-seconds", 10));
  const auto seed = static_cast<std::uint64_t>(flag(argc, argv, "seed", 1));
  const long retention_seconds = 20;

  std::string dir = (std::filesystem::temp_directory_path() / "hme-soak-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 2;
  }

  const std::string pki = HME_TESTDATA_DIR "/pki/";
  hme::simulator::SimulatorOptions options;
  options.cert_file = pki + "server.pem";
  options.key_file = pki + "server.key";
  options.tick = 1s;
  options.seed = seed;
  options.max_connections = meetings + 64;
  hme::simulator::Simulator sim(options);
  std::vector<std::string> ids;
  std::ostringstream yaml;
  for (int i = 0; i < meetings; ++i) {
    hme::simulator::MeetingSpec spec;
    spec.meeting_id = std::to_string(901000000 + i);
    spec.host_password = "soak-password-" + std::to_string(i);
    spec.started = false;
    spec.participants = 3 + i % 10;
    spec.max_participants = 20;
    sim.addMeeting(spec);
    ids.push_back(spec.meeting_id);
    const std::string password_file = dir + "/password-" + spec.meeting_id;
    std::ofstream(password_file) << spec.host_password << "\n";
    ::chmod(password_file.c_str(), 0600);
  }
  sim.start();

  yaml << "api:\n  url: " << sim.apiUrl() << "\n  ca_file: " << pki << "ca.pem\n"
       << "session:\n  heartbeat_interval: 10s\n  heartbeat_timeout: 25s\n"
       << "  backoff_initial: 1s\n  backoff_max: 15s\n"
       << "metrics:\n  ended_meeting_retention: " << retention_seconds << "s\n"
       << "meetings:\n";
  for (const auto& id : ids) {
    yaml << "  - id: \"" << id << "\"\n    host_password_file: password-" << id << "\n";
  }
  const std::string config_file = dir + "/config.yml";
  std::ofstream(config_file) << yaml.str();
  ::chmod(config_file.c_str(), 0600);

  const std::uint16_t port = freePort();
  const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
  const std::string config_flag = "--config.file=" + config_file;
  const std::string log_file = dir + "/exporter.log";
  const pid_t pid = fork();
  if (pid == 0) {
    const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(log, STDERR_FILENO);
    ::execl(HME_EXPORTER_BINARY, HME_EXPORTER_BINARY, config_flag.c_str(), listen.c_str(),
            "--log.level=warn", static_cast<char*>(nullptr));
    std::_Exit(127);
  }

  const auto start = Clock::now();
  std::printf("soak: %d meetings, %ld s, exporter pid %d, samples every %lld s\n", meetings,
              total_seconds, pid, static_cast<long long>(sample_every.count()));
  std::printf("%8s  %-9s %9s %6s %8s %8s %5s %8s\n", "t[s]", "phase", "rss[MiB]", "fds", "threads",
              "series", "up", "running");
  // Baseline: every meeting configured, none running (all `waiting`).
  Sample baseline;
  for (int attempt = 0;; ++attempt) {
    std::this_thread::sleep_for(1s);
    try {
      baseline = sample(pid, port, start, 0);
      if (attempt >= 4) break;  // a few seconds for every meeting's first token call
    } catch (const std::exception& e) {
      if (attempt > 30) {
        std::fprintf(stderr, "exporter not reachable: %s (log: %s)\n", e.what(), log_file.c_str());
        ::kill(pid, SIGKILL);
        return 2;
      }
    }
  }
  print("baseline", baseline);

  std::mt19937_64 random(seed);
  std::vector<bool> running(ids.size(), false);
  for (std::size_t i = 0; i < ids.size(); ++i) running[i] = sim.startMeeting(ids[i]);
  const auto count_running = [&] {
    return static_cast<std::size_t>(std::count(running.begin(), running.end(), true));
  };

  const auto churn_end = start + std::chrono::seconds(total_seconds);
  const auto warm_up_end = start + std::chrono::seconds(std::max<long>(60, total_seconds / 10));
  std::optional<Sample> warm;
  std::size_t peak_rss = 0;
  auto next_sample = Clock::now() + sample_every;
  std::uniform_int_distribution<std::size_t> pick(0, ids.size() - 1);
  std::size_t ended = 0, started = 0, drops = 0;
  while (Clock::now() < churn_end) {
    // Churn, about once per second: a meeting ends, one (re)starts, a connection drops.
    const std::size_t a = pick(random), b = pick(random), c = pick(random);
    if (running[a] && random() % 8 == 0) {
      running[a] = !sim.endMeeting(ids[a]);
      ended += running[a] ? 0U : 1U;
    }
    if (!running[b] && random() % 2 == 0) {
      running[b] = sim.startMeeting(ids[b]);
      started += running[b] ? 1U : 0U;
    }
    if (running[c] && random() % 3 == 0) {
      sim.dropConnections(ids[c],
                          drops % 2 == 0 ? hme::simulator::DropMode::TcpClose
                                         : hme::simulator::DropMode::CloseFrame,
                          1012);
      ++drops;
    }
    std::this_thread::sleep_for(1s);
    if (Clock::now() >= next_sample) {
      next_sample += sample_every;
      const Sample s = sample(pid, port, start, count_running());
      peak_rss = std::max(peak_rss, s.rss_kib);
      if (!warm && Clock::now() >= warm_up_end) {
        warm = s;
        print("warm", s);
      } else {
        print("churn", s);
      }
    }
  }
  if (!warm) warm = sample(pid, port, start, count_running());

  // Every meeting ends; after the retention their series are gone.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (running[i]) sim.endMeeting(ids[i]);
    running[i] = false;
  }
  Sample last;
  const auto drain_end = Clock::now() + std::chrono::seconds(retention_seconds + 30);
  while (Clock::now() < drain_end) {
    std::this_thread::sleep_for(sample_every);
    last = sample(pid, port, start, 0, dir + "/last-scrape.txt");
    print("ended", last);
    if (last.exporter_series == baseline.exporter_series &&
        last.meetings_with_series == last.waiting) {
      break;
    }
  }

  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;

  const double rss_ratio = static_cast<double>(last.rss_kib) /
                           static_cast<double>(std::max<std::size_t>(1, warm->rss_kib));
  std::printf("churn: %zu meetings ended, %zu started, %zu connection drops; peak RSS %zu MiB\n",
              ended, started, drops, peak_rss / 1024);
  std::printf(
      "baseline: exporter-level series %zu (all series %zu while every meeting waits) fds %zu "
      "threads %zu | end: series %zu, exporter-level %zu, %zu meetings with series, %zu waiting "
      "| fds %zu threads %zu | RSS end/warm %.3f | exit %s\n",
      baseline.exporter_series, baseline.series, baseline.fds, baseline.threads, last.series,
      last.exporter_series, last.meetings_with_series, last.waiting, last.fds, last.threads,
      rss_ratio, clean_exit ? "clean" : "NOT clean");
  const bool pass = last.exporter_series == baseline.exporter_series &&
                    last.meetings_with_series == last.waiting && rss_ratio <= 1.10 &&
                    last.fds <= baseline.fds + 2 && last.threads <= baseline.threads + 2 &&
                    clean_exit;
  std::printf(
      "verdict: %s (series back to baseline, ended meetings without series, RSS within 10%% of "
      "post-warm-up, no fd or "
      "thread growth, clean exit)\n",
      pass ? "PASS" : "FAIL");
  sim.stop();
  std::error_code ignored;
  if (pass) {
    std::filesystem::remove_all(dir, ignored);
  } else {
    std::printf("kept for inspection: %s (exporter.log, last-scrape.txt)\n", dir.c_str());
  }
  return pass ? 0 : 1;
}
