#pragma once
/// Domain events: everything that can change what the exporter knows about one meeting.
///
/// Two producers feed these into `reduce` (metrics/reduce.h):
///  - plugin/protocol decodes push frames into the *message events* (ConfBasicInfo … Subtitle);
///  - plugin/session reports the *session events* (SessionStateChanged … FrameRejected).
/// Events carry values as they came off the wire (milliseconds, 0.01 %, 100 bit/s); `reduce`
/// converts them to base units. Nothing here knows about sockets, JSON or Prometheus.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hme::metrics {

/// Wall-clock time used in events and snapshots.
using TimePoint = std::chrono::system_clock::time_point;

// ---------------------------------------------------------------------------------------------
// Message events (decoded from server push frames)
// ---------------------------------------------------------------------------------------------

/// ConfBasicInfoNotify: descriptive fields of the meeting. Absent fields stay unset.
struct ConfBasicInfo {
  std::optional<std::string> display_id;
  std::optional<std::string> title;
  std::optional<std::int64_t> start_time_ms;            ///< `startTime`, Unix ms
  std::optional<std::int64_t> scheduled_start_time_ms;  ///< `scheduledStartTime`, Unix ms
  std::optional<std::string> conf_mode;                 ///< `confMode` as sent (`COMMON`, `RTC`)
  std::optional<int> media;                             ///< `media`: 1 voice, 2 video
};

/// ConfDynamicInfoNotify: changing meeting flags. An incremental message sets only what it carries.
struct ConfDynamicInfo {
  std::optional<std::string> state;  ///< `Schedule` | `Created` | `Destroyed` (as sent)
  std::optional<std::int64_t> end_time_ms;
  std::optional<int> lock;
  std::optional<int> mute;  ///< mute on join
  std::optional<int> lock_sharing;
  std::optional<int> rec_state;
  std::optional<int> forbidden_chat;
  std::optional<std::int64_t> audience_total_count;
  std::optional<std::int64_t> pic_num;
};

/// The `CLIENT_LOGIN_TYPE` of a participant, normalised.
enum class ClientType { Desktop, Mobile, Pad, Other };

/// A partial participant record: only the `pinfoMap` keys the message carried are set.
struct ParticipantFields {
  std::optional<std::string> name;  ///< `NAME` (personal data: a label only when opted in)
  std::optional<int> role;          ///< `ROLE`: 1 host, 0 participant, 2 audience
  std::optional<int> state;         ///< `STATE`: 0 in meeting, 1 being called
  std::optional<bool> muted;        ///< `MUTE` "1"
  std::optional<bool> video;        ///< `VIDEO` "1"
  std::optional<bool> hand_raised;  ///< `HAND` "1"
  std::optional<bool> sharing;      ///< `SHARE` "1"
  std::optional<bool> is_cohost;    ///< `IS_COHOST` "1"
  std::optional<ClientType> client;
};

/// One item of a list push: add/update (`mode` 0) or remove (`mode` 1).
enum class ItemMode { Upsert, Remove };

/// One ParticipantsNotify item.
struct ParticipantChange {
  std::string pid;
  ItemMode mode = ItemMode::Upsert;
  ParticipantFields fields;
};

/// ParticipantsNotify. `full` (msgMode 0): the list is the whole current state.
struct ParticipantsUpdate {
  bool full = false;
  std::vector<ParticipantChange> items;
};

/// One AttendeesNotify item (a scheduled invitee), keyed by the first non-empty of
/// `participantID`, `userUUID`, `phone`, `email`, `name`.
struct AttendeeChange {
  std::string key;
  ItemMode mode = ItemMode::Upsert;
};

/// AttendeesNotify.
struct AttendeesUpdate {
  bool full = false;
  std::vector<AttendeeChange> items;
};

/// One loud participant of SpeakerChangeNotify.
struct Speaker {
  std::string pid;
  double volume = 0;
};

/// SpeakerChangeNotify: the whole current speaker set (empty = nobody speaking).
struct SpeakersUpdate {
  std::vector<Speaker> speakers;
};

/// Per-participant media figures in wire units. Absent fields stay unset (incremental pushes).
struct NetFigures {
  std::optional<std::string> net_info;  ///< quality rating as sent, e.g. "good"
  std::optional<double> delay_ms;
  std::optional<double> jitter_up_ms;    ///< `jitter`
  std::optional<double> jitter_down_ms;  ///< `outJitter`
  // Loss in units of 0.01 % (1000 = 10 %).
  std::optional<double> audio_loss_up;     ///< `lostPacketRate`
  std::optional<double> audio_loss_down;   ///< `audioOutLossPacketRate`
  std::optional<double> video_loss_up;     ///< `videoInLossPacketRate`
  std::optional<double> video_loss_down;   ///< `videoOutLossPacketRate`
  std::optional<double> screen_loss_up;    ///< `assistVideoInLossPacketRate`
  std::optional<double> screen_loss_down;  ///< `assistVideoOutLossPacketRate`
  // Traffic in units of 100 bit/s.
  std::optional<double> audio_flux_up;     ///< `fluxOut` (terminal → server; inverted naming)
  std::optional<double> audio_flux_down;   ///< `fluxIn`
  std::optional<double> video_flux_up;     ///< `videoFluxOut`
  std::optional<double> video_flux_down;   ///< `videoFluxIn`
  std::optional<double> screen_flux_up;    ///< `assistVideoFluxOut`
  std::optional<double> screen_flux_down;  ///< `assistVideoFluxIn`
};

