#pragma once
/// MeetingState: everything the exporter knows about one meeting, in base units, as built by
/// `reduce` (metrics/reduce.h) from domain events. Plain data: no locks, no I/O. The store
/// (metrics/store.h) owns one per meeting and serialises access to it.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "metrics/events.h"

namespace hme::metrics {

/// Label values of huawei_meeting_participants_by_role; every participant has exactly one.
enum class Role : std::uint8_t { Host, Cohost, Participant, Audience };
inline constexpr std::size_t kRoleCount = 4;

/// Label values of huawei_meeting_participant_leave_reasons_total.
enum class LeaveReason : std::uint8_t {
  Left,
  RemovedByHost,
  RemovedByAdmin,
  McuNoMedia,
  ClientNoMedia,
  SipTimeout,
  WebsocketTimeout,
  Other
};
inline constexpr std::size_t kLeaveReasonCount = 8;

/// Label values of huawei_meeting_invite_failures_total.
enum class InviteFailure : std::uint8_t { NoAnswer, Offline, Busy, Rejected, Other };
inline constexpr std::size_t kInviteFailureCount = 5;

/// `media` label of the participant network series.
enum class Media : std::uint8_t { Audio, Video, Screen };
inline constexpr std::size_t kMediaCount = 3;

/// `direction` label: upstream = terminal → server, downstream = server → terminal.
enum class Direction : std::uint8_t { Upstream, Downstream };
inline constexpr std::size_t kDirectionCount = 2;

/// Reason label of huawei_meeting_message_items_rejected_total: why one item of a list push was
/// left out while the rest of the frame was applied.
enum class ItemRejectReason : std::uint8_t {
  IdTooLong  ///< its key (pid, participantID, attendee key, groupId) is longer than kMaxIdBytes
};
inline constexpr std::size_t kItemRejectReasonCount = 1;

/// Longest participant, attendee or group id (in bytes) that is stored; an item with a longer
/// one is rejected (ItemRejectReason::IdTooLong). Real ids are 32 characters or less; the bound
/// keeps each stored key, and so each meeting's lists, small whatever a frame carries.
inline constexpr std::size_t kMaxIdBytes = 64;

/// huawei_meeting_state stateset values (ConfDynamicInfoNotify `state`).
enum class MeetingPhase : std::uint8_t { Scheduled, Created, Destroyed };
inline constexpr std::size_t kMeetingPhaseCount = 3;

inline constexpr std::size_t kClientTypeCount = 4;    ///< entries of ClientType
inline constexpr std::size_t kSessionStateCount = 5;  ///< entries of SessionState
inline constexpr std::size_t kConnectStageCount = 4;  ///< entries of ConnectStage
inline constexpr std::size_t kDisconnectCount = 5;    ///< entries of DisconnectReason
inline constexpr std::size_t kRejectReasonCount = 4;  ///< entries of RejectReason

/// The `action` label values of huawei_meeting_messages_total, in exposition order. The last one,
/// `unknown`, stands for every other action so the label set stays bounded.
inline constexpr std::array<std::string_view, 15> kMessageActions = {"ConfBasicInfoNotify",
                                                                     "ConfDynamicInfoNotify",
                                                                     "ParticipantsNotify",
                                                                     "AttendeesNotify",
                                                                     "SpeakerChangeNotify",
                                                                     "NetConditionNotify",
                                                                     "CustomMultiPicNotify",
                                                                     "InviteResultNotify",
                                                                     "InterpreterGroupNotify",
                                                                     "NetworkQualityNotify",
                                                                     "WaitingListNotify",
                                                                     "RealTimeSubtitleNotify",
                                                                     "HeartBeat",
                                                                     "Subscribe",
                                                                     "unknown"};

/// Index of `action` in kMessageActions; unknown actions map to the index of `unknown`.
std::size_t messageActionIndex(std::string_view action);

/// Label value of a role (`host`, `cohost`, `participant`, `audience`).
const char* toLabel(Role role);
/// Label value of a leave reason (`left`, …, `websocket_timeout`, `other`).
const char* toLabel(LeaveReason reason);
/// Label value of an invite failure (`no_answer`, `offline`, `busy`, `rejected`, `other`).
const char* toLabel(InviteFailure reason);
/// Label value of a media kind (`audio`, `video`, `screen`).
const char* toLabel(Media media);
/// Label value of a direction (`upstream`, `downstream`).
const char* toLabel(Direction direction);
/// Label value of a meeting phase (`scheduled`, `created`, `destroyed`).
const char* toLabel(MeetingPhase phase);
/// Label value of a client type (`desktop`, `mobile`, `pad`, `other`).
const char* toLabel(ClientType client);
/// Label value of an item reject reason (`id_too_long`).
const char* toLabel(ItemRejectReason reason);

/// One participant, merged from partial ParticipantFields. Kept small on purpose (one per
/// participant of every meeting): flags are bytes, the role is the wire value.
struct ParticipantRecord {
  std::string name;           ///< `NAME`; stored only when ReduceOptions::keep_participant_names
  std::int8_t wire_role = 0;  ///< `ROLE` 0, 1 (host) or 2 (audience); -1 for any other value
  bool calling = false;       ///< `STATE` "1": being called, not yet in the meeting
  bool muted = false;
  bool video = false;
  bool hand_raised = false;
  bool sharing = false;
  bool is_cohost = false;
  ClientType client = ClientType::Other;

  /// The role label per the catalogue's counting rules (cohost = ROLE 0 with IS_COHOST 1).
  Role role() const;
};

/// A participant's latest media figures, already in base units (seconds, ratios 0–1, bytes/s).
/// A NaN value means "not reported yet"; `has()` tests for it.
struct NetRecord {
  static constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

