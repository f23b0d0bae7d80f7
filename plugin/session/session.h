#pragma once
/// The per-meeting session state machine: control token → wsToken → connect → Subscribe → live
/// (heartbeats, token refresh) → backoff → reconnect. Pure: no sockets, no threads, no clock of
/// its own. A runner feeds it inputs (results of the commands it executed, received frames,
/// timer ticks) together with the current `steady_clock` time and executes the commands each
/// input returns, in order.
///
/// Runner contract:
///  - Every `FetchControlToken`, `FetchWsToken` and `Connect` is answered by exactly one
///    `onControlToken`, `onWsToken`, `onConnected`/`onConnectFailed` respectively.
///  - `onFrame`/`onPong`/`onClosed` describe the connection opened by the last `Connect`. After
///    executing `CloseConnection` the runner delivers nothing more from that connection.
///  - The runner calls `onTick(now)` no later than `nextDeadline()` (calling it early or often is
///    harmless) and re-reads `nextDeadline()` after every input.
///  - Inputs that do not fit the current phase (stale results, frames after a close, anything
///    after `stop()`) are ignored and return no commands.
///
/// Time: every input takes `now` from `std::chrono::steady_clock`. Wall-clock time enters twice
/// only: `start` takes the wall time once to build Unix-millisecond frame sequences
/// (`wall_at_start + (now - steady_at_start)`, so they never go backwards when the wall clock is
/// stepped), and token expiry is passed in as a lifetime (see `tokenLifetime`).

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "metrics/events.h"
#include "plugin/protocol/decoder.h"
#include "secret/secret.h"

namespace hme::session {

/// The monotonic clock every input's `now` comes from.
using Clock = std::chrono::steady_clock;
/// A point on `Clock`.
using TimePoint = Clock::time_point;

/// Timing and subscription settings of a session; the caller maps `session.*` config onto it.
struct SessionOptions {
  std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(60)};
  /// No frame, HeartBeat echo or PONG for this long: the connection is recycled (and the
  /// transport gives up on a fragmented message unfinished for this long).
  std::chrono::milliseconds heartbeat_timeout{std::chrono::seconds(90)};
  /// No Subscribe reply and no push this long after sending Subscribe: the attempt fails at
  /// stage `subscribe` (`api.timeout`).
  std::chrono::milliseconds subscribe_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds backoff_initial{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(60)};
  /// Refresh the control token this long before it expires (at half its lifetime if the server
  /// grants less than twice this).
  std::chrono::milliseconds token_refresh_before{std::chrono::minutes(5)};
  /// After a `Destroyed` push, how long to wait for the server to close before closing ourselves.
  std::chrono::milliseconds end_grace{std::chrono::seconds(10)};
  /// Push types named in the Subscribe frame.
  std::vector<std::string> subscribe_types;
};

// ---------------------------------------------------------------------------------------------
// Commands (session → runner)
// ---------------------------------------------------------------------------------------------

/// GET the control token. `current_token` is set when refreshing (send it as
/// `X-Conference-Authorization`). Answer with `onControlToken`.
struct FetchControlToken {
  std::optional<Secret> current_token;
};

/// GET a wsToken with `control_token`. Answer with `onWsToken`.
struct FetchWsToken {
  Secret control_token;
};

/// Open the WebSocket at `ws_url` with `ws_token`. Answer with `onConnected`/`onConnectFailed`.
struct Connect {
  std::string ws_url;
  Secret ws_token;
};

/// Send a Subscribe frame (encode with the protocol encoder).
struct SendSubscribe {
  std::string sequence;  ///< 30 digits
  std::vector<std::string> types;
  Secret control_token;  ///< the raw token; the encoder forms `Basic base64(token)`
};

/// Send a HeartBeat frame with `sequence` (30 digits); its echo is matched by this sequence.
/// Always followed by a `SendPing` with the same sequence. The runner reports
/// metrics::HeartbeatSent once the frame was sent (not when the send failed).
struct SendHeartbeat {
  std::string sequence;
};

/// Send a WebSocket PING carrying `payload` (the heartbeat's sequence, 30 bytes); report its
/// PONG with `onPong`. The liveness signal that does not depend on the server echoing HeartBeat.
struct SendPing {
  std::string payload;
};

/// Close the current WebSocket (or abandon the handshake under way). Do not report `onClosed`
/// for it.
struct CloseConnection {};

/// Apply `event` to the metrics store, stamped with the current wall-clock time.
struct Report {
  metrics::EventBody event;
};

/// One thing for the runner to do.
using Command = std::variant<FetchControlToken, FetchWsToken, Connect, SendSubscribe, SendHeartbeat,
                             SendPing, CloseConnection, Report>;
