#pragma once
/// Shared fixture of the exporter integration tests (suite `exporter`): the in-process simulator
/// on 127.0.0.1:0 with the committed test PKI, an hme::app::Exporter driven directly with a
/// config built in code, a parser for the Prometheus text exposition with sample look-ups, a
/// log capture, and a child-process handle for tests of the real binary.
///
/// Nothing here uses Boost.Test assertions: helpers throw or return values, tests assert.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "plugin/app/exporter.h"
#include "plugin/log/log.h"
#include "simulator/simulator.h"

namespace hme::testing {

/// Labels of one sample, by name.
using Labels = std::map<std::string, std::string>;

/// One sample of a text exposition.
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

/// Parses the Prometheus text format 0.0.4: `# ` lines are skipped, label values are unescaped,
/// values go through strtod (`+Inf`, `NaN` included). Throws std::runtime_error naming the line
/// when one is malformed or carries a timestamp (the exporter writes none).
std::vector<Sample> parseExposition(const std::string& text);

/// A parsed scrape. Value type; not synchronized.
class Scrape {
 public:
  /// Parses `text` (see parseExposition).
  explicit Scrape(std::string text);

  /// The value of the sample called `name` whose labels include every pair of `labels` (it may
  /// have more); nullopt when none does. Throws std::logic_error when several do, so a look-up
  /// can never silently pick one of many series.
  std::optional<double> value(const std::string& name, const Labels& labels = {}) const;
  /// Like value(), with `fallback` when no sample matches.
  double valueOr(const std::string& name, const Labels& labels, double fallback) const;
  /// Every sample (any name) whose labels include every pair of `labels`.
  std::vector<Sample> matching(const Labels& labels) const;
  /// All samples, in exposition order.
  const std::vector<Sample>& samples() const { return samples_; }
  /// The text that was parsed.
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<Sample> samples_;
};

/// Path of a file under tests/testdata/pki.
std::string pkiFile(const std::string& file);

/// Simulator options for tests: `{cert_stem}.pem`/`.key` from the test PKI, no ticker (meetings
/// change only when a test calls step()), a fixed seed.
simulator::SimulatorOptions testSimulatorOptions(const std::string& cert_stem = "server");

/// A non-lively meeting (stepped only explicitly) with a password derived from the id.
simulator::MeetingSpec testMeetingSpec(const std::string& meeting_id);

/// The exporter config of the tests: api.url = `api_url`, api.ca_file = the test CA,
/// api.timeout 3 s, heartbeat 1 s / timeout 2 s, backoff 200 ms … 1 s, retention 1 s, no meetings.
config::Config testExporterConfig(const std::string& api_url);

/// Labels `{meeting_id: id}` plus `extra`.
Labels forMeeting(const std::string& meeting_id, Labels extra = {});

/// A simulator plus an Exporter configured against it. Not thread-safe: one test thread drives
/// it (the exporter and simulator inside are thread-safe). The destructor stops the exporter
/// first, then the simulator, so every socket and thread started here is gone afterwards.
class ExporterHarness {
 public:
  /// Creates (does not start) the simulator with `options`.
  explicit ExporterHarness(simulator::SimulatorOptions options = testSimulatorOptions());
  ~ExporterHarness();
  ExporterHarness(const ExporterHarness&) = delete;
  ExporterHarness& operator=(const ExporterHarness&) = delete;

  /// The simulator.
  simulator::Simulator& simulator() { return *simulator_; }
  /// The simulator, for observations and truth.
  const simulator::Simulator& simulator() const { return *simulator_; }
  /// Adds `spec` to the simulator and, with its password, to the exporter config.
  void addMeeting(const simulator::MeetingSpec& spec);
  /// Adds a meeting to the exporter config only (e.g. with a wrong password).
  void configureMeeting(const std::string& meeting_id, const std::string& password);
  /// Changes the config that the next start() or Exporter::reload() loads. `api.url` is
  /// filled in with the simulator's URL at start().
  void editConfig(const std::function<void(config::Config&)>& edit);
  /// Starts the simulator (first call only), then creates and starts the exporter. Throws
  /// whatever Simulator::start or Exporter::start throws.
  app::Exporter& start();
  /// The started exporter; throws std::logic_error before start().
  app::Exporter& exporter();

  /// A fresh scrape of the exporter.
  Scrape scrape() const;
  /// The value of one sample in a fresh scrape (see Scrape::value).
  std::optional<double> metric(const std::string& name, const Labels& labels = {}) const;
  /// Polls `predicate` until it is true or `timeout` passes (re-evaluated on every simulator
  /// state change and at least every 50 ms). Returns the last result.
  bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) const;
  /// Waits until the sample exists and `accept(value)`; returns whether it did in time.
  bool waitForMetric(const std::string& name, const Labels& labels,
                     const std::function<bool(double)>& accept,
                     std::chrono::milliseconds timeout) const;
  /// Waits until huawei_meeting_up{meeting_id} is 1.
  bool waitUp(const std::string& meeting_id, std::chrono::milliseconds timeout) const;

 private:
  std::unique_ptr<simulator::Simulator> simulator_;
  bool simulator_started_ = false;
  mutable std::mutex config_mutex_;  // guards config_: the exporter reads it on reload
  config::Config config_;
  std::unique_ptr<app::Exporter> exporter_;
};

/// Captures every log line of hme::log::logger() at level debug while it lives; restores the
/// stderr sink and the previous level afterwards. Thread-safe.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// Every line captured so far, concatenated.
  std::string text() const;

 private:
  std::shared_ptr<std::mutex> mutex_;
  std::shared_ptr<std::string> lines_;
  log::Level previous_level_;
};

/// A child process with its stdout and stderr merged into one pipe that a reader thread drains
/// into memory. The destructor kills the child (SIGKILL by PID) if it still runs and reaps it,
/// so a failing test never leaves it behind. Thread-safe.
class ChildProcess {
 public:
  /// Starts `path` with `args` (argv[1..]) and a default signal mask and dispositions. Throws
  /// std::system_error if it cannot be spawned.
  ChildProcess(const std::string& path, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// The process ID.
  pid_t pid() const { return pid_; }
  /// Everything the child wrote so far.
  std::string output() const;
  /// Waits until the output contains `needle` (true) or `timeout` passes / the output ends
  /// without it (false).
  bool waitForOutput(const std::string& needle, std::chrono::milliseconds timeout) const;
  /// Sends `signal_number` to the child if it has not been reaped yet.
  void signal(int signal_number);
  /// Waits for the child to exit; its exit code (128 + signal when killed by a signal), or
  /// nullopt if it still runs after `timeout`.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  int read_fd_ = -1;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string output_;
  bool output_closed_ = false;
  std::thread reader_;
};

}  // namespace hme::testing
