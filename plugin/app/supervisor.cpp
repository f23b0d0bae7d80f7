#include "plugin/app/supervisor.h"

#include <functional>
#include <random>

#include "config/shard.h"
#include "plugin/log/log.h"

namespace hme::app {
namespace {

std::uint64_t seedFor(const std::string& meeting_id) {
  static std::random_device entropy;
  return std::hash<std::string>{}(meeting_id) ^ (std::uint64_t{entropy()} << 32U) ^ entropy();
}

// Stops runners in parallel: every one is asked first, then each is joined.
void stopRunners(std::vector<std::unique_ptr<MeetingRunner>>& runners) {
  for (auto& runner : runners) runner->requestStop();
  for (auto& runner : runners) runner->join();
}

}  // namespace

RunnerSettings runnerSettings(const config::Config& config) {
  RunnerSettings settings;
  settings.session.heartbeat_interval = config.session.heartbeat_interval;
  settings.session.heartbeat_timeout = config.session.heartbeat_timeout;
  settings.session.backoff_initial = config.session.backoff_initial;
  settings.session.backoff_max = config.session.backoff_max;
  settings.session.token_refresh_before = config.session.token_refresh_before;
  settings.session.subscribe_types = config.session.subscribe;
  settings.websocket.tls = {config.api.ca_file, config.api.insecure_skip_verify};
  settings.websocket.timeout = config.api.timeout;
  settings.websocket.max_frame_bytes = config.session.max_frame_bytes;
  return settings;
}

Supervisor::Supervisor(std::shared_ptr<metrics::MeetingStore> store) : store_(std::move(store)) {}

Supervisor::~Supervisor() { stopAll(); }

void Supervisor::apply(const config::Config& config) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool connection_settings_changed =
      !current_ || current_->api != config.api || current_->session != config.session;
  std::shared_ptr<const transport::RestClient> rest = rest_;
  if (connection_settings_changed) {
    // Built before anything stops, so a bad CA file leaves the running meetings alone.
    rest = std::make_shared<const transport::RestClient>(
        config.api.url, transport::TlsOptions{config.api.ca_file, config.api.insecure_skip_verify},
        config.api.timeout);
  }

  // Sharded: this replica runs only its share; the others run the rest (config/shard.h).
  std::map<std::string, const config::MeetingConfig*> wanted;
  for (const auto& meeting : config.meetings) {
    if (config::ownsMeeting(config.sharding, meeting.id)) wanted[meeting.id] = &meeting;
  }
  if (config.sharding.count > 1) {
    log::info("sharding", {{"shard", std::to_string(config.sharding.index) + "/" +
                                         std::to_string(config.sharding.count)},
                           {"meetings_owned", std::to_string(wanted.size())},
                           {"meetings_configured", std::to_string(config.meetings.size())}});
  }

  std::vector<std::unique_ptr<MeetingRunner>> stopping;
  std::vector<std::string> removed;
  for (auto it = runners_.begin(); it != runners_.end();) {
    const auto found = wanted.find(it->first);
    const bool keep = !connection_settings_changed && found != wanted.end() &&
                      *found->second == it->second->meeting();
    if (keep) {
      ++it;
      continue;
    }
    if (found == wanted.end()) removed.push_back(it->first);
    stopping.push_back(std::move(it->second));
    it = runners_.erase(it);
  }
  stopRunners(stopping);
  for (const auto& meeting_id : removed) {
    store_->removeMeeting(meeting_id);
    log::info("meeting removed", {{"meeting_id", meeting_id}});
  }

  const RunnerSettings settings = runnerSettings(config);
  for (const auto& meeting : config.meetings) {
    if (wanted.count(meeting.id) == 0 || runners_.count(meeting.id) != 0) continue;
    if (store_->addMeeting(meeting.id, std::chrono::system_clock::now())) {
      log::info("meeting added", {{"meeting_id", meeting.id}});
    }
    auto runner =
        std::make_unique<MeetingRunner>(meeting, rest, settings, store_, seedFor(meeting.id));
    runner->start();
    runners_.emplace(meeting.id, std::move(runner));
  }
  rest_ = std::move(rest);
  current_ = config;
}

void Supervisor::stopAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::unique_ptr<MeetingRunner>> stopping;
  for (auto& entry : runners_) stopping.push_back(std::move(entry.second));
  runners_.clear();
  stopRunners(stopping);
  for (const auto& runner : stopping) store_->removeMeeting(runner->meetingId());
  current_.reset();
}

std::vector<RunnerStatus> Supervisor::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RunnerStatus> result;
  for (const auto& [meeting_id, runner] : runners_) {
    result.push_back({meeting_id, runner->statusText()});
  }
  return result;
}

}  // namespace hme::app
