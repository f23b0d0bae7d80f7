#pragma once
/// The simulated meeting: its state, the seeded "lively" scenario that changes it, and the push
/// frames (protocol.md §4–5) that describe it. Pure: no sockets, no threads, no clocks (the
/// caller passes `now`). Frames are built with Poco::JSON, independently of the exporter's codec;
/// two pushes in three list their members in the official order (`data` first, `action` last),
/// the others envelope first.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "Poco/SharedPtr.h"

namespace Poco::JSON {
class Object;
}  // namespace Poco::JSON

namespace hme::simulator {

/// The push types of protocol.md §3, by their `action` name.
enum class PushType {
  ConfBasicInfo,
  ConfDynamicInfo,
  Participants,
  Attendees,
  SpeakerChange,
  NetCondition,
  CustomMultiPic,
  InviteResult,
  InterpreterGroup,
  NetworkQuality,
  WaitingList,
  RealTimeSubtitle,
};

/// The `action` name of a push type, e.g. "ParticipantsNotify".
const char* actionName(PushType type);

/// The push type named by `action`; nullopt for names the simulator does not know.
std::optional<PushType> pushTypeFromAction(const std::string& action);

/// Every push type, in protocol.md order.
const std::vector<PushType>& allPushTypes();

/// Describes one meeting to simulate.
struct MeetingSpec {
  std::string meeting_id;     ///< the conference ID clients pass as `conferenceID` / `confID`
  std::string host_password;  ///< accepted in `X-Password` (a secret)
  bool started = true;        ///< token calls fail while the meeting is not running
  std::string title = "Simulated meeting";
  int participants = 6;       ///< present when the meeting starts, host included (at least 1)
  int max_participants = 30;  ///< the scenario stops adding people at this many
  int attendees = 8;          ///< scheduled invitees (AttendeesNotify)
  int waiting = 1;            ///< waiting-room members when the meeting starts
  int interpreter_groups = 1;
  bool lively = true;  ///< stepped by the simulator's ticker; false: only by explicit step()
  std::chrono::milliseconds duration{0};  ///< ends this long after it starts; 0 = never
  /// Management side: who scheduled it (`scheduserName`); empty = the enterprise administrator.
  std::string scheduler;
  bool webinar = false;  ///< listed by the webinar API instead of the online list
  /// With `started` false: starts by itself this long after it is added; 0 = only startMeeting().
  std::chrono::milliseconds start_delay{0};
  /// Starts again this long after each end (a new occurrence); 0 = never.
  std::chrono::milliseconds restart_after{0};
};

/// Ground truth about one meeting, for tests to compare against what a client derived.
/// Counters cover the current run: they restart when a meeting is started again.
struct MeetingTruth {
  bool started = false;
  std::string state;             ///< ConfDynamicInfo `state`: "Created" or "Destroyed"
  std::size_t participants = 0;  ///< in the meeting (`STATE` "0")
  std::size_t calling = 0;       ///< being called (`STATE` "1")
  std::size_t hosts = 0;         ///< in the meeting with `ROLE` "1"
  std::size_t cohosts = 0;       ///< in the meeting with `ROLE` "0" and `IS_COHOST` "1"
  std::map<std::string, std::size_t> by_client;  ///< in the meeting, by `CLIENT_LOGIN_TYPE`
  std::size_t muted = 0;
  std::size_t video = 0;
  std::size_t hand_raised = 0;
  std::size_t sharing = 0;
  std::size_t attendees = 0;
  std::size_t waiting = 0;
  std::size_t speakers = 0;
  std::size_t interpreter_groups = 0;
  /// In the meeting with figures past protocol.md's poor-network defaults (loss > 5 %,
  /// delay > 300 ms or jitter > 50 ms).
  std::size_t poor_network = 0;
  std::vector<std::string> pids;       ///< every `pid` in the participant list (any STATE)
  std::vector<std::string> poor_pids;  ///< the poor_network participants
  std::uint64_t joins = 0;   ///< pids that appeared in the list (the starting ones included)
  std::uint64_t leaves = 0;  ///< pids removed from the list (left, removed, failed calls)
  /// Every InviteResultNotify item sent, by `resultCode` ("0", leave and failure codes).
  std::map<std::string, std::uint64_t> invite_results;
  std::uint64_t speaker_changes = 0;  ///< SpeakerChangeNotify pushes whose set of pids changed
  std::uint64_t steps = 0;            ///< scenario steps taken
};

/// One push frame produced by the model: its type and complete JSON text.
struct Push {
  PushType type = PushType::ConfBasicInfo;
  std::string text;
};

/// One meeting's state and scenario. Not thread-safe: the Simulator serialises all calls.
class Meeting {
 public:
  /// Creates the meeting; if `spec.started`, it starts at `now_ms` (Unix ms).
  /// Throws std::invalid_argument if the spec has no meeting_id.
  Meeting(MeetingSpec spec, std::uint64_t seed, std::int64_t now_ms);

