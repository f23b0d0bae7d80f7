#include "plugin/app/supervisor.h"

#include <algorithm>
#include <functional>
#include <random>

#include "config/shard.h"
#include "plugin/log/log.h"
#include "plugin/transport/tls.h"

namespace hme::app {
namespace {

std::uint64_t seedFor(const std::string& meeting_id) {
  static std::random_device entropy;
  return std::hash<std::string>{}(meeting_id) ^ (std::uint64_t{entropy()} << 32U) ^ entropy();
}

// Stops runners in parallel: every one is asked first, then each is joined.
void stopRunners(std::vector<std::unique_ptr<MeetingRunner>>& runners) {
  for (auto& runner : runners) {
    runner->requestStop();
  }
  for (auto& runner : runners) {
    runner->join();
  }
}

}  // namespace

RunnerSettings runnerSettings(const config::Config& config) {
  RunnerSettings settings;
  settings.session.heartbeat_interval = config.session.heartbeat_interval;
  settings.session.heartbeat_timeout = config.session.heartbeat_timeout;
  settings.session.subscribe_timeout = config.api.timeout;
  settings.session.backoff_initial = config.session.backoff_initial;
  settings.session.backoff_max = config.session.backoff_max;
  settings.session.token_refresh_before = config.session.token_refresh_before;
  settings.session.subscribe_types = config.session.subscribe;
  settings.websocket.tls = {config::webSocketCaFile(config.api),
                            config::webSocketInsecureSkipVerify(config.api),
                            config.api.websocket_tls.server_name};
  settings.websocket.timeout = config.api.timeout;
  settings.websocket.max_frame_bytes = config.session.max_frame_bytes;
  settings.websocket.message_timeout = config.session.heartbeat_timeout;
  return settings;
}

Supervisor::Supervisor(std::shared_ptr<metrics::MeetingStore> store) : store_(std::move(store)) {}

Supervisor::~Supervisor() { stopAll(); }

PreparedMeetings Supervisor::prepare(const config::Config& config) const {
  std::lock_guard<std::mutex> lock(mutex_);
  PreparedMeetings prepared;
  prepared.restart_all =
      !current_ || current_->api != config.api || current_->session != config.session;
  prepared.rest = rest_;
  if (prepared.restart_all) {
    prepared.rest = std::make_shared<const transport::RestClient>(
        config.api.url, transport::TlsOptions{config.api.ca_file, config.api.insecure_skip_verify},
        config.api.timeout);
    // The push host's trust settings may name another CA file: load it now, so that a file
    // OpenSSL refuses fails the reload instead of every later connect.
    const auto push_tls = runnerSettings(config).websocket.tls;
    if (!push_tls.insecure_skip_verify && push_tls.ca_file != config.api.ca_file) {
      transport::checkTrustSettings(push_tls);
    }
  }
  prepared.config = config;
  return prepared;
}

void Supervisor::apply(PreparedMeetings prepared) {
  std::lock_guard<std::mutex> lock(mutex_);
  const config::Config& config = prepared.config;
  if (config.sharding.count > 1) {
    const auto owned = std::count_if(
        config.meetings.begin(), config.meetings.end(),
        [&](const auto& meeting) { return config::ownsMeeting(config.sharding, meeting.id); });
    log::info("sharding", {{"shard", std::to_string(config.sharding.index) + "/" +
                                         std::to_string(config.sharding.count)},
                           {"meetings_owned", std::to_string(owned)},
                           {"meetings_configured", std::to_string(config.meetings.size())}});
  }
  current_ = std::move(prepared.config);
  rest_ = std::move(prepared.rest);
  reconcileLocked(prepared.restart_all, rest_);
  sweepDroppedLocked();
}

std::vector<discovery::MeetingKey> Supervisor::setDiscovered(
    const std::vector<discovery::WatchedMeeting>& meetings) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!current_) {
    return {};
  }
  // A discovered meeting whose session saw the meeting end is not retried (unlike a configured
  // one): it is dropped even if the list still shows it.
  std::vector<discovery::MeetingKey> ended;
  for (const auto& [meeting_id, runner] : runners_) {
    if (runner.is_static) {
      continue;
    }
    bool has_ended = false;
    store_->visit(meeting_id, [&](const metrics::MeetingState& state) {
      has_ended = state.session.state == metrics::SessionState::Ended;
    });
    if (has_ended) {
      ended.emplace_back(meeting_id, runner.conf_uuid);
    }
  }
  discovered_.clear();
  for (const auto& meeting : meetings) {
    const discovery::MeetingKey key{meeting.meeting_id, meeting.conf_uuid};
    if (std::find(ended.begin(), ended.end(), key) != ended.end()) {
      continue;
    }
    discovered_.emplace(meeting.meeting_id, meeting);
  }
  reconcileLocked(false, rest_);
  sweepDroppedLocked();
  return ended;
}

void Supervisor::clearDiscovered() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!current_) {
    return;
  }
  discovered_.clear();
  reconcileLocked(false, rest_);
  for (const auto& [meeting_id, at] : dropped_) {
    if (runners_.count(meeting_id) == 0) {
      store_->removeMeeting(meeting_id);
    }
  }
  dropped_.clear();
}

