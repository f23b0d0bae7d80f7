#pragma once
/// Enterprise mode's engine: a thread that logs in with the App ID, lists the running meetings
/// and webinars every `discovery.interval` (sooner on a webhook), decides which to watch
/// (Planner) and hands the result to the supervisor; plus the webhook receiver's entry point.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "plugin/discovery/discovery_metrics.h"
#include "plugin/discovery/management_client.h"
#include "plugin/discovery/pacer.h"
#include "plugin/discovery/planner.h"
#include "plugin/discovery/webhook.h"

namespace hme::discovery {

/// Receives each pass's meetings to watch (replacing the previous set) and returns the
/// occurrences among them whose sessions have ended: those are dropped and not handed in again.
/// Called from the discovery thread.
using WatchSink = std::function<std::vector<MeetingKey>(const std::vector<WatchedMeeting>&)>;

/// A watched meeting as the status page shows it (no password).
struct WatchedInfo {
  std::string meeting_id;
  std::string subject;
  bool webinar = false;
  PasswordSource source = PasswordSource::List;
};

/// What the status page shows about discovery. No secrets.
struct DiscoveryStatus {
  bool enabled = false;
  std::optional<std::chrono::system_clock::time_point> last_pass_at;
  std::optional<std::chrono::system_clock::time_point> last_success_at;
  std::size_t found = 0;             ///< in the last successful pass
  std::string last_error;            ///< of the last pass; empty if it succeeded
  unsigned rate_limited_passes = 0;  ///< consecutive passes slowed down by the gateway
  std::vector<WatchedInfo> watched;
  std::vector<SkippedMeeting> skipped;
  std::uint64_t logins = 0;        ///< App ID logins since start (successful or not)
  std::uint64_t list_calls = 0;    ///< online-list and webinar-list page calls since start
  std::uint64_t detail_calls = 0;  ///< confDetail calls since start
};

/// The discovery thread and the webhook receiver. Thread-safe: every public method may be called
/// from any thread.
class Discoverer {
 public:
  /// `sink` receives the meetings to watch after each successful pass.
  explicit Discoverer(WatchSink sink);
  /// Stops the thread.
  ~Discoverer();
  Discoverer(const Discoverer&) = delete;
  Discoverer& operator=(const Discoverer&) = delete;

  /// Applies a config: starts the thread when `config.discovery` is set (a pass runs at once),
  /// reconfigures it (a new App ID, key or API drops the cached token; a pass runs soon, e.g. to
  /// pick up a static password added by reload), or stops it when the section is gone. Throws
  /// std::invalid_argument (nothing changed) when the `api` TLS settings cannot be used.
  void apply(const config::Config& config);
  /// The management client that applying `config` needs: the running one when `api` did not
  /// change, a new one otherwise, none when `config.discovery` is off. Changes nothing. Throws
  /// std::invalid_argument when the `api` TLS settings cannot be used.
  std::shared_ptr<const ManagementClient> prepareClient(const config::Config& config) const;
  /// Like apply(config) with the client prepareClient(config) returned, so that nothing can
  /// fail for the TLS settings any more. Never throws except std::bad_alloc and
  /// std::system_error when the thread cannot be started.
  void apply(const config::Config& config, std::shared_ptr<const ManagementClient> client);
  /// Stops the thread (a pass in flight finishes its current call first). Idempotent.
  void stop();
  /// Asks for a pass as soon as the pacing allows.
  void trigger();

  /// The webhook path when the receiver is configured.
  std::optional<std::string> webhookPath() const;
  /// Answers one webhook request body (see evaluateWebhook), counts it, and triggers a pass on
  /// meeting.started / meeting.end / meeting.conclude. Without a configured receiver the verdict
  /// is 404. Never throws except std::bad_alloc.
  WebhookVerdict handleWebhook(std::string_view body);

  /// The status-page view.
  DiscoveryStatus status() const;
  /// The metrics, to register beside the meeting collector.
  std::shared_ptr<DiscoveryMetrics> metrics() const { return metrics_; }

 private:
  struct Settings {
    config::DiscoveryConfig discovery;
    std::vector<config::MeetingConfig> static_meetings;
    std::shared_ptr<const ManagementClient> client;
    std::uint64_t generation = 0;
  };

  void run();
  PassPacing runPass(const Settings& settings);
  bool ensureToken(const Settings& settings, PassPacing& pacing, std::string& error);
  void dropToken();
  void finishPass(const std::string& error);

  const WatchSink sink_;
  const std::shared_ptr<DiscoveryMetrics> metrics_ = std::make_shared<DiscoveryMetrics>();

  mutable std::mutex mutex_;  // guards everything down to status_
  std::condition_variable wake_;
  std::optional<config::Config> current_;
  Settings settings_;
  bool token_stale_ = false;  // settings changed the login: drop the token at the next pass
  bool stopping_ = false;
  std::uint64_t wakeups_ = 0;
  Pacer pacer_{std::chrono::seconds(30)};
  DiscoveryStatus status_;
  std::thread thread_;

  // Discovery thread only.
  Planner planner_;
  std::uint64_t planner_generation_ = 0;
  config::Secret token_;
  std::chrono::steady_clock::time_point token_refresh_at_{};
};

}  // namespace hme::discovery
