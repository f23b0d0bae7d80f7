#include "metrics/collector.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>
#include <utility>

#include "metrics/text_renderer.h"

namespace hme::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Every family of the catalogue, in exposition order. Help texts must not contain a backslash
// or a newline: prometheus-cpp 1.0 writes HELP lines unescaped.
enum Family : std::size_t {
  kBuildInfo,
  kSessions,
  kReloadSuccessful,
  kReloadSuccessTimestamp,
  kUp,
  kConnects,
  kConnectFailures,
  kDisconnects,
  kHeartbeatsSent,
  kHeartbeatRtt,
  kTokenRefreshes,
  kMessages,
  kMessageErrors,
  kItemsRejected,
  kLastMessage,
  kInfo,
  kStart,
  kScheduledStart,
  kEnd,
  kState,
  kLocked,
  kRecording,
  kMuteOnJoin,
  kScreenShareLocked,
  kChatForbidden,
  kAudienceMembers,
  kLayoutPictures,
  kParticipants,
  kCalling,
  kByRole,
  kByClient,
  kMuted,
  kVideo,
  kHandRaised,
  kSharing,
  kJoins,
  kLeaves,
  kLeaveReasons,
  kInvites,
  kInviteFailures,
  kAttendees,
  kWaitingRoom,
  kActiveSpeakers,
  kSpeakerChanges,
  kInterpreterGroups,
  kNetworkQuality,
  kPoorNetwork,
  kOverSeriesLimit,
  kParticipantRtt,
  kParticipantJitter,
  kParticipantLoss,
  kParticipantThroughput,
  kParticipantInfo,
  kFamilyCount
};

struct FamilySpec {
  const char* name;
  MetricType type;
  const char* help;
};

constexpr MetricType kGauge = MetricType::Gauge;
constexpr MetricType kCounter = MetricType::Counter;

