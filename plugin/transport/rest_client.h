#pragma once
/// HTTPS calls of the meeting-event-push flow (protocol.md §2): the control token and the
/// single-use WebSocket token.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "plugin/transport/result.h"
#include "plugin/transport/tls.h"
#include "secret/secret.h"

namespace hme::transport {

/// A control token (protocol.md §2.1).
struct ControlToken {
  Secret token;        ///< the control token (data.token)
  std::string ws_url;  ///< base URL of the WebSocket server (data.wsURL), e.g. "wss://host:443"
  std::int64_t expire_time_ms = 0;    ///< data.expireTime, Unix ms; 0 if absent or unparsable
  std::int64_t validity_seconds = 0;  ///< data.confTokenExpireTime; 0 if absent or unparsable
};

/// Client for the two token endpoints of one API base URL.
///
/// Each call opens its own HTTPS connection (no pooling: calls are minutes apart) and never throws.
/// Waits are bounded per stage: TCP connect ≤ timeout/2, a stalled TLS handshake ≤ ~1.5 × timeout,
/// sending ≤ timeout, the response ≤ ~timeout (Poco 1.11 TLS timing, see http_util.h).
/// Every Poco/std exception is mapped to a Failure whose detail never contains the password or a
/// token (a server message that repeats one is withheld whole). The secrets' text is taken only
/// for the request headers. Numbers in responses may arrive as JSON numbers or strings. Response
/// bodies above 1 MiB are refused (TooLarge).
/// Thread-safety: the const calls may run concurrently from several threads.
/// The process must ignore SIGPIPE: OpenSSL writes with plain send(), so a write to a connection
/// the peer has reset would otherwise kill it.
class RestClient {
 public:
  /// `api_url`: `https://host[:port][/prefix]` (the `api.url` setting).
  /// Throws std::invalid_argument if `api_url` is not an https URL with a host, or if the TLS
  /// settings cannot be loaded (e.g. an unreadable `ca_file`); the message contains no secret.
  RestClient(std::string api_url, TlsOptions tls, std::chrono::milliseconds timeout);
  ~RestClient();
  RestClient(RestClient&&) noexcept;
  RestClient& operator=(RestClient&&) noexcept;
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  /// GET /v1/mmc/control/conferences/token with X-Password and X-Login-Type: 1, plus
  /// X-Conference-Authorization when `current_token` is not empty (refresh).
  /// Failures: Rejected for 4xx (with error_code, e.g. MMC.111072065: not started, not found or
  /// wrong password alike) and, without sending anything, for a password or token containing a
  /// control character; RateLimited for 429/MMC.100000429; ServerError for 5xx; BadResponse for
  /// a body without data.wsURL or a plausible data.token (visible ASCII); plus network errors.
  Result<ControlToken> getControlToken(const std::string& meeting_id, const Secret& host_password,
                                       const Secret& current_token) const;

  /// GET /v1/mmc/control/conferences/wsToken with X-Conference-Authorization; returns the
  /// single-use webSocketToken. Failures as for getControlToken.
  Result<Secret> getWsToken(const std::string& meeting_id, const Secret& control_token) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hme::transport