/// One NetConditionNotify (or understood NetworkQualityNotify) item.
struct NetConditionChange {
  std::string pid;  ///< `participantID` (or `pid`)
  ItemMode mode = ItemMode::Upsert;
  NetFigures figures;
};

/// NetConditionNotify, or a NetworkQualityNotify whose items have the same shape.
struct NetConditionUpdate {
  bool full = false;
  std::vector<NetConditionChange> items;
};

/// One InviteResultNotify item: `resultCode` (or `errorCode`) as sent; "0" = invite succeeded.
struct InviteResult {
  std::string call_number;
  std::string code;
};

/// InviteResultNotify. `full` marks a msgMode 0 message (a replay after re-subscribe).
struct InviteResults {
  bool full = false;
  std::vector<InviteResult> items;
};

/// One WaitingListNotify item.
struct WaitingChange {
  std::string pid;
  ItemMode mode = ItemMode::Upsert;
  std::optional<int> waiting_state;  ///< `WAITINGSTATE`: 0 waiting, 1 admitted
};

/// WaitingListNotify.
struct WaitingListUpdate {
  bool full = false;
  std::vector<WaitingChange> items;
};

/// InterpreterGroupNotify: the current interpretation groups, by `groupId`.
struct InterpreterGroupsUpdate {
  bool full = true;
  std::vector<std::string> group_ids;
};

/// CustomMultiPicNotify: only the picture count is used.
struct CustomMultiPic {
  std::optional<std::int64_t> pic_num;
};

/// A frame that is counted but carries nothing the metrics use (RealTimeSubtitleNotify,
/// a NetworkQualityNotify of unknown shape, an unknown action).
struct CountedOnly {};

// ---------------------------------------------------------------------------------------------
// Session events (reported by plugin/session about the connection)
// ---------------------------------------------------------------------------------------------

/// Where a meeting's session is; also the `state` label of huawei_meeting_exporter_sessions.
enum class SessionState { Waiting, Connecting, Subscribed, Backoff, Ended };

/// Stage label of huawei_meeting_connect_failures_total.
enum class ConnectStage { ControlToken, WsToken, Handshake, Subscribe };

/// Reason label of huawei_meeting_disconnects_total.
/// `IncompleteMessage`: a message's fragments did not complete within `heartbeat_timeout`.
enum class DisconnectReason {
  ServerClosed,
  HeartbeatTimeout,
  Error,
  MeetingEnded,
  IncompleteMessage
};

/// Reason label of huawei_meeting_message_errors_total.
enum class RejectReason { InvalidJson, InvalidMessage, TooLarge, BinaryFrame };

/// The session moved to `state`; `up` is huawei_meeting_up from now on.
struct SessionStateChanged {
  SessionState state = SessionState::Waiting;
  bool up = false;
};

/// A Subscribe was answered with returnCode 0 (huawei_meeting_connects_total).
struct Subscribed {};

/// A connect attempt failed. `detail` is a short, secret-free text for the status page
/// (e.g. "HTTP 401 MMC.111072065").
struct ConnectFailed {
  ConnectStage stage = ConnectStage::ControlToken;
  std::string detail;
};

/// An established connection went away.
struct Disconnected {
  DisconnectReason reason = DisconnectReason::Error;
  std::string detail;
};

/// A HeartBeat frame was sent.
struct HeartbeatSent {};

/// The first answer to an outstanding heartbeat (its HeartBeat echo or the PONG to the PING
/// sent with it) arrived `rtt_seconds` after the heartbeat was sent.
struct HeartbeatAnswered {
  double rtt_seconds = 0;
};

/// The control token was refreshed.
struct TokenRefreshed {};

/// A text frame parsed as a JSON object with a string `action` (huawei_meeting_messages_total).
/// `action` is the label value: a known type name, `HeartBeat`, `Subscribe`, or `unknown`.
struct FrameReceived {
  std::string action;
};

/// A WebSocket PONG arrived (huawei_meeting_last_message_timestamp_seconds counts it as a frame).
struct PongReceived {};

/// A frame was rejected (huawei_meeting_message_errors_total).
struct FrameRejected {
  RejectReason reason = RejectReason::InvalidJson;
};

/// Any event the reducer understands.
using EventBody =
    std::variant<ConfBasicInfo, ConfDynamicInfo, ParticipantsUpdate, AttendeesUpdate,
                 SpeakersUpdate, NetConditionUpdate, InviteResults, WaitingListUpdate,
                 InterpreterGroupsUpdate, CustomMultiPic, CountedOnly, SessionStateChanged,
                 Subscribed, ConnectFailed, Disconnected, HeartbeatSent, HeartbeatAnswered,
                 TokenRefreshed, FrameReceived, PongReceived, FrameRejected>;

/// An event with the wall-clock time it happened (frames: when the frame arrived).
struct Event {
  TimePoint at;
  EventBody body;
};

/// Label value of a session state (`waiting`, `connecting`, `subscribed`, `backoff`, `ended`).
const char* toLabel(SessionState state);
/// Label value of a connect stage (`control_token`, `ws_token`, `handshake`, `subscribe`).
const char* toLabel(ConnectStage stage);
/// Label value of a disconnect reason (`server_closed`, …, `incomplete_message`).
const char* toLabel(DisconnectReason reason);
/// Label value of a reject reason (`invalid_json`, `invalid_message`, `too_large`, `binary_frame`).
const char* toLabel(RejectReason reason);

}  // namespace hme::metrics