/// The commands one input produced, to be executed in order.
using Commands = std::vector<Command>;

// ---------------------------------------------------------------------------------------------
// Inputs (runner → session)
// ---------------------------------------------------------------------------------------------

/// Why a REST call failed.
enum class FailureKind {
  Rejected,     ///< HTTP 4xx other than 429 (meeting not running, wrong password, bad token)
  RateLimited,  ///< HTTP 429 or `MMC.100000429`
  ServerError,  ///< HTTP 5xx, or a 2xx whose body lacks what we need
  Network,      ///< DNS, TCP, TLS or timeout
};

/// A failed REST call. `detail` is short and secret-free (e.g. "HTTP 401 MMC.111072065").
struct RequestFailure {
  FailureKind kind = FailureKind::Network;
  std::string detail;
};

/// A granted control token.
struct ControlTokenGrant {
  Secret token;
  std::string ws_url;
  /// How long the token is valid from now (see `tokenLifetime`). A refresh is scheduled at the
  /// earliest 2 s after the grant, so tiny lifetimes cannot cause a refresh loop.
  std::chrono::milliseconds lifetime{std::chrono::minutes(30)};
};

/// The answer to `FetchControlToken`.
using ControlTokenResult = std::variant<ControlTokenGrant, RequestFailure>;

/// A granted wsToken.
struct WsTokenGrant {
  Secret ws_token;
};

/// The answer to `FetchWsToken`.
using WsTokenResult = std::variant<WsTokenGrant, RequestFailure>;

/// How an established WebSocket went away (not by our `CloseConnection`).
enum class CloseCause {
  ServerClosed,   ///< close frame or orderly end of stream from the server
  FrameTooLarge,  ///< the transport refused a frame over `session.max_frame_bytes` and closed
  Error,          ///< read/write error, connection reset
  /// A fragmented message was not complete within `heartbeat_timeout` of its first fragment.
  IncompleteMessage,
};

/// The report of a closed WebSocket.
struct ClosedInfo {
  CloseCause cause = CloseCause::ServerClosed;
  std::optional<int> code;  ///< WebSocket close code, if a close frame carried one
  std::string detail;       ///< short and secret-free
};

/// The remaining validity of a control token from the token response's `expireTime` (Unix ms)
/// and `confTokenExpireTime` (seconds), given the local wall time. Takes the smaller of the
/// plausible values (in (0, 24 h]), so clock skew can only make us refresh early; 30 minutes
/// if neither is plausible. Pure; never throws.
std::chrono::milliseconds tokenLifetime(std::optional<std::int64_t> expire_time_ms,
                                        std::optional<std::int64_t> valid_seconds,
                                        metrics::TimePoint wall_now);

/// The upper bound of the full-jitter backoff after `attempt` consecutive failures:
/// min(max, initial · 2^attempt). Pure; never throws.
std::chrono::milliseconds backoffCap(std::chrono::milliseconds initial,
                                     std::chrono::milliseconds max, unsigned attempt);

// ---------------------------------------------------------------------------------------------
// Status page
// ---------------------------------------------------------------------------------------------

/// What the status page shows about one session. Contains no secrets.
struct StatusView {
  metrics::SessionState state = metrics::SessionState::Connecting;
  bool up = false;
  const char* activity = "";  ///< what the session is doing now, e.g. "fetching control token"
  unsigned attempt = 0;       ///< consecutive failed attempts
  std::optional<std::chrono::seconds> next_retry_in;  ///< rounded up; set while waiting to retry
  /// When the retry is due (set with next_retry_in), so a later reader can count down itself.
  std::optional<TimePoint> retry_at;
  std::string last_error;  ///< empty if none yet
};

/// One line for the status page, e.g.
/// "backoff (waiting to retry), attempt 3, next retry in 12 s, last error: control_token: HTTP
/// 429". Plain text (the caller escapes it for HTML). Never throws except std::bad_alloc.
std::string toText(const StatusView& status);

// ---------------------------------------------------------------------------------------------
// The state machine
// ---------------------------------------------------------------------------------------------

/// One meeting's session. Not thread-safe: one owner drives it. Methods never throw except
/// std::bad_alloc.
class Session {
 public:
  /// `seed` seeds the backoff jitter, so tests are reproducible.
  Session(std::string meeting_id, SessionOptions options, std::uint64_t seed);

  /// The meeting this session is for.
  const std::string& meetingId() const { return meeting_id_; }

  /// Begins: reports state `connecting` and fetches a control token. Only the first call counts.
  Commands start(TimePoint now, metrics::TimePoint wall_now);
  /// Ends the session: `CloseConnection` if connected or connecting; afterwards every input is
  /// ignored. Reports nothing: the caller drops the meeting's series itself.
  Commands stop();

