#pragma once
/// The exporter process: config, metrics store and collector, meeting supervisor, HTTP endpoint,
/// reloads and signals, wired together. main.cpp only parses flags and calls runExporter.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "metrics/collector.h"
#include "metrics/store.h"
#include "plugin/app/cli.h"
#include "plugin/app/discovery_wiring.h"
#include "plugin/app/supervisor.h"

namespace hme::app {

/// Exit codes of spec/interface.md.
enum ExitCode : int { kExitOk = 0, kExitBadConfig = 1, kExitCannotBind = 2 };

/// The exporter's moving parts, without the HTTP server and signals (tests drive it directly).
/// Thread-safe.
class Exporter {
 public:
  /// `load_config` is called at start and on every reload; it throws config::ConfigError.
  /// `telemetry_path` is where the status page links to the metrics.
  Exporter(std::function<config::Config()> load_config, std::string version, std::string revision,
           std::string telemetry_path = "/metrics");
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// Loads the config and starts its meetings. Throws config::ConfigError or
  /// std::invalid_argument (bad TLS settings) with a message naming the problem.
  void start();
  /// Re-reads the config and applies it, all or nothing: everything that can fail (loading,
  /// TLS contexts) is built before anything changes, so a failed reload keeps the whole running
  /// config (meetings, connections, TLS, metric options) and sets
  /// huawei_meeting_exporter_config_last_reload_successful to 0. Returns whether it worked and a
  /// message for the caller. Never throws except std::bad_alloc.
  std::pair<bool, std::string> reload();
  /// Stops every meeting.
  void stop();

  /// The Prometheus text exposition of everything.
  std::string renderMetrics() const;
  /// The status page (HTML, no secrets).
  std::string renderStatusPage() const;
  /// Whether the exporter is ready, with a body saying how many sessions are subscribed.
  std::pair<bool, std::string> readiness() const;

  /// The store (for tests).
  const metrics::MeetingStore& store() const { return *store_; }
  /// Enterprise mode: discovery and the webhook receiver.
  DiscoveryWiring& discovery() { return discovery_; }

 private:
  /// Loads and prepares the config, then switches to it in one step. Throws (changing nothing)
  /// when the config or its TLS settings cannot be used.
  config::Config loadAndApply();

  std::function<config::Config()> load_config_;
  std::shared_ptr<metrics::MeetingStore> store_;
  std::shared_ptr<metrics::Collector> collector_;
  Supervisor supervisor_;
  DiscoveryWiring discovery_;  // after supervisor_: it feeds it and stops first
  std::string telemetry_path_;
  std::mutex reload_mutex_;
  bool started_ = false;
};

/// Runs the exporter until SIGTERM/SIGINT, reloading on SIGHUP and `POST /-/reload`. With
/// `--web.config.file` the endpoint serves TLS and/or Basic auth (an invalid file: exit 1).
/// With `--telegraf.execd` every line on stdin is answered with one exposition on stdout, ended
/// by a `# EOF` line, EOF on stdin stops the exporter (exit 0), and the HTTP endpoint is started
/// only if `--web.listen-address` was given. Returns an ExitCode. The caller must have blocked
/// SIGTERM, SIGINT and SIGHUP in every thread.
int runExporter(const CommandLine& command_line);

/// The version string, e.g. "0.1.0".
const char* version();
/// The git revision the binary was built from.
const char* revision();

}  // namespace hme::app
