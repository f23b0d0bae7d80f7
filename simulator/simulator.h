#pragma once
/// A faithful local Huawei Cloud Meeting server (protocol.md): one HTTPS port serving the two
/// token calls and the WSS push channel (plus, when enabled, the management API of
/// discovery.md), a seeded scenario that keeps the meetings lively, fault hooks and
/// observations for tests. Used in-process by the exporter's `--demo` mode and by the
/// integration tests, and standalone by `huawei_meeting_simulator`.
///
/// Every public method is thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "simulator/management.h"
#include "simulator/meeting.h"

namespace hme::simulator {

/// How a WebSocket upgrade with a bad, used or expired `tmpToken` is refused (protocol.md §1:
/// [unknown] for the real service, so both are available).
enum class WsRejectMode {
  HttpStatus,  ///< answer the upgrade request with `ws_reject_status` and an error body
  CloseFrame,  ///< complete the upgrade, then send a close frame (`ws_reject_close_code`)
};

/// How the push server deviates from the documented examples (protocol.md §3), to play servers
/// the exporter must survive. The defaults are the documented behaviour.
struct ServerProfile {
  /// false ("no Subscribe answer"): a Subscribe frame is never answered; an accepted one still
  /// starts the pushes, a refused one only closes the connection.
  bool answer_subscribe = true;
  /// false ("no HeartBeat echo"): HeartBeat frames are not echoed (PING is still answered).
  bool echo_heartbeat = true;
  /// true ("stalled fragment"): after the snapshots of an accepted Subscribe, the connection
  /// opens a fragmented text message it never finishes and from then on sends nothing but a
  /// PING every `stall_ping_interval` (and PONGs to the client's PINGs).
  bool stalled_fragment = false;
  std::chrono::milliseconds stall_ping_interval{1000};
};

/// Server configuration. Defaults follow protocol.md.
struct SimulatorOptions {
  std::string host = "127.0.0.1";  ///< bind address
  std::uint16_t port = 0;          ///< 0: an ephemeral port (see Simulator::port())
  std::string cert_file;           ///< server certificate (PEM); required
  std::string key_file;            ///< its private key (PEM); required
  std::string ws_host;             ///< host in `data.wsURL`; empty: `host`
  /// Port in `data.wsURL`; 0: the bound port. Another server's port sends clients' push
  /// connections there (e.g. a push host with another certificate).
  std::uint16_t ws_port = 0;
  /// Host in apiUrl(); empty: `host`. With a certificate that names DNS hosts only (pki.h
  /// dnsOnlyPkiOptions, the "raw-IP push URL with a DNS-only certificate" profile), `localhost`
  /// here keeps the REST host verifiable while the wsURL stays the raw IP address `host`.
  std::string api_host;
  /// Profile "trickling REST body": the two token endpoints send their status line and headers
  /// at once, then the body one byte per this interval (stop() ends a trickle early); 0: the
  /// whole body at once.
  std::chrono::milliseconds rest_body_trickle{0};
  std::chrono::seconds control_token_lifetime{1800};
  std::chrono::seconds ws_token_lifetime{60};
  std::chrono::milliseconds silence_timeout{180000};  ///< no client frame this long: close
  std::chrono::milliseconds tick{1000};  ///< one scenario step per lively meeting; 0: manual
  std::uint64_t seed = 1;                ///< scenario seed
  int auth_failure_status = 400;         ///< token call: wrong password, unknown or idle meeting
  WsRejectMode ws_reject = WsRejectMode::HttpStatus;
  int ws_reject_status = 401;
  std::uint16_t ws_reject_close_code = 1008;
  int subscribe_failure_code = 111070004;  ///< `returnCode` of a refused Subscribe
  int max_connections = 512;               ///< server threads; each open WebSocket holds one
  int max_client_frame_bytes = 65536;      ///< larger client frames close the connection
  ManagementOptions management;            ///< enterprise management API (off by default)
  ServerProfile profile;                   ///< deviations from the documented push server
};

/// Which token endpoint a refusal applies to.
enum class TokenEndpoint { Control, WebSocket, Both };

/// A scripted failure of token calls (e.g. flow control: 429 with `MMC.100000429`).
struct TokenRefusal {
  TokenEndpoint endpoint = TokenEndpoint::Both;
  int status = 429;
  std::string error_code = "MMC.100000429";
  std::string error_msg = "FLOW_CONTROL";
  int count = 1;  ///< calls to refuse; 0: until clearTokenRefusals()
};

/// How dropConnections() ends connections.
enum class DropMode {
  TcpClose,    ///< close the socket without a WebSocket close frame
  CloseFrame,  ///< send a close frame with the given code, then close
};

/// One REST call or WebSocket upgrade the server handled, in arrival order.
struct RestCall {
  enum class Kind { ControlToken, WsToken, Upgrade, Other };
  Kind kind = Kind::Other;
  std::string meeting_id;  ///< `conferenceID` / `confID` as sent
  int status = 0;          ///< HTTP status answered (101 for a completed upgrade)
  bool accepted = false;   ///< the call succeeded (a token issued, a connection admitted)
  std::chrono::system_clock::time_point at;
};

/// What the server saw of one meeting's clients. The lists keep the latest 100000 entries.
struct MeetingObservations {
  std::vector<std::chrono::system_clock::time_point> heartbeats;  ///< HeartBeat frames received
  std::vector<std::string> subscribe_frames;                      ///< raw Subscribe frame texts
  std::size_t control_tokens_issued = 0;    ///< successful token calls (refreshes included)
  std::size_t control_token_refreshes = 0;  ///< those that carried X-Conference-Authorization
  std::size_t ws_tokens_issued = 0;
  std::size_t ws_tokens_used = 0;        ///< tmpTokens presented at a successful upgrade
  std::size_t connections_accepted = 0;  ///< WebSocket upgrades completed
  std::size_t connections_open = 0;
  std::size_t subscribes_accepted = 0;  ///< Subscribe frames answered with returnCode 0
  std::size_t subscribes_rejected = 0;
  std::size_t pongs_received = 0;       ///< PONG frames received (answers to sendPing())
  std::size_t pings_received = 0;       ///< PING frames received (answered with PONG)
  std::size_t fragments_stalled = 0;    ///< messages opened and never finished (profile)
  std::size_t client_frame_errors = 0;  ///< client frames that were not JSON objects
};

/// The simulated server. Construct, add meetings, start(); stop() (or the destructor) closes
/// every connection and joins every thread.
class Simulator {
 public:
  /// Stores the options; nothing listens until start().
  explicit Simulator(SimulatorOptions options);
  /// Calls stop().
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  /// Adds a meeting (before or after start()). Throws std::invalid_argument for an empty or
  /// duplicate meeting_id.
  void addMeeting(const MeetingSpec& spec);
  /// Binds, loads the TLS material and starts serving and ticking. Throws Poco::Exception (or
  /// a subclass) if the certificate cannot be loaded or the address cannot be bound, and
  /// std::logic_error if already started.
  void start();
  /// Closes all connections (close frame 1001), stops the server and the ticker, joins all
  /// threads. Idempotent.
  void stop();

