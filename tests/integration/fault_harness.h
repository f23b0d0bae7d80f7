#pragma once
/// Test harness for the fault, bad-input and secrets suites: the simulator on 127.0.0.1:0 and an
/// in-process hme::app::Exporter configured in code against it, plus the checks every row of
/// docs/reliability.md shares (counters never go down, joins are not double-counted).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "metrics/meeting_state.h"
#include "plugin/app/exporter.h"
#include "simulator/simulator.h"

namespace hme::faults {

/// The committed test PKI (tests/testdata/pki).
std::string pkiFile(const std::string& name);

/// Simulator options for tests: the trusted test certificate, manual scenario steps (tick 0),
/// a fixed seed.
simulator::SimulatorOptions simulatorOptions();

/// A meeting for the simulator: `participants` present, not stepped by a ticker.
simulator::MeetingSpec meetingSpec(const std::string& meeting_id, int participants = 5);

/// The password the harness gives meeting `meeting_id` (distinct per meeting).
std::string passwordFor(const std::string& meeting_id);

/// An exporter config pointing at `api_url`, trusting the test CA, with short timings:
/// heartbeat 1 s / timeout 3 s, backoff 50 ms .. 400 ms, API timeout 3 s.
config::Config exporterConfig(const std::string& api_url);

/// One series of a Prometheus text exposition.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses a text exposition (format 0.0.4). Throws std::runtime_error on a malformed line.
std::vector<Sample> parseExposition(const std::string& text);

/// The value of the one series named `name` whose labels include `labels`; nullopt if none.
/// Throws std::runtime_error if several series match.
std::optional<double> value(const std::vector<Sample>& samples, const std::string& name,
                            const std::map<std::string, std::string>& labels);

/// Remembers every counter (`*_total`) seen and records a violation when one goes down while
/// its series exists. Thread-safe.
class MonotonicCounters {
 public:
  /// Checks one exposition against the previous ones.
  void check(const std::vector<Sample>& samples);
  /// Violations so far, e.g. "huawei_meeting_connects_total{meeting_id=1}: 3 -> 2".
  std::vector<std::string> violations() const;
  /// Expositions checked so far.
  std::size_t checks() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, double> last_;
  std::vector<std::string> violations_;
  std::size_t checks_ = 0;
};

/// The simulator plus an exporter watching it. Every wait also samples the exporter's metrics
/// for the monotonic-counter check. Not thread-safe (one test thread drives it).
class Harness {
 public:
  /// Starts a simulator with `options` and `meetings` (not the exporter: see startExporter).
  explicit Harness(const std::vector<simulator::MeetingSpec>& meetings,
                   simulator::SimulatorOptions options = simulatorOptions());
  /// Stops the exporter, then the simulator.
  ~Harness();

  simulator::Simulator& sim() { return *sim_; }
  app::Exporter& exporter() { return *exporter_; }
  /// The config the exporter loads (edit before startExporter or before a reload).
  config::Config& config() { return config_; }

  /// Creates and starts the exporter with config() (a meeting per simulator meeting unless
  /// `meetings` was changed), then waits for nothing.
  void startExporter();
  /// Replaces the simulator by a new one with `options` and the same meetings (a server
  /// restart, e.g. after a deploy fixed its TLS certificate), on `options.port`, or on the
  /// current port if that is 0.
  void restartSimulator(simulator::SimulatorOptions options);

  /// Every log line written since the harness started (the harness owns the log sink).
  std::vector<std::string> logs() const;
  /// Everything the exporter shows an operator: log lines, the metrics, the status page and
  /// the readiness body, concatenated.
  std::string allOutput();
  /// The simulator's secrets (and `Basic ` + base64 of each) found in allOutput() plus `extra`.
  std::vector<std::string> leakedSecrets(const std::string& extra = "");

  /// Waits until `predicate` holds (re-checked on every simulator change and every 50 ms),
  /// sampling the metrics at most every 200 ms. Returns false on timeout.
  bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);
  /// Waits until the meeting's session is subscribed and up.
  bool waitUp(const std::string& meeting_id,
              std::chrono::milliseconds timeout = std::chrono::seconds(20));

  /// A copy of the meeting's state in the exporter's store (empty state if not tracked).
  metrics::MeetingState state(const std::string& meeting_id) const;
  /// The exporter's metrics, parsed (and checked for monotonic counters).
  std::vector<Sample> scrape();
  /// The value of a meeting's series (labels besides meeting_id in `labels`); 0 if absent.
  double metric(const std::string& name, const std::string& meeting_id,
                std::map<std::string, std::string> labels = {});

  /// Counter violations seen by every scrape so far (see MonotonicCounters).
  std::vector<std::string> counterViolations() const { return counters_.violations(); }

  /// True when the exporter's participant counters agree with the simulator's truth: joins −
  /// leaves equals the pids held, the pids held are the truth's, the online and calling counts
  /// equal the truth's, and (when `exact`, i.e. nothing
  /// changed while the exporter was disconnected) joins and leaves equal the truth's. Explains
  /// a mismatch in `why`.
  bool countsMatchTruth(const std::string& meeting_id, bool exact, std::string& why) const;

 private:
  void sampleMaybe();

  simulator::SimulatorOptions options_;
  std::vector<simulator::MeetingSpec> meetings_;
  std::unique_ptr<simulator::Simulator> sim_;
  config::Config config_;
  std::unique_ptr<app::Exporter> exporter_;
  MonotonicCounters counters_;
  std::chrono::steady_clock::time_point last_sample_{};
  struct LogLines {
    std::mutex mutex;
    std::vector<std::string> lines;
  };
  std::shared_ptr<LogLines> logs_ = std::make_shared<LogLines>();
};

/// Open file descriptors and threads of this process (from /proc/self).
std::size_t openFds();
std::size_t threadCount();

}  // namespace hme::faults
