#include "tests/integration/exporter_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <utility>

extern char** environ;

namespace hme::testing {
namespace {

using namespace std::chrono_literals;

[[noreturn]] void malformed(const std::string& line, const std::string& why) {
  throw std::runtime_error("malformed exposition line (" + why + "): " + line);
}

bool isNameChar(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  return alpha || (!first && c >= '0' && c <= '9');
}

Sample parseLine(const std::string& line) {
  Sample sample;
  std::size_t i = 0;
  while (i < line.size() && isNameChar(line[i], i == 0)) ++i;
  if (i == 0) malformed(line, "no metric name");
  sample.name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const std::size_t key_start = i;
      while (i < line.size() && isNameChar(line[i], i == key_start)) ++i;
      if (i == key_start || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
        malformed(line, "bad label");
      }
      const std::string key = line.substr(key_start, i - key_start);
      i += 2;
      std::string value;
      for (;;) {
        if (i >= line.size()) malformed(line, "unterminated label value");
        const char c = line[i++];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= line.size()) malformed(line, "dangling escape");
        const char escaped = line[i++];
        if (escaped == 'n') {
          value += '\n';
        } else if (escaped == '\\' || escaped == '"') {
          value += escaped;
        } else {
          malformed(line, "unknown escape");
        }
      }
      if (!sample.labels.emplace(key, value).second) malformed(line, "duplicate label");
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) malformed(line, "unterminated label set");
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') malformed(line, "no value");
  const std::string rest = line.substr(i + 1);
  if (rest.empty() || rest.find(' ') != std::string::npos) {
    malformed(line, "expected exactly one value and no timestamp");
  }
  char* end = nullptr;
  sample.value = std::strtod(rest.c_str(), &end);
  if (end != rest.c_str() + rest.size()) malformed(line, "bad value");
  return sample;
}

bool includes(const Labels& labels, const Labels& wanted) {
  for (const auto& [key, value] : wanted) {
    const auto found = labels.find(key);
    if (found == labels.end() || found->second != value) return false;
  }
  return true;
}

}  // namespace

std::vector<Sample> parseExposition(const std::string& text) {
  std::vector<Sample> samples;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    samples.push_back(parseLine(line));
  }
  return samples;
}

Scrape::Scrape(std::string text) : text_(std::move(text)), samples_(parseExposition(text_)) {}

std::optional<double> Scrape::value(const std::string& name, const Labels& labels) const {
  std::optional<double> found;
  for (const auto& sample : samples_) {
    if (sample.name != name || !includes(sample.labels, labels)) continue;
    if (found) throw std::logic_error("several samples of " + name + " match the labels");
    found = sample.value;
  }
  return found;
}

double Scrape::valueOr(const std::string& name, const Labels& labels, double fallback) const {
  return value(name, labels).value_or(fallback);
}

std::vector<Sample> Scrape::matching(const Labels& labels) const {
  std::vector<Sample> result;
  for (const auto& sample : samples_) {
    if (includes(sample.labels, labels)) result.push_back(sample);
  }
  return result;
}

std::string pkiFile(const std::string& file) {
  return std::string(HME_TESTDATA_DIR) + "/pki/" + file;
}

simulator::SimulatorOptions testSimulatorOptions(const std::string& cert_stem) {
  simulator::SimulatorOptions options;
  options.cert_file = pkiFile(cert_stem + ".pem");
  options.key_file = pkiFile(cert_stem + ".key");
  options.tick = 0ms;
  options.seed = 7;
  return options;
}

simulator::MeetingSpec testMeetingSpec(const std::string& meeting_id) {
  simulator::MeetingSpec spec;
  spec.meeting_id = meeting_id;
  spec.host_password = "pw-" + meeting_id + "-Tr0ub4dor";
  spec.lively = false;
  spec.participants = 5;
  return spec;
}

config::Config testExporterConfig(const std::string& api_url) {
  config::Config config;
  config.api.url = api_url;
  config.api.ca_file = pkiFile("ca.pem");
  config.api.timeout = 3s;
  config.session.heartbeat_interval = 1s;
  config.session.heartbeat_timeout = 2s;
  config.session.backoff_initial = 200ms;
  config.session.backoff_max = 1s;
  config.metrics.ended_meeting_retention = 1s;
  return config;
}

Labels forMeeting(const std::string& meeting_id, Labels extra) {
  extra.emplace("meeting_id", meeting_id);
  return extra;
}

ExporterHarness::ExporterHarness(simulator::SimulatorOptions options)
    : simulator_(std::make_unique<simulator::Simulator>(std::move(options))),
      config_(testExporterConfig("")) {}