  /// The bound port (valid after start()).
  std::uint16_t port() const;
  /// `https://<api_host or host>:<port>`: the `api.url` a client is configured with.
  std::string apiUrl() const;
  /// `wss://<ws_host>:<ws_port or port>`: the `data.wsURL` handed out by the token call.
  std::string wsUrl() const;
  /// IDs of all meetings, sorted.
  std::vector<std::string> meetingIds() const;
  /// The management side (enterprise API, webhooks): its switches and observations.
  Management& management();

  // --- Scenario ------------------------------------------------------------------------------

  /// Runs one scenario step of a meeting now (lively or not) and pushes the result.
  /// Returns false if the meeting is unknown or not running.
  bool step(const std::string& meeting_id);
  /// The meeting's ground truth, or nullopt if unknown.
  std::optional<MeetingTruth> truth(const std::string& meeting_id) const;
  /// Starts (or restarts, with fresh participants) a meeting. False if unknown.
  bool startMeeting(const std::string& meeting_id);
  /// Ends a running meeting: ConfDynamicInfoNotify "Destroyed" to subscribers, close frame
  /// 1000, its tokens invalidated, token calls refused until startMeeting(). False if unknown
  /// or not running.
  bool endMeeting(const std::string& meeting_id);

  // --- Faults --------------------------------------------------------------------------------

