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
#include "plugin/app/resource_limits.h"
#include "plugin/discovery/planner.h"

namespace hme::app {

/// One meeting's line on the status page.
struct RunnerStatus {
  std::string meeting_id;
  std::string text;  ///< secret-free session status
};

/// A config with everything built that applying it needs: Supervisor::apply cannot fail on it.
struct PreparedMeetings {
  config::Config config;
  /// The REST client of `config.api` (the running one when `api` did not change).
  std::shared_ptr<const transport::RestClient> rest;
  /// `api` or `session` changed: every meeting reconnects with the new settings.
  bool restart_all = false;
};

/// Owns one MeetingRunner per meeting, whether configured (`meetings:`) or discovered.
/// Thread-safe.
///
/// A meeting ID that is both configured and discovered runs once, with the discovered password
/// (which falls back to the configured one, see discovery::Planner) and keeps the static
/// behaviour: it is never dropped for ending. Its session does not depend on where the entry
/// comes from: a reload that adds or removes the static entry while discovery lists the meeting,
/// or discovery picking up a configured meeting, keeps the session and its connection (a new
/// password is used from the next control-token call on).
///
/// At start, on reload and after each discovery pass the meetings' descriptor needs are compared
/// with RLIMIT_NOFILE (DescriptorBudget): the soft limit is raised when it can be, and meetings
/// beyond what fits show counted connect failures saying so. A discovered-only meeting is dropped
/// when it leaves the discovered set or its session reports `ended`; its series then stay (as
/// ended) for `metrics.ended_meeting_retention` before they go.
class Supervisor {
 public:
  /// Meetings are added to and removed from `store` as the config and discovery say.
  explicit Supervisor(std::shared_ptr<metrics::MeetingStore> store);
  /// Stops every runner.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// Builds what applying `config` needs (the REST client when `api` changed) without changing
  /// anything. Throws std::invalid_argument when the `api` settings cannot be used, e.g. a CA
  /// file that cannot be read or that OpenSSL refuses.
  PreparedMeetings prepare(const config::Config& config) const;

  /// Makes the running meetings match `prepared.config`: added meetings start, removed ones
  /// stop and their series go, unchanged ones keep their connection. Discovered meetings are
  /// kept. With `config.sharding` only the meetings this replica owns (config/shard.h),
  /// configured or discovered, run; the others are left out as if removed. A change to `api`
  /// or `session` restarts every meeting. `prepared` must come from prepare() with no apply()
  /// in between. Never throws except std::bad_alloc and std::system_error when a thread cannot
  /// be started.
  void apply(PreparedMeetings prepared);

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
  const std::shared_ptr<DescriptorBudget> descriptors_ = std::make_shared<DescriptorBudget>();
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