  /// The answer to `FetchControlToken`.
  Commands onControlToken(TimePoint now, const ControlTokenResult& result);
  /// The answer to `FetchWsToken`.
  Commands onWsToken(TimePoint now, const WsTokenResult& result);
  /// The WebSocket handshake of the last `Connect` succeeded.
  Commands onConnected(TimePoint now);
  /// The last `Connect` failed; `detail` is short and secret-free.
  Commands onConnectFailed(TimePoint now, const std::string& detail);
  /// A frame arrived on the current connection, already decoded (a binary frame is passed as a
  /// `Rejection{BinaryFrame}`). The session reports FrameReceived/FrameRejected and the push
  /// events itself, so the runner applies nothing from the frame directly. Frames arriving while
  /// no connection is current are dropped uncounted. Takes the frame by value: its push event is
  /// moved into the Report, so pass an rvalue to avoid copying it.
  Commands onFrame(TimePoint now, protocol::Decoded frame);
  /// A WebSocket PONG with `payload` arrived on the current connection: counts as a sign of
  /// life, and answers the outstanding heartbeat whose sequence it carries (RTT).
  Commands onPong(TimePoint now, const std::string& payload);
  /// The current connection went away without our `CloseConnection`.
  Commands onClosed(TimePoint now, const ClosedInfo& info);
  /// Timers: retry, heartbeat, heartbeat timeout, token refresh, Subscribe timeout.
  Commands onTick(TimePoint now);

  /// When `onTick` must be called next; empty while only waiting for a command's answer.
  std::optional<TimePoint> nextDeadline() const;

  /// The state as last reported (the `state` label of huawei_meeting_exporter_sessions).
  metrics::SessionState state() const { return state_; }
  /// huawei_meeting_up as last reported.
  bool up() const { return up_; }
  /// A snapshot for the status page.
  StatusView status(TimePoint now) const;

 private:
  enum class Phase {
    Idle,                 // before start()
    Retrying,             // waiting for retry_at_
    AwaitControlToken,    // a connect attempt needs a control token
    AwaitWsToken,         //
    AwaitConnect,         //
    AwaitSubscribeReply,  // connected, Subscribe sent
    Live,                 // subscribed: Subscribe reply with returnCode 0, or the first push
    Ending,               // `Destroyed` seen: waiting for the server to close
    Stopped,
  };

  struct CachedToken {
    Secret token;
    std::string ws_url;
    TimePoint refresh_at;
    TimePoint expires_at;
  };

  struct OutstandingHeartbeat {
    std::string sequence;
    TimePoint sent_at;
  };

  static const char* activityName(Phase phase);
  void setState(Commands& out, metrics::SessionState state, bool up);
  void beginAttempt(Commands& out, TimePoint now);
  void scheduleRetry(Commands& out, TimePoint now, metrics::SessionState shown);
  void dropConnection(Commands& out, TimePoint now, metrics::DisconnectReason reason,
                      const std::string& detail, bool close);
  void failAttempt(Commands& out, TimePoint now, metrics::ConnectStage stage,
                   const std::string& detail, metrics::SessionState shown);
  void cacheToken(TimePoint now, const ControlTokenGrant& grant);
  void goLive(Commands& out, TimePoint now);
  void onHeartbeatAnswer(Commands& out, TimePoint now, const std::string& sequence);
  void tickLive(Commands& out, TimePoint now);
  std::chrono::milliseconds jitter(std::chrono::milliseconds cap);
  std::string nextSequence(TimePoint now);

  std::string meeting_id_;
  SessionOptions options_;
  std::mt19937_64 rng_;

  Phase phase_ = Phase::Idle;
  metrics::SessionState state_ = metrics::SessionState::Connecting;
  bool up_ = false;
  bool state_reported_ = false;
  unsigned attempt_ = 0;
  TimePoint retry_at_{};
  std::string last_error_;

  std::optional<CachedToken> token_;
  Secret attempt_token_;        // the control token of the current connect attempt
  std::string attempt_ws_url_;  // and its WebSocket base URL
  bool control_fetch_in_flight_ = false;
  bool control_fetch_is_refresh_ = false;
  unsigned refresh_attempt_ = 0;
  std::optional<TimePoint> refresh_retry_at_;

  TimePoint subscribe_deadline_{};
  TimePoint end_deadline_{};
  TimePoint last_activity_{};
  TimePoint next_heartbeat_at_{};
  std::vector<OutstandingHeartbeat> outstanding_;
  bool stable_ = false;

  TimePoint steady_origin_{};
  std::int64_t wall_origin_ms_ = 0;
  std::int64_t last_sequence_ms_ = 0;
};

}  // namespace hme::session