  /// The spec it was created from.
  const MeetingSpec& spec() const { return spec_; }
  /// True while the meeting runs (token calls succeed, connections are accepted).
  bool started() const { return started_; }
  /// The guest password (in ConfBasicInfo `pwds`); a secret like the host password.
  const std::string& guestPassword() const { return guest_password_; }

  /// Starts a new run: fresh participants and counters, state "Created". No-op when running.
  void start(std::int64_t now_ms);
  /// Ends the run and returns the ConfDynamicInfoNotify "Destroyed" push. Empty when not running.
  std::vector<Push> end(std::int64_t now_ms);
  /// True when the spec's duration has passed since the run started.
  bool dueToEnd(std::int64_t now_ms) const;
  /// True when a start_delay or restart_after has passed while not running.
  bool dueToStart(std::int64_t now_ms) const;
  /// When the current (or last) run started, Unix ms.
  std::int64_t startMs() const { return start_ms_; }
  /// How many runs have started so far (the current one included).
  std::uint64_t runs() const { return runs_; }

  /// The full (msgMode 0) push of `type`, or nullopt for types with no defined state
  /// (NetworkQualityNotify: payload unknown; RealTimeSubtitleNotify: captions are events).
  std::optional<Push> snapshot(PushType type, std::int64_t now_ms);
  /// One scenario step: joins, leaves, calls, mutes, hands, sharing, speakers, network,
  /// waiting room, meeting flags, captions. Returns the resulting pushes in order.
  std::vector<Push> step(std::int64_t now_ms);

  /// The current ground truth.
  MeetingTruth truth() const;

 private:
  struct NetFigures {
    bool poor = false;
    int delay = 0, jitter = 0, out_jitter = 0;
    int loss_up = 0, loss_down = 0, video_loss_up = 0, video_loss_down = 0;
    int screen_loss_up = 0, screen_loss_down = 0;
    int flux_in = 0, flux_out = 0, video_flux_in = 0, video_flux_out = 0;
    int screen_flux_in = 0, screen_flux_out = 0;
    int bandwidth = 0;
  };
  struct Participant {
    std::string pid;
    std::string name;
    std::string tel;  ///< also the InviteResult `callNumber`
    int role = 0;     ///< 1 host, 0 participant
    bool cohost = false;
    int state = 0;  ///< 0 in the meeting, 1 being called
    bool muted = true, video = false, hand = false, share = false;
    std::string client;
    std::int64_t add_time_ms = 0;
    std::string account_id;
    std::uint64_t called_at_step = 0;
    NetFigures net;
  };
  struct WaitingMember {
    std::string pid;
    std::string name;
    std::string client;
    std::int64_t add_time_ms = 0;
  };
  struct Attendee {
    std::string user_uuid, name, phone, email, type, dept_name;
    int role = 0;
  };
  struct InviteItem {
    std::string call_number, code;
  };
  struct SpeakerItem {
    std::string pid, name;
    int volume = 0;
  };

  using JsonObject = Poco::SharedPtr<Poco::JSON::Object>;

  std::uint64_t rand(std::uint64_t bound);  // uniform in [0, bound); bound > 0
  bool chance(int percent);
  static std::string randomText(std::mt19937_64& rng, const char* alphabet, std::size_t length);
  std::string nextName();
  std::string nextTel();
  std::string pickClient();
  NetFigures makeNet(bool poor, bool sharing);
  Participant makeParticipant(int role, int state, std::int64_t now_ms);
  WaitingMember makeWaiting(std::int64_t now_ms);
  Attendee makeAttendee();
  void populate(std::int64_t now_ms);

