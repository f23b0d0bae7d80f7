#pragma once
/// Runs every configured meeting and applies config reloads by diffing meetings.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "metrics/store.h"
#include "plugin/app/meeting_runner.h"

namespace hme::app {

/// One meeting's line on the status page.
struct RunnerStatus {
  std::string meeting_id;
  std::string text;  ///< secret-free session status
};

/// Owns one MeetingRunner per configured meeting. Thread-safe.
class Supervisor {
 public:
  /// Meetings are added to and removed from `store` as the config says.
  explicit Supervisor(std::shared_ptr<metrics::MeetingStore> store);
  /// Stops every runner.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// Makes the running meetings match `config`: added meetings start, removed ones stop and
  /// their series go, unchanged ones keep their connection. With `config.sharding` only the
  /// meetings this replica owns (config/shard.h) run; the others are left out as if removed. A
  /// change to `api` or `session` restarts every meeting. Throws std::invalid_argument (nothing
  /// changed) when the `api` settings cannot be used, e.g. an unreadable CA file.
  void apply(const config::Config& config);

  /// Stops every runner (closing sockets) and removes their meetings from the store.
  void stopAll();

  /// Status lines of the running meetings, by meeting ID.
  std::vector<RunnerStatus> status() const;

 private:
  std::shared_ptr<metrics::MeetingStore> store_;
  mutable std::mutex mutex_;
  std::optional<config::Config> current_;
  std::shared_ptr<const transport::RestClient> rest_;
  std::map<std::string, std::unique_ptr<MeetingRunner>> runners_;
};

/// The session settings of a config.
RunnerSettings runnerSettings(const config::Config& config);

}  // namespace hme::app
