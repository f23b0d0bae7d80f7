#pragma once
/// Runs every configured and every discovered meeting: applies config reloads by diffing the
/// static meetings, and discovery passes by diffing the discovered ones.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "metrics/store.h"
#include "plugin/app/meeting_runner.h"
#include "plugin/discovery/planner.h"

namespace hme::app {

/// One meeting's line on the status page.
struct RunnerStatus {
  std::string meeting_id;
  std::string text;  ///< secret-free session status
};

/// Owns one MeetingRunner per meeting, whether configured (`meetings:`) or discovered.
/// Thread-safe.
///
/// A meeting ID that is both configured and discovered runs once, with the discovered password
/// (which falls back to the configured one, see discovery::Planner) and keeps the static
/// behaviour: it is never dropped for ending. A discovered-only meeting is dropped when it
/// leaves the discovered set or its session reports `ended`; its series then stay (as ended)
/// for `metrics.ended_meeting_retention` before they go.
class Supervisor {
 public:
  /// Meetings are added to and removed from `store` as the config and discovery say.
  explicit Supervisor(std::shared_ptr<metrics::MeetingStore> store);
  /// Stops every runner.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// Makes the running meetings match `config`: added meetings start, removed ones stop and
  /// their series go, unchanged ones keep their connection. Discovered meetings are kept. With
  /// `config.sharding` only the meetings this replica owns (config/shard.h), configured or
  /// discovered, run; the others are left out as if removed. A change to `api` or `session`
  /// restarts every meeting. Throws std::invalid_argument (nothing
  /// changed) when the `api` settings cannot be used, e.g. an unreadable CA file.
  void apply(const config::Config& config);

  /// Replaces the discovered meetings: new ones start, unchanged ones (same ID, confUUID and
  /// password) keep their connection, the others are dropped. Returns the occurrences whose
  /// sessions had ended: they are dropped (not restarted) even though `meetings` lists them.
  /// Does nothing but return {} before the first apply().
  std::vector<discovery::MeetingKey> setDiscovered(
      const std::vector<discovery::WatchedMeeting>& meetings);

  /// Stops every discovered meeting and removes its series at once (discovery turned off).
  void clearDiscovered();

  /// Stops every runner (closing sockets) and removes their meetings from the store.
  void stopAll();

  /// Status lines of the running meetings, by meeting ID.
  std::vector<RunnerStatus> status() const;

 private:
  struct Runner {
    std::unique_ptr<MeetingRunner> runner;
    std::string conf_uuid;   // the discovered occurrence; empty for a static-only meeting
    bool is_static = false;  // configured in `meetings:` (maybe discovered too)
  };

  void reconcileLocked(bool restart_all, const std::shared_ptr<const transport::RestClient>& rest);
  void sweepDroppedLocked();

  std::shared_ptr<metrics::MeetingStore> store_;
  mutable std::mutex mutex_;
  std::optional<config::Config> current_;
  std::shared_ptr<const transport::RestClient> rest_;
  std::map<std::string, Runner> runners_;
  std::map<std::string, discovery::WatchedMeeting> discovered_;
  // Dropped discovered meetings whose ended series are kept until the retention has passed.
  std::map<std::string, std::chrono::system_clock::time_point> dropped_;
};

/// The session settings of a config.
RunnerSettings runnerSettings(const config::Config& config);

}  // namespace hme::app