// clang-format off
const FamilySpec kFamilies[kFamilyCount] = {
  {"huawei_meeting_exporter_build_info", kGauge,
   "Always 1; labels carry the exporter version and git revision."},
  {"huawei_meeting_exporter_sessions", kGauge,
   "Configured meetings per session state (waiting, connecting, subscribed, backoff, ended)."},
  {"huawei_meeting_exporter_config_last_reload_successful", kGauge,
   "1 if the last configuration (re)load succeeded, else 0."},
  {"huawei_meeting_exporter_config_last_reload_success_timestamp_seconds", kGauge,
   "Unix time of the last successful configuration (re)load."},
  {"huawei_meeting_up", kGauge,
   "1 while the meeting event push is subscribed and alive (a frame, HeartBeat echo or PONG "
   "within heartbeat_timeout), else 0."},
  {"huawei_meeting_connects_total", kCounter,
   "Successful subscriptions to the meeting event push (Subscribe answered with returnCode 0)."},
  {"huawei_meeting_connect_failures_total", kCounter,
   "Failed connect attempts by stage: control token, WebSocket token, handshake, Subscribe."},
  {"huawei_meeting_disconnects_total", kCounter,
   "Established event push connections that went away, by reason (incomplete_message: a "
   "fragmented message not completed within heartbeat_timeout)."},
  {"huawei_meeting_heartbeats_sent_total", kCounter,
   "HeartBeat frames sent to the event push server."},
  {"huawei_meeting_heartbeat_rtt_seconds", kGauge,
   "Round trip of the last answered heartbeat: from sending the HeartBeat frame and its "
   "WebSocket PING to the first answer, the HeartBeat echo or the PONG."},
  {"huawei_meeting_token_refreshes_total", kCounter,
   "Control token refreshes (GET /v1/mmc/control/conferences/token)."},
  {"huawei_meeting_messages_total", kCounter,
   "Text frames received that parsed as a JSON object with a string action, by action."},
  {"huawei_meeting_message_errors_total", kCounter,
   "Frames received and rejected, by reason."},
  {"huawei_meeting_message_items_rejected_total", kCounter,
   "List items left out of applied push frames, by reason (id_too_long: id over 64 bytes)."},
  {"huawei_meeting_last_message_timestamp_seconds", kGauge,
   "Unix time the last frame (push, HeartBeat echo or PONG) arrived from the event push "
   "server."},
  {"huawei_meeting_info", kGauge,
   "Always 1; labels from ConfBasicInfoNotify (displayID, title, confMode, media)."},
  {"huawei_meeting_start_timestamp_seconds", kGauge,
   "Meeting start time, ConfBasicInfoNotify startTime."},
  {"huawei_meeting_scheduled_start_timestamp_seconds", kGauge,
   "Scheduled start time, ConfBasicInfoNotify scheduledStartTime."},
  {"huawei_meeting_end_timestamp_seconds", kGauge,
   "Meeting end time, ConfDynamicInfoNotify endTime."},
  {"huawei_meeting_state", kGauge,
   "Meeting state from ConfDynamicInfoNotify state; 1 for the current state."},
  {"huawei_meeting_locked", kGauge, "1 if the meeting is locked, ConfDynamicInfoNotify lock."},
  {"huawei_meeting_recording", kGauge,
   "1 while the meeting is recorded, ConfDynamicInfoNotify recState."},
  {"huawei_meeting_mute_on_join", kGauge,
   "1 if participants are muted on join, ConfDynamicInfoNotify mute."},
  {"huawei_meeting_screen_share_locked", kGauge,
   "1 if screen sharing is locked, ConfDynamicInfoNotify lockSharing."},
  {"huawei_meeting_chat_forbidden", kGauge,
   "1 if chat is forbidden, ConfDynamicInfoNotify forbiddenChat."},
  {"huawei_meeting_audience_members", kGauge,
   "Webinar audience size, ConfDynamicInfoNotify audienceTotalCount."},
  {"huawei_meeting_layout_pictures", kGauge,
   "Pictures in the multi-picture layout, picNum of ConfDynamicInfoNotify or CustomMultiPicNotify."},
  {"huawei_meeting_participants", kGauge,
   "Participants in the meeting, ParticipantsNotify STATE 0."},
  {"huawei_meeting_participants_calling", kGauge,
   "Participants being called, ParticipantsNotify STATE 1."},
  {"huawei_meeting_participants_by_role", kGauge,
   "Participants in the meeting by role, ParticipantsNotify ROLE and IS_COHOST."},
  {"huawei_meeting_participants_by_client", kGauge,
   "Participants in the meeting by client type, ParticipantsNotify CLIENT_LOGIN_TYPE."},
  {"huawei_meeting_participants_muted", kGauge,
   "Participants in the meeting who are muted, ParticipantsNotify MUTE 1."},
  {"huawei_meeting_participants_video", kGauge,
   "Participants in the meeting with video, ParticipantsNotify VIDEO 1."},
  {"huawei_meeting_participants_hand_raised", kGauge,
   "Participants in the meeting with a raised hand, ParticipantsNotify HAND 1."},
  {"huawei_meeting_participants_sharing", kGauge,
   "Participants in the meeting sharing their screen, ParticipantsNotify SHARE 1."},
  {"huawei_meeting_participant_joins_total", kCounter,
   "Participant pids that appeared in ParticipantsNotify (the first snapshot counts everyone)."},
  {"huawei_meeting_participant_leaves_total", kCounter,
   "Participant pids removed from ParticipantsNotify."},
  {"huawei_meeting_participant_leave_reasons_total", kCounter,
   "Reasons participants left, from InviteResultNotify result codes."},
  {"huawei_meeting_invites_total", kCounter,
   "Invite results from InviteResultNotify, successful and failed (replays not counted)."},
  {"huawei_meeting_invite_failures_total", kCounter,
   "Failed invites from InviteResultNotify non-zero result codes, by reason."},
  {"huawei_meeting_attendees", kGauge, "Scheduled invitees, AttendeesNotify."},
  {"huawei_meeting_waiting_room_participants", kGauge,
   "Members waiting in the waiting room, WaitingListNotify."},
  {"huawei_meeting_active_speakers", kGauge,
   "Participants currently speaking, SpeakerChangeNotify."},
  {"huawei_meeting_speaker_changes_total", kCounter,
   "Changes of the active speaker set, SpeakerChangeNotify."},
  {"huawei_meeting_interpreter_groups", kGauge,
   "Interpretation groups, InterpreterGroupNotify."},
  {"huawei_meeting_network_quality_participants", kGauge,
   "Participants in the meeting per NetConditionNotify netInfo rating (lower-cased)."},
  {"huawei_meeting_participants_poor_network", kGauge,
   "Participants whose latest NetConditionNotify figures cross a configured loss, RTT or jitter threshold."},
  {"huawei_meeting_participants_over_series_limit", kGauge,
   "Participants left out of per-participant series by max_participants_per_meeting."},
  {"huawei_meeting_participant_rtt_seconds", kGauge,
   "Network round trip of a participant, NetConditionNotify delay (ms) / 1000."},
  {"huawei_meeting_participant_jitter_seconds", kGauge,
   "Jitter of a participant, NetConditionNotify jitter (upstream) and outJitter (downstream), ms / 1000."},
  {"huawei_meeting_participant_packet_loss_ratio", kGauge,
   "Packet loss of a participant, NetConditionNotify loss rates in 0.01 percent / 10000."},
  {"huawei_meeting_participant_throughput_bytes_per_second", kGauge,
   "Traffic of a participant, NetConditionNotify flux fields in 100 bit/s x 100 / 8."},
  {"huawei_meeting_participant_info", kGauge,
   "Always 1 per participant in the meeting; role and client from ParticipantsNotify."},
};
// clang-format on