  JsonObject envelope(PushType type, int msg_mode, std::int64_t now_ms);
  std::string pushText(const JsonObject& push);
  Push participantsPush(const std::vector<const Participant*>& items, bool full,
                        std::int64_t now_ms);
  Push participantChange(const Participant& p, const std::map<std::string, std::string>& keys,
                         std::int64_t now_ms);
  Push netPush(const std::vector<const Participant*>& items, bool full, std::int64_t now_ms);
  Push removePush(PushType type, const std::string& id, std::int64_t now_ms);
  Push invitePush(const std::vector<InviteItem>& items, bool full, std::int64_t now_ms);
  Push speakersPush(std::int64_t now_ms);
  Push waitingPush(const std::vector<const WaitingMember*>& items, bool full, std::int64_t now_ms);
  Push attendeesPush(const std::vector<const Attendee*>& items, bool full, std::int64_t now_ms);
  Push dynamicPush(const std::vector<std::string>& changed, std::int64_t now_ms);
  Push basicPush(std::int64_t now_ms);
  Push multiPicPush(std::int64_t now_ms);
  Push interpreterPush(std::int64_t now_ms);
  Push subtitlePush(const Participant& speaker, std::int64_t now_ms);

  std::vector<Participant*> inMeeting(bool include_host);
  void recordInvite(const std::string& call_number, const std::string& code, std::vector<Push>& out,
                    std::int64_t now_ms);
  void removeParticipant(const std::string& pid, std::vector<Push>& out, std::int64_t now_ms);
  void addParticipant(Participant p, std::vector<Push>& out, std::int64_t now_ms);
  void join(std::vector<Push>& out, std::int64_t now_ms);
  void leave(std::vector<Push>& out, std::int64_t now_ms);
  void resolveCalls(std::vector<Push>& out, std::int64_t now_ms);
  void waitingRoom(std::vector<Push>& out, std::int64_t now_ms);
  void toggle(const std::string& key, std::vector<Push>& out, std::int64_t now_ms);
  void toggleShare(std::vector<Push>& out, std::int64_t now_ms);
  void changeFlags(std::vector<Push>& out, std::int64_t now_ms);
  void inviteFailure(std::vector<Push>& out, std::int64_t now_ms);
  void subtitle(std::vector<Push>& out, std::int64_t now_ms);
  void addAttendee(std::vector<Push>& out, std::int64_t now_ms);
  void updateNetwork(std::vector<Push>& out, std::int64_t now_ms);
  void updateSpeakers(std::vector<Push>& out, std::int64_t now_ms);
  void speakerGone(const std::string& pid, std::vector<Push>& out, std::int64_t now_ms);

  MeetingSpec spec_;
  std::mt19937_64 rng_;     // the scenario's choices: deterministic for a seed and step count
  std::mt19937_64 id_rng_;  // msgIDs: kept apart so snapshots do not shift the scenario
  bool started_ = false;
  std::string state_ = "Schedule";
  std::string guest_password_;
  std::string org_id_;
  std::int64_t start_ms_ = 0;
  std::int64_t end_ms_ = 0;
  std::int64_t next_start_ms_ = 0;  // 0: no automatic start pending
  std::uint64_t runs_ = 0;
  std::int64_t version_ = 0;  // incremental pushes: an increasing counter per meeting
  std::uint64_t name_counter_ = 0;
  std::uint64_t tel_counter_ = 0;
  std::uint64_t pushes_serialized_ = 0;  // picks the member order of each push (pushText)
  std::map<std::string, int> flags_;     // ConfDynamicInfo integer flags (lock, recState, ...)
  std::vector<Participant> participants_;
  std::vector<WaitingMember> waiting_;
  std::vector<Attendee> attendees_;
  std::vector<InviteItem> invites_;  // history replayed in full snapshots (bounded)
  std::vector<SpeakerItem> speakers_;
  MeetingTruth counters_;  // only the counter fields are kept here
};

}  // namespace hme::simulator
