#pragma once
/// MeetingStore: the thread-safe home of every meeting's MeetingState.
///
/// Locking design: a reader/writer lock guards only the map from meeting_id to entry (taken
/// briefly: look-up, add, remove); each entry has its own mutex guarding its MeetingState. A
/// writer (one session thread per meeting) locks only its own meeting, so writers never contend
/// with each other. A reader (a scrape, the status page) copies the list of entries under the
/// map lock, releases it, then locks one meeting at a time while it reads it: a scrape delays a
/// writer of a meeting at most for the time it takes to render that one meeting, and never
/// blocks `addMeeting`/`removeMeeting` for longer than the list copy. Entries are held by
/// shared_ptr, so a meeting removed during a scrape stays valid until the scrape is done with it.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "metrics/events.h"
#include "metrics/meeting_state.h"
#include "metrics/reduce.h"

namespace hme::metrics {

/// One meeting as shown on the status page. Carries no secrets (no tokens, no passwords) and no
/// personal data (no participant names).
struct MeetingSummary {
  std::string meeting_id;
  std::string title;
  SessionState session_state = SessionState::Waiting;
  bool up = false;
  std::size_t participants = 0;  ///< online participants
  std::size_t calling = 0;       ///< participants being called
  std::optional<TimePoint> last_message_at;
  std::uint64_t message_errors_total = 0;
  std::string last_error;  ///< last connect failure / disconnect, e.g. "control_token: HTTP 401"
  std::optional<TimePoint> last_error_at;
  std::optional<TimePoint> ended_at;
};

/// Exporter-level status (config reloads), rendered as huawei_meeting_exporter_config_* gauges.
struct ExporterStatus {
  bool config_reload_ok = false;  ///< result of the last (re)load; false before the first one
  std::optional<TimePoint> last_reload_success_at;
};

/// Thread-safe store of meeting states. All member functions may be called concurrently from any
/// thread; see the file comment for the locking design. Functions throw only std::bad_alloc and
/// whatever a caller's visitor throws.
class MeetingStore {
 public:
  /// An empty store applying events with `options`.
  explicit MeetingStore(ReduceOptions options = {});

  MeetingStore(const MeetingStore&) = delete;
  MeetingStore& operator=(const MeetingStore&) = delete;

  /// Replaces the options used by later `apply` calls (e.g. after a config reload).
  void setReduceOptions(const ReduceOptions& options);

  /// Starts tracking `meeting_id` (state `waiting`, up 0, counters 0): its series appear in the
  /// next scrape. Returns false (and changes nothing) if it is already tracked.
  bool addMeeting(const std::string& meeting_id, TimePoint at);

  /// Stops tracking `meeting_id`: all its series are gone from the next scrape. Returns false if
  /// it was not tracked.
  bool removeMeeting(const std::string& meeting_id);

  /// Reduces `event` into the meeting's state. Returns false (ignoring the event) if the meeting
  /// is not tracked.
  bool apply(const std::string& meeting_id, const Event& event);

  /// Reduces `events` in order, under one lock acquisition. Returns false if not tracked.
  bool apply(const std::string& meeting_id, const std::vector<Event>& events);

  /// Calls `fn(const std::string& meeting_id, const MeetingState&)` for every tracked meeting in
  /// ascending meeting_id order, holding that meeting's lock (and only it) during the call.
  /// `fn` must not call back into the store.
  template <typename Fn>
  void forEach(Fn&& fn) const {
    for (const auto& [meeting_id, entry] : entries()) {
      std::lock_guard<std::mutex> lock(entry->mutex);
      fn(meeting_id, static_cast<const MeetingState&>(entry->state));
    }
  }

  /// Calls `fn(const MeetingState&)` for one meeting under its lock. Returns false if the
  /// meeting is not tracked (fn not called). `fn` must not call back into the store.
  template <typename Fn>
  bool visit(const std::string& meeting_id, Fn&& fn) const {
    auto entry = find(meeting_id);
    if (!entry) return false;
    std::lock_guard<std::mutex> lock(entry->mutex);
    fn(static_cast<const MeetingState&>(entry->state));
    return true;
  }

  /// A copy of one meeting's state, or nullopt if it is not tracked.
  std::optional<MeetingState> snapshot(const std::string& meeting_id) const;

  /// Tracked meeting ids, ascending.
  std::vector<std::string> meetingIds() const;

  /// One status-page summary per tracked meeting, ascending by meeting_id.
  std::vector<MeetingSummary> summaries() const;

  /// Records the outcome of a config (re)load at `at`.
  void setConfigReload(bool ok, TimePoint at);

  /// The exporter-level status.
  ExporterStatus exporterStatus() const;

 private:
  struct Entry {
    mutable std::mutex mutex;
    MeetingState state;
  };
  using EntryPtr = std::shared_ptr<Entry>;

  std::vector<std::pair<std::string, EntryPtr>> entries() const;
  EntryPtr find(const std::string& meeting_id) const;

  mutable std::shared_mutex map_mutex_;  // guards meetings_, options_ and status_
  std::map<std::string, EntryPtr> meetings_;
  ReduceOptions options_;
  ExporterStatus status_;
};

}  // namespace hme::metrics