  /// Ends every open connection of a meeting.
  void dropConnections(const std::string& meeting_id, DropMode mode,
                       std::uint16_t close_code = 1000);
  /// Silent: the meeting's connections (open and future) stop reading and writing, leaving
  /// the client with a half-open socket; drop and close commands still act, and the silence
  /// timeout still closes them. false: back to normal. Returns once the open connections
  /// have stopped reading (so a frame the caller sends next is not answered).
  void setSilent(const std::string& meeting_id, bool silent);
  /// Refuses token calls as described (replaces an earlier refusal of the same endpoint).
  void refuseTokenCalls(const TokenRefusal& refusal);
  /// Removes all token refusals.
  void clearTokenRefusals();
  /// Makes the meeting's control tokens ("" = every meeting's) expire now.
  void expireControlTokens(const std::string& meeting_id = "");
  /// The meeting's next Subscribe is answered with `return_code` and the connection closed.
  void rejectNextSubscribe(const std::string& meeting_id, int return_code = 111070004);
  /// Sends a text frame to each open connection of the meeting.
  void sendText(const std::string& meeting_id, const std::string& text);
  /// Flood mode (benchmarks): sends `text` `count` times back to back to each open connection
  /// of the meeting, from the connection's own thread. Writes block while the client is behind,
  /// so the rate is whatever the client absorbs; client frames are read after the flood.
  void flood(const std::string& meeting_id, const std::string& text, std::size_t count);
  /// Sends a binary frame to each open connection of the meeting.
  void sendBinary(const std::string& meeting_id, const std::string& bytes);
  /// Sends a valid JSON text frame of exactly `bytes` bytes (at least 64).
  void sendOversized(const std::string& meeting_id, std::size_t bytes);
  /// Sends a text frame that is not valid JSON.
  void sendMalformed(const std::string& meeting_id);
  /// Sends a PING frame with `payload`; answers are counted in pongs_received.
  void sendPing(const std::string& meeting_id, const std::string& payload = "hme");
  /// Changes the silence timeout for open and future connections.
  void setSilenceTimeout(std::chrono::milliseconds timeout);

  // --- Observations --------------------------------------------------------------------------

  /// Every token call and upgrade, in arrival order (the latest 100000).
  std::vector<RestCall> restCalls() const;
  /// What the server saw of a meeting's clients (empty for an unknown meeting).
  MeetingObservations observations(const std::string& meeting_id) const;
  /// The SNI host name of every TLS handshake, in arrival order ("" when the client sent none;
  /// the latest 100000).
  std::vector<std::string> tlsServerNames() const;
  /// Every secret the simulator issued or accepted: host and guest passwords, control tokens,
  /// WebSocket tokens and the other token-like fields it handed out. Tests search logs,
  /// metrics and pages for these (and for `Basic ` + base64 of the tokens). Keeps the latest
  /// 100000.
  std::vector<std::string> secrets() const;
  /// Waits until `predicate` returns true, re-evaluating it whenever the simulator's state
  /// changes (a call, frame, connection, step or fault) and at least every 50 ms. Returns
  /// false on timeout. The predicate may call the methods above.
  bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hme::simulator