constexpr SessionState kSessionStates[] = {SessionState::Waiting, SessionState::Connecting,
                                           SessionState::Subscribed, SessionState::Backoff,
                                           SessionState::Ended};
constexpr ConnectStage kStages[] = {ConnectStage::ControlToken, ConnectStage::WsToken,
                                    ConnectStage::Handshake, ConnectStage::Subscribe};
constexpr DisconnectReason kDisconnectReasons[] = {
    DisconnectReason::ServerClosed, DisconnectReason::HeartbeatTimeout, DisconnectReason::Error,
    DisconnectReason::MeetingEnded, DisconnectReason::IncompleteMessage};
constexpr RejectReason kRejectReasons[] = {RejectReason::InvalidJson, RejectReason::InvalidMessage,
                                           RejectReason::TooLarge, RejectReason::BinaryFrame};
constexpr ItemRejectReason kItemRejectReasons[] = {ItemRejectReason::IdTooLong};
constexpr Role kRoles[] = {Role::Host, Role::Cohost, Role::Participant, Role::Audience};
constexpr ClientType kClients[] = {ClientType::Desktop, ClientType::Mobile, ClientType::Pad,
                                   ClientType::Other};
constexpr MeetingPhase kPhases[] = {MeetingPhase::Scheduled, MeetingPhase::Created,
                                    MeetingPhase::Destroyed};
constexpr Media kMedia[] = {Media::Audio, Media::Video, Media::Screen};
constexpr Direction kDirections[] = {Direction::Upstream, Direction::Downstream};