ExporterHarness::~ExporterHarness() {
  exporter_.reset();  // closes every session before the server goes
  simulator_->stop();
}

void ExporterHarness::addMeeting(const simulator::MeetingSpec& spec) {
  simulator_->addMeeting(spec);
  configureMeeting(spec.meeting_id, spec.host_password);
}

void ExporterHarness::configureMeeting(const std::string& meeting_id, const std::string& password) {
  std::lock_guard<std::mutex> lock(config_mutex_);
  config_.meetings.push_back({meeting_id, config::Secret(password)});
}

void ExporterHarness::editConfig(const std::function<void(config::Config&)>& edit) {
  std::lock_guard<std::mutex> lock(config_mutex_);
  edit(config_);
}

app::Exporter& ExporterHarness::start() {
  if (!simulator_started_) {
    simulator_->start();
    simulator_started_ = true;
  }
  editConfig([this](config::Config& config) { config.api.url = simulator_->apiUrl(); });
  exporter_ = std::make_unique<app::Exporter>(
      [this] {
        std::lock_guard<std::mutex> lock(config_mutex_);
        return config_;
      },
      "test", "itest");
  exporter_->start();
  return *exporter_;
}

app::Exporter& ExporterHarness::exporter() {
  if (!exporter_) throw std::logic_error("ExporterHarness::exporter() before start()");
  return *exporter_;
}

Scrape ExporterHarness::scrape() const {
  if (!exporter_) throw std::logic_error("ExporterHarness::scrape() before start()");
  return Scrape(exporter_->renderMetrics());
}

std::optional<double> ExporterHarness::metric(const std::string& name, const Labels& labels) const {
  return scrape().value(name, labels);
}

bool ExporterHarness::waitFor(const std::function<bool()>& predicate,
                              std::chrono::milliseconds timeout) const {
  return simulator_->waitFor(predicate, timeout);
}

bool ExporterHarness::waitForMetric(const std::string& name, const Labels& labels,
                                    const std::function<bool(double)>& accept,
                                    std::chrono::milliseconds timeout) const {
  return waitFor(
      [&] {
        const auto value = metric(name, labels);
        return value && accept(*value);
      },
      timeout);
}

bool ExporterHarness::waitUp(const std::string& meeting_id,
                             std::chrono::milliseconds timeout) const {
  return waitForMetric(
      "huawei_meeting_up", forMeeting(meeting_id), [](double up) { return up == 1; }, timeout);
}

LogCapture::LogCapture()
    : mutex_(std::make_shared<std::mutex>()),
      lines_(std::make_shared<std::string>()),
      previous_level_(log::logger().level()) {
  // The sink holds its own references: a line logged while the capture is being destroyed
  // still has somewhere to go.
  log::logger().setSink([mutex = mutex_, lines = lines_](std::string_view line) {
    std::lock_guard<std::mutex> lock(*mutex);
    lines->append(line);
  });
  log::logger().setLevel(log::Level::Debug);
}

LogCapture::~LogCapture() {
  log::logger().setLevel(previous_level_);
  log::logger().setSink({});
}

std::string LogCapture::text() const {
  std::lock_guard<std::mutex> lock(*mutex_);
  return *lines_;
}

ChildProcess::ChildProcess(const std::string& path, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  read_fd_ = fds[0];

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  // The test process blocks or ignores signals in some suites; the child starts clean.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_storage{path};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, path.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(fds[1]);
  if (rc != 0) {
    close(read_fd_);
    throw std::system_error(rc, std::generic_category(), "posix_spawn " + path);
  }
  reader_ = std::thread([this] {
    char buffer[4096];
    for (;;) {
      const ssize_t n = read(read_fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      if (n <= 0) {
        output_closed_ = true;
        changed_.notify_all();
        return;
      }
      output_.append(buffer, static_cast<std::size_t>(n));
      changed_.notify_all();
    }
  });
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // The pipe's write end closed with the child (it has no other holder: O_CLOEXEC), so the
  // reader sees end of file.
  if (reader_.joinable()) reader_.join();
  close(read_fd_);
}

std::string ChildProcess::output() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return output_;
}

bool ChildProcess::waitForOutput(const std::string& needle,
                                 std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || output_closed_;
  }) && output_.find(needle) != std::string::npos;
}

void ChildProcess::signal(int signal_number) {
  if (!exit_code_) ::kill(pid_, signal_number);
}

std::optional<int> ChildProcess::waitExit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // waitpid has no timeout: poll the child's state, bounded by the deadline.
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (done < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "waitpid");
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace hme::testing