  /// Normalised `netInfo` rating (lower-case, `^[a-z]{1,16}$` or `other`); empty = not reported.
  std::string quality;
  double rtt_seconds = kUnset;
  std::array<double, kDirectionCount> jitter_seconds = {kUnset, kUnset};
  /// [media][direction]
  std::array<std::array<double, kDirectionCount>, kMediaCount> loss_ratio = {
      {{kUnset, kUnset}, {kUnset, kUnset}, {kUnset, kUnset}}};
  /// [media][direction]
  std::array<std::array<double, kDirectionCount>, kMediaCount> throughput_bytes_per_second = {
      {{kUnset, kUnset}, {kUnset, kUnset}, {kUnset, kUnset}}};

  /// True when `value` was reported (is not the NaN marker).
  static bool has(double value) { return !std::isnan(value); }
};

/// ConfBasicInfoNotify, normalised for labels. Fields absent so far are empty / unset.
struct MeetingInfo {
  bool received = false;  ///< at least one ConfBasicInfoNotify arrived
  std::string display_id;
  std::string title;
  std::string conf_mode;  ///< lower-case (`common`, `rtc`, or `other` when not a short word)
  std::string media;      ///< `voice`, `video`, or `other`
  std::optional<double> start_timestamp_seconds;
  std::optional<double> scheduled_start_timestamp_seconds;
};

/// ConfDynamicInfoNotify (and CustomMultiPicNotify `picNum`) fields; unset until first reported.
struct MeetingFlags {
  std::optional<MeetingPhase> phase;
  std::optional<double> end_timestamp_seconds;
  std::optional<bool> locked;
  std::optional<bool> recording;
  std::optional<bool> mute_on_join;
  std::optional<bool> screen_share_locked;
  std::optional<bool> chat_forbidden;
  std::optional<std::int64_t> audience_members;
  std::optional<std::int64_t> layout_pictures;
};

/// Connection health of the meeting's session.
struct SessionStatus {
  SessionState state = SessionState::Waiting;
  bool up = false;
  TimePoint configured_at{};                    ///< when the store started tracking the meeting
  std::optional<double> heartbeat_rtt_seconds;  ///< last answered heartbeat
  std::optional<TimePoint> last_message_at;     ///< last frame (accepted, rejected or PONG)
  std::string last_error;                       ///< last connect failure / disconnect detail
  std::optional<TimePoint> last_error_at;
  std::optional<TimePoint> ended_at;  ///< meeting ended here; cleared by a new subscription
};

/// Every counter of one meeting. They only grow while the process lives.
struct MeetingCounters {
  std::uint64_t participant_joins = 0;
  std::uint64_t participant_leaves = 0;
  std::array<std::uint64_t, kLeaveReasonCount> leave_reasons{};
  std::uint64_t invites = 0;
  std::array<std::uint64_t, kInviteFailureCount> invite_failures{};
  std::uint64_t speaker_changes = 0;
  std::uint64_t connects = 0;
  std::array<std::uint64_t, kConnectStageCount> connect_failures{};  ///< by ConnectStage
  std::array<std::uint64_t, kDisconnectCount> disconnects{};         ///< by DisconnectReason
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t token_refreshes = 0;
  std::array<std::uint64_t, kMessageActions.size()> messages{};    ///< by kMessageActions index
  std::array<std::uint64_t, kRejectReasonCount> message_errors{};  ///< by RejectReason
  /// List items left out of applied frames, by ItemRejectReason.
  std::array<std::uint64_t, kItemRejectReasonCount> items_rejected{};

  /// Sum of message_errors over all reasons.
  std::uint64_t messageErrorsTotal() const;
};

/// Invite results already counted for a meeting (`callNumber` + code), used to skip the replay a
/// full InviteResultNotify brings after a re-subscribe. Bounded: once `capacity` entries are held
/// the oldest is forgotten (FIFO), so a result older than the last `capacity` distinct results
/// would be counted again if replayed — 10 000 by default, far more than one meeting's invites.
class InviteMemory {
 public:
  /// True when the (call_number, code) pair was remembered.
  bool contains(const std::string& call_number, const std::string& code) const;
  /// Remembers the pair, evicting the oldest entry beyond `capacity` (0 remembers nothing).
  void remember(const std::string& call_number, const std::string& code, std::size_t capacity);
  /// Number of remembered pairs.
  std::size_t size() const { return order_.size(); }

 private:
  static std::string key(const std::string& call_number, const std::string& code);
  std::unordered_set<std::string> keys_;
  std::deque<std::string> order_;
};

/// The whole known state of one meeting. Plain value type: not thread-safe by itself.
struct MeetingState {
  MeetingInfo info;
  MeetingFlags flags;
  SessionStatus session;
  MeetingCounters counters;
  /// Participants by `pid`, including those being called (`calling`). Ordered: renders are stable.
  std::map<std::string, ParticipantRecord> participants;
  /// Latest network figures by `pid`. May briefly hold a pid not (yet) in `participants`.
  std::map<std::string, NetRecord> net;
  std::set<std::string> attendees;           ///< AttendeesNotify keys
  std::set<std::string> waiting_room;        ///< pids waiting (not admitted)
  std::set<std::string> interpreter_groups;  ///< `groupId`s
  std::vector<std::string> speakers;         ///< current active speaker pids, sorted, unique
  InviteMemory invite_memory;

  /// Participants in the meeting (everyone but those being called).
  std::size_t onlineParticipants() const;
  /// Participants being called (`STATE` "1").
  std::size_t callingParticipants() const;
};

}  // namespace hme::metrics