double seconds(TimePoint at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

template <typename Enum>
std::size_t idx(Enum value) {
  return static_cast<std::size_t>(value);
}

// The two sinks below receive the same calls in the same order from render(); one builds
// prometheus-cpp MetricFamily structs (Collect), the other writes the text format directly
// (renderText). Labels arrive as a meeting/participant prefix plus a few extra pairs, so the
// text sink never allocates per sample.

// Accumulates samples into the fixed family list.
class FamilySink {
 public:
  FamilySink() : families_(kFamilyCount) {
    for (std::size_t i = 0; i < kFamilyCount; ++i) {
      families_[i].name = kFamilies[i].name;
      families_[i].help = kFamilies[i].help;
      families_[i].type = kFamilies[i].type;
    }
  }

  void add(Family family, std::initializer_list<LabelRef> labels, double value) {
    add(family, {}, labels, value);
  }

  void add(Family family, const std::vector<LabelRef>& prefix,
           std::initializer_list<LabelRef> labels, double value) {
    ClientMetric metric;
    metric.label.reserve(prefix.size() + labels.size());
    for (const LabelRef& label : prefix) {
      metric.label.push_back({std::string(label.name), std::string(label.value)});
    }
    for (const LabelRef& label : labels) {
      metric.label.push_back({std::string(label.name), std::string(label.value)});
    }
    if (kFamilies[family].type == MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    families_[family].metric.push_back(std::move(metric));
  }

  // Leaves out families without samples (as client_golang does).
  std::vector<MetricFamily> finish() && {
    families_.erase(std::remove_if(families_.begin(), families_.end(),
                                   [](const MetricFamily& f) { return f.metric.empty(); }),
                    families_.end());
    return std::move(families_);
  }

 private:
  std::vector<MetricFamily> families_;
};

// Writes the text format as it goes.
class TextSink {
 public:
  TextSink() : text_(kFamilyCount) {
    for (std::size_t i = 0; i < kFamilyCount; ++i) {
      text_.declare(i, kFamilies[i].name, kFamilies[i].help, kFamilies[i].type);
    }
  }

  void add(Family family, std::initializer_list<LabelRef> labels, double value) {
    text_.add(family, labels, value);
  }

  void add(Family family, const std::vector<LabelRef>& prefix,
           std::initializer_list<LabelRef> labels, double value) {
    text_.add(family, prefix, labels, value);
  }

  TextExposition& exposition() { return text_; }

 private:
  TextExposition text_;
};

template <typename Count>
double asDouble(Count count) {
  return static_cast<double>(count);
}

bool poorNetwork(const NetRecord& net, const PoorNetworkThresholds& limits) {
  if (NetRecord::has(net.rtt_seconds) && net.rtt_seconds > limits.rtt_seconds) return true;
  for (double jitter : net.jitter_seconds) {
    if (NetRecord::has(jitter) && jitter > limits.jitter_seconds) return true;
  }
  for (const auto& per_direction : net.loss_ratio) {
    for (double loss : per_direction) {
      if (NetRecord::has(loss) && loss > limits.packet_loss_ratio) return true;
    }
  }
  return false;
}

/// The network record of `pid`, walking `it` forward through the (pid-ordered) net map: the
/// callers visit participants in pid order, so the look-ups of one meeting cost one pass.
const NetRecord* netOf(const MeetingState& state,
                       std::map<std::string, NetRecord>::const_iterator& it,
                       const std::string& pid) {
  while (it != state.net.end() && it->first < pid) ++it;
  return it != state.net.end() && it->first == pid ? &it->second : nullptr;
}

template <typename Sink>
void renderSession(Sink& out, std::string_view meeting_id, const MeetingState& state) {
  const LabelRef id{"meeting_id", meeting_id};
  const auto& counters = state.counters;
  const auto& session = state.session;
  out.add(kUp, {id}, session.up ? 1 : 0);
  out.add(kConnects, {id}, asDouble(counters.connects));
  for (auto stage : kStages) {
    out.add(kConnectFailures, {id, {"stage", toLabel(stage)}},
            asDouble(counters.connect_failures[idx(stage)]));
  }
  for (auto reason : kDisconnectReasons) {
    out.add(kDisconnects, {id, {"reason", toLabel(reason)}},
            asDouble(counters.disconnects[idx(reason)]));
  }
  out.add(kHeartbeatsSent, {id}, asDouble(counters.heartbeats_sent));
  if (session.heartbeat_rtt_seconds) out.add(kHeartbeatRtt, {id}, *session.heartbeat_rtt_seconds);
  out.add(kTokenRefreshes, {id}, asDouble(counters.token_refreshes));
  for (std::size_t i = 0; i < kMessageActions.size(); ++i) {
    out.add(kMessages, {id, {"action", kMessageActions[i]}}, asDouble(counters.messages[i]));
  }
  for (auto reason : kRejectReasons) {
    out.add(kMessageErrors, {id, {"reason", toLabel(reason)}},
            asDouble(counters.message_errors[idx(reason)]));
  }
  for (auto reason : kItemRejectReasons) {
    out.add(kItemsRejected, {id, {"reason", toLabel(reason)}},
            asDouble(counters.items_rejected[idx(reason)]));
  }
  if (session.last_message_at) out.add(kLastMessage, {id}, seconds(*session.last_message_at));
}

template <typename Sink>
void renderMeeting(Sink& out, std::string_view meeting_id, const MeetingState& state) {
  const LabelRef id{"meeting_id", meeting_id};
  const auto& info = state.info;
  if (info.received) {
    out.add(kInfo,
            {id,
             {"display_id", info.display_id},
             {"title", info.title},
             {"conf_mode", info.conf_mode},
             {"media", info.media}},
            1);
  }
  if (info.start_timestamp_seconds) out.add(kStart, {id}, *info.start_timestamp_seconds);
  if (info.scheduled_start_timestamp_seconds) {
    out.add(kScheduledStart, {id}, *info.scheduled_start_timestamp_seconds);
  }
  const auto& flags = state.flags;
  if (flags.end_timestamp_seconds) out.add(kEnd, {id}, *flags.end_timestamp_seconds);
  if (flags.phase) {
    for (auto phase : kPhases) {
      out.add(kState, {id, {"state", toLabel(phase)}}, *flags.phase == phase ? 1 : 0);
    }
  }
  const auto flag = [&](Family family, const std::optional<bool>& value) {
    if (value) out.add(family, {id}, *value ? 1 : 0);
  };
  flag(kLocked, flags.locked);
  flag(kRecording, flags.recording);
  flag(kMuteOnJoin, flags.mute_on_join);
  flag(kScreenShareLocked, flags.screen_share_locked);
  flag(kChatForbidden, flags.chat_forbidden);
  if (flags.audience_members) {
    out.add(kAudienceMembers, {id}, static_cast<double>(*flags.audience_members));
  }
  if (flags.layout_pictures) {
    out.add(kLayoutPictures, {id}, static_cast<double>(*flags.layout_pictures));
  }
}

struct ParticipantTotals {
  std::size_t online = 0;
  std::size_t calling = 0;
  std::array<std::size_t, kRoleCount> by_role{};
  std::array<std::size_t, kClientTypeCount> by_client{};
  std::size_t muted = 0;
  std::size_t video = 0;
  std::size_t hand_raised = 0;
  std::size_t sharing = 0;
  std::size_t poor_network = 0;
  std::map<std::string, std::size_t> by_quality;  // normalised rating → participants
};

ParticipantTotals countParticipants(const MeetingState& state,
                                    const PoorNetworkThresholds& limits) {
  ParticipantTotals totals;
  auto net_it = state.net.begin();
  for (const auto& [pid, record] : state.participants) {
    if (record.calling) {
      ++totals.calling;
      continue;
    }
    ++totals.online;
    ++totals.by_role[idx(record.role())];
    ++totals.by_client[idx(record.client)];
    totals.muted += record.muted ? 1 : 0;
    totals.video += record.video ? 1 : 0;
    totals.hand_raised += record.hand_raised ? 1 : 0;
    totals.sharing += record.sharing ? 1 : 0;
    const NetRecord* net = netOf(state, net_it, pid);
    if (net == nullptr) continue;
    if (!net->quality.empty()) ++totals.by_quality[net->quality];
    if (poorNetwork(*net, limits)) ++totals.poor_network;
  }
  return totals;
}

template <typename Sink>
void renderParticipants(Sink& out, std::string_view meeting_id, const MeetingState& state,
                        const ParticipantTotals& totals) {
  const LabelRef id{"meeting_id", meeting_id};
  const auto& counters = state.counters;
  out.add(kParticipants, {id}, asDouble(totals.online));
  out.add(kCalling, {id}, asDouble(totals.calling));
  for (auto role : kRoles) {
    out.add(kByRole, {id, {"role", toLabel(role)}}, asDouble(totals.by_role[idx(role)]));
  }
  for (auto client : kClients) {
    out.add(kByClient, {id, {"client", toLabel(client)}}, asDouble(totals.by_client[idx(client)]));
  }
  out.add(kMuted, {id}, asDouble(totals.muted));
  out.add(kVideo, {id}, asDouble(totals.video));
  out.add(kHandRaised, {id}, asDouble(totals.hand_raised));
  out.add(kSharing, {id}, asDouble(totals.sharing));
  out.add(kJoins, {id}, asDouble(counters.participant_joins));
  out.add(kLeaves, {id}, asDouble(counters.participant_leaves));
  for (std::size_t i = 0; i < kLeaveReasonCount; ++i) {
    out.add(kLeaveReasons, {id, {"reason", toLabel(static_cast<LeaveReason>(i))}},
            asDouble(counters.leave_reasons[i]));
  }
  out.add(kInvites, {id}, asDouble(counters.invites));
  for (std::size_t i = 0; i < kInviteFailureCount; ++i) {
    out.add(kInviteFailures, {id, {"reason", toLabel(static_cast<InviteFailure>(i))}},
            asDouble(counters.invite_failures[i]));
  }
  out.add(kAttendees, {id}, asDouble(state.attendees.size()));
  out.add(kWaitingRoom, {id}, asDouble(state.waiting_room.size()));
  out.add(kActiveSpeakers, {id}, asDouble(state.speakers.size()));
  out.add(kSpeakerChanges, {id}, asDouble(counters.speaker_changes));
  out.add(kInterpreterGroups, {id}, asDouble(state.interpreter_groups.size()));
  out.add(kPoorNetwork, {id}, asDouble(totals.poor_network));
}

template <typename Sink>
void renderParticipantSeries(Sink& out, std::string_view meeting_id, const MeetingState& state,
                             const RenderOptions& options, std::size_t online) {
  std::size_t rendered = 0;
  auto net_it = state.net.begin();
  std::vector<LabelRef> labels = {{"meeting_id", meeting_id}, {"participant_id", {}}};
  for (const auto& [pid, record] : state.participants) {
    if (record.calling) continue;
    if (rendered == options.max_participants_per_meeting) break;
    ++rendered;
    labels[1].value = pid;
    const LabelRef role{"role", toLabel(record.role())};
    const LabelRef client{"client", toLabel(record.client)};
    if (options.participant_names) {
      out.add(kParticipantInfo, labels, {role, client, {"name", record.name}}, 1);
    } else {
      out.add(kParticipantInfo, labels, {role, client}, 1);
    }

    const NetRecord* found = netOf(state, net_it, pid);
    if (found == nullptr) continue;
    const auto& net = *found;
    if (NetRecord::has(net.rtt_seconds)) out.add(kParticipantRtt, labels, {}, net.rtt_seconds);
    for (auto direction : kDirections) {
      const double jitter = net.jitter_seconds[idx(direction)];
      if (NetRecord::has(jitter)) {
        out.add(kParticipantJitter, labels, {{"direction", toLabel(direction)}}, jitter);
      }
    }
    for (auto media : kMedia) {
      for (auto direction : kDirections) {
        const LabelRef media_label{"media", toLabel(media)};
        const LabelRef direction_label{"direction", toLabel(direction)};
        const double loss = net.loss_ratio[idx(media)][idx(direction)];
        if (NetRecord::has(loss)) {
          out.add(kParticipantLoss, labels, {media_label, direction_label}, loss);
        }
        const double bytes = net.throughput_bytes_per_second[idx(media)][idx(direction)];
        if (NetRecord::has(bytes)) {
          out.add(kParticipantThroughput, labels, {media_label, direction_label}, bytes);
        }
      }
    }
  }
  out.add(kOverSeriesLimit, {{"meeting_id", meeting_id}}, asDouble(online - rendered));
}

}  // namespace

Collector::Collector(std::shared_ptr<const MeetingStore> store, std::string version,
                     std::string revision, RenderOptions options)
    : store_(std::move(store)),
      version_(std::move(version)),
      revision_(std::move(revision)),
      options_(std::move(options)) {
  if (!store_) throw std::invalid_argument("Collector needs a MeetingStore");
}

void Collector::setOptions(RenderOptions options) {
  std::lock_guard<std::mutex> lock(options_mutex_);
  options_ = std::move(options);
}

std::string Collector::ratingLabel(const std::string& quality) const {
  std::lock_guard<std::mutex> lock(ratings_mutex_);
  if (quality != "other") {
    if (std::find(ratings_.begin(), ratings_.end(), quality) != ratings_.end()) return quality;
    if (ratings_.size() < kMaxRatings) {
      ratings_.push_back(quality);
      return quality;
    }
  }
  other_rating_seen_ = true;
  return "other";
}

std::vector<std::string> Collector::ratingLabels() const {
  std::lock_guard<std::mutex> lock(ratings_mutex_);
  std::vector<std::string> labels = ratings_;
  std::sort(labels.begin(), labels.end());
  if (other_rating_seen_) labels.emplace_back("other");
  return labels;
}

template <typename Sink>
void Collector::render(Sink& out) const {
  RenderOptions options;
  {
    std::lock_guard<std::mutex> lock(options_mutex_);
    options = options_;
  }
  const TimePoint now = options.now ? options.now() : std::chrono::system_clock::now();

  out.add(kBuildInfo, {{"version", version_}, {"revision", revision_}}, 1);
  const auto status = store_->exporterStatus();
  out.add(kReloadSuccessful, {}, status.config_reload_ok ? 1 : 0);
  out.add(kReloadSuccessTimestamp, {},
          status.last_reload_success_at ? seconds(*status.last_reload_success_at) : 0);

  std::array<std::size_t, kSessionStateCount> sessions{};
  // Quality counts wait until every meeting registered its ratings, so that all meetings expose
  // the same label set in this scrape.
  std::vector<std::pair<std::string, std::map<std::string, std::size_t>>> quality_counts;

  store_->forEach([&](const std::string& meeting_id, const MeetingState& state) {
    ++sessions[idx(state.session.state)];
    const auto& ended_at = state.session.ended_at;
    if (ended_at && now >= *ended_at + options.ended_meeting_retention) return;

    renderSession(out, meeting_id, state);
    renderMeeting(out, meeting_id, state);
    const auto totals = countParticipants(state, options.poor_network);
    renderParticipants(out, meeting_id, state, totals);
    std::map<std::string, std::size_t> by_label;
    for (const auto& [quality, count] : totals.by_quality) by_label[ratingLabel(quality)] += count;
    quality_counts.emplace_back(meeting_id, std::move(by_label));
    if (options.participant_series) {
      renderParticipantSeries(out, meeting_id, state, options, totals.online);
    }
  });

  for (auto state : kSessionStates) {
    out.add(kSessions, {{"state", toLabel(state)}}, asDouble(sessions[idx(state)]));
  }
  const auto labels = ratingLabels();
  for (const auto& [meeting_id, counts] : quality_counts) {
    for (const auto& label : labels) {
      auto found = counts.find(label);
      out.add(kNetworkQuality, {{"meeting_id", meeting_id}, {"quality", label}},
              asDouble(found == counts.end() ? 0 : found->second));
    }
  }
}

std::vector<MetricFamily> Collector::Collect() const {
  FamilySink out;
  render(out);
  return std::move(out).finish();
}

std::string Collector::renderText() const {
  TextSink out;
  TextExposition& text = out.exposition();
  {
    // Families sized like last time (plus an eighth) grow without copying.
    std::lock_guard<std::mutex> lock(hints_mutex_);
    for (std::size_t i = 0; i < size_hints_.size(); ++i) {
      text.reserve(i, size_hints_[i] + size_hints_[i] / 8);
    }
  }
  render(out);
  {
    std::lock_guard<std::mutex> lock(hints_mutex_);
    size_hints_.resize(kFamilyCount);
    for (std::size_t i = 0; i < kFamilyCount; ++i) size_hints_[i] = text.size(i);
  }
  return std::move(text).finish();
}

std::string renderText(const std::vector<MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace hme::metrics