void Supervisor::reconcileLocked(bool restart_all,
                                 const std::shared_ptr<const transport::RestClient>& rest) {
  struct Wanted {
    config::MeetingConfig meeting;
    std::string conf_uuid;
    bool is_static = false;
  };
  std::map<std::string, Wanted> wanted;
  // Sharded: this replica runs only its share of both kinds; the others run the rest
  // (config/shard.h).
  for (const auto& meeting : current_->meetings) {
    if (config::ownsMeeting(current_->sharding, meeting.id))
      wanted[meeting.id] = {meeting, "", true};
  }
  for (const auto& [meeting_id, meeting] : discovered_) {
    if (!config::ownsMeeting(current_->sharding, meeting_id)) continue;
    Wanted& entry = wanted[meeting_id];
    entry.meeting = {meeting_id, meeting.host_password};
    entry.conf_uuid = meeting.conf_uuid;
  }

  // Room for every wanted meeting before any of them opens a socket.
  descriptors_->ensureFor(wanted.size());

  std::vector<std::unique_ptr<MeetingRunner>> stopping;
  std::vector<std::string> removed;  // configured meetings gone from the config: series go now
  std::vector<std::string> dropped;  // discovered meetings gone: series stay as ended a while
  for (auto it = runners_.begin(); it != runners_.end();) {
    const auto found = wanted.find(it->first);
    bool keep = !restart_all && found != wanted.end();
    if (keep) {
      const Wanted& next = found->second;
      Runner& running = it->second;
      // A static entry is one session across occurrences (never dropped for ending), and an
      // entry without an occurrence names none: only two different occurrences of a
      // discovered-only meeting are different sessions.
      const bool switches_source = next.is_static != running.is_static ||
                                   next.conf_uuid.empty() != running.conf_uuid.empty();
      const bool same_occurrence = next.conf_uuid == running.conf_uuid || next.is_static ||
                                   running.is_static || switches_source;
      const bool same_password =
          next.meeting.host_password == running.runner->meeting().host_password;
      keep = same_occurrence && (same_password || switches_source);
      if (keep) {
        if (!same_password) running.runner->setHostPassword(next.meeting.host_password);
        running.is_static = next.is_static;
        running.conf_uuid = next.conf_uuid;
      }
    }
    if (keep) {
      // A runner whose thread could not start gets another chance at each reconcile.
      if (!it->second.runner->started()) it->second.runner->start();
      ++it;
      continue;
    }
    if (found == wanted.end()) {
      (it->second.is_static ? removed : dropped).push_back(it->first);
    }
    stopping.push_back(std::move(it->second.runner));
    it = runners_.erase(it);
  }
  stopRunners(stopping);
  const auto now = std::chrono::system_clock::now();
  for (const auto& meeting_id : removed) {
    store_->removeMeeting(meeting_id);
    log::info("meeting removed", {{"meeting_id", meeting_id}});
  }
  for (const auto& meeting_id : dropped) {
    // Marked ended (unless the session saw the end itself), so the series show it and go after
    // the retention like those of any ended meeting.
    bool already_ended = false;
    store_->visit(meeting_id, [&](const metrics::MeetingState& state) {
      already_ended = state.session.state == metrics::SessionState::Ended;
    });
    if (!already_ended) {
      store_->apply(meeting_id, metrics::Event{now, metrics::SessionStateChanged{
                                                        metrics::SessionState::Ended, false}});
    }
    dropped_[meeting_id] = now;
    log::info("discovered meeting dropped", {{"meeting_id", meeting_id}});
  }

  RunnerSettings settings = runnerSettings(*current_);
  settings.descriptors = descriptors_;
  for (const auto& [meeting_id, entry] : wanted) {
    if (runners_.count(meeting_id) != 0) {
      continue;
    }
    dropped_.erase(meeting_id);
    if (store_->addMeeting(meeting_id, now)) {
      log::info(entry.is_static ? "meeting added" : "discovered meeting added",
                {{"meeting_id", meeting_id}});
    } else if (!entry.is_static) {
      // The series of an earlier occurrence may still say `ended`: this one is connecting, and
      // must not be taken for ended before its session reports anything.
      store_->apply(meeting_id, metrics::Event{now, metrics::SessionStateChanged{
                                                        metrics::SessionState::Connecting, false}});
    }
    auto runner =
        std::make_unique<MeetingRunner>(entry.meeting, rest, settings, store_, seedFor(meeting_id));
    runner->start();
    runners_.emplace(meeting_id, Runner{std::move(runner), entry.conf_uuid, entry.is_static});
  }
}

void Supervisor::sweepDroppedLocked() {
  const auto now = std::chrono::system_clock::now();
  const auto retention = current_->metrics.ended_meeting_retention;
  for (auto it = dropped_.begin(); it != dropped_.end();) {
    if (runners_.count(it->first) == 0 && now >= it->second + retention) {
      store_->removeMeeting(it->first);
      it = dropped_.erase(it);
    } else {
      ++it;
    }
  }
}

void Supervisor::stopAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::unique_ptr<MeetingRunner>> stopping;
  for (auto& entry : runners_) {
    stopping.push_back(std::move(entry.second.runner));
  }
  runners_.clear();
  stopRunners(stopping);
  for (const auto& runner : stopping) {
    store_->removeMeeting(runner->meetingId());
  }
  for (const auto& [meeting_id, at] : dropped_) {
    store_->removeMeeting(meeting_id);
  }
  dropped_.clear();
  discovered_.clear();
  current_.reset();
}

std::vector<RunnerStatus> Supervisor::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RunnerStatus> result;
  for (const auto& [meeting_id, runner] : runners_) {
    result.push_back({meeting_id, runner.runner->statusText()});
  }
  return result;
}

}  // namespace hme::app
