#include "metrics/store.h"

namespace hme::metrics {

MeetingStore::MeetingStore(ReduceOptions options) : options_(options) {}

void MeetingStore::setReduceOptions(const ReduceOptions& options) {
  std::unique_lock<std::shared_mutex> lock(map_mutex_);
  options_ = options;
}

bool MeetingStore::addMeeting(const std::string& meeting_id, TimePoint at) {
  auto entry = std::make_shared<Entry>();
  entry->state.session.configured_at = at;
  std::unique_lock<std::shared_mutex> lock(map_mutex_);
  return meetings_.emplace(meeting_id, std::move(entry)).second;
}

bool MeetingStore::removeMeeting(const std::string& meeting_id) {
  std::unique_lock<std::shared_mutex> lock(map_mutex_);
  return meetings_.erase(meeting_id) != 0;
}

bool MeetingStore::apply(const std::string& meeting_id, const Event& event) {
  EntryPtr entry;
  ReduceOptions options;
  {
    std::shared_lock<std::shared_mutex> lock(map_mutex_);
    auto found = meetings_.find(meeting_id);
    if (found == meetings_.end()) return false;
    entry = found->second;
    options = options_;
  }
  std::lock_guard<std::mutex> lock(entry->mutex);
  reduce(entry->state, event, options);
  return true;
}

bool MeetingStore::apply(const std::string& meeting_id, const std::vector<Event>& events) {
  EntryPtr entry;
  ReduceOptions options;
  {
    std::shared_lock<std::shared_mutex> lock(map_mutex_);
    auto found = meetings_.find(meeting_id);
    if (found == meetings_.end()) return false;
    entry = found->second;
    options = options_;
  }
  std::lock_guard<std::mutex> lock(entry->mutex);
  for (const auto& event : events) reduce(entry->state, event, options);
  return true;
}

std::optional<MeetingState> MeetingStore::snapshot(const std::string& meeting_id) const {
  std::optional<MeetingState> copy;
  visit(meeting_id, [&copy](const MeetingState& state) { copy = state; });
  return copy;
}

std::vector<std::string> MeetingStore::meetingIds() const {
  std::shared_lock<std::shared_mutex> lock(map_mutex_);
  std::vector<std::string> ids;
  ids.reserve(meetings_.size());
  for (const auto& entry : meetings_) ids.push_back(entry.first);
  return ids;
}

std::vector<MeetingSummary> MeetingStore::summaries() const {
  std::vector<MeetingSummary> out;
  forEach([&out](const std::string& meeting_id, const MeetingState& state) {
    MeetingSummary summary;
    summary.meeting_id = meeting_id;
    summary.title = state.info.title;
    summary.session_state = state.session.state;
    summary.up = state.session.up;
    summary.calling = state.callingParticipants();
    summary.participants = state.participants.size() - summary.calling;
    summary.last_message_at = state.session.last_message_at;
    summary.message_errors_total = state.counters.messageErrorsTotal();
    summary.last_error = state.session.last_error;
    summary.last_error_at = state.session.last_error_at;
    summary.ended_at = state.session.ended_at;
    out.push_back(std::move(summary));
  });
  return out;
}

void MeetingStore::setConfigReload(bool ok, TimePoint at) {
  std::unique_lock<std::shared_mutex> lock(map_mutex_);
  status_.config_reload_ok = ok;
  if (ok) status_.last_reload_success_at = at;
}

ExporterStatus MeetingStore::exporterStatus() const {
  std::shared_lock<std::shared_mutex> lock(map_mutex_);
  return status_;
}

std::vector<std::pair<std::string, MeetingStore::EntryPtr>> MeetingStore::entries() const {
  std::shared_lock<std::shared_mutex> lock(map_mutex_);
  return {meetings_.begin(), meetings_.end()};
}

MeetingStore::EntryPtr MeetingStore::find(const std::string& meeting_id) const {
  std::shared_lock<std::shared_mutex> lock(map_mutex_);
  auto found = meetings_.find(meeting_id);
  return found == meetings_.end() ? nullptr : found->second;
}

}  // namespace hme::metrics
