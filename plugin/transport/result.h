#pragma once
/// The transport's error model: every network problem comes back as data (a `Failure`), never as
/// an exception, so the session state machine can decide what to do (back off, wait, reconnect).

#include <string>
#include <utility>
#include <variant>

namespace hme::transport {

/// What went wrong, coarse enough for a backoff decision and a metric label.
enum class TransportError {
  Timeout,            ///< the peer did not answer within the configured timeout
  ConnectionRefused,  ///< nothing listens at the address (TCP RST on connect)
  Tls,                ///< TLS handshake or certificate verification failed, or bad TLS settings
  RateLimited,        ///< HTTP 429 or error code MMC.100000429: back off
  ServerError,        ///< HTTP 5xx
  Rejected,       ///< other HTTP 4xx: meeting not started / not found / wrong password (one code)
  BadResponse,    ///< the server answered, but not with what the protocol says (or a bad URL)
  Closed,         ///< the peer closed or dropped the connection, or it was already unusable
  TooLarge,       ///< a response body or WebSocket message exceeded the configured limit
  ProtocolError,  ///< a WebSocket protocol violation (bad opcode, bad fragmentation, stall)
  Io,             ///< any other network or local I/O error (DNS, socket errors)
};

/// Stable lower-case name of `error`, e.g. "rate_limited", usable as a metric label value.
/// Thread-safe; never throws.
const char* toString(TransportError error) noexcept;

/// One failed transport operation. Never contains a password or token (the transport scrubs
/// every secret it knows from `detail`; server-provided text is truncated and sanitized).
struct Failure {
  TransportError error = TransportError::Io;
  int http_status = 0;     ///< HTTP status if the server answered, else 0
  std::string error_code;  ///< Huawei error code from the body (e.g. "MMC.111072065"), may be empty
  std::string detail;      ///< short human-readable cause, secret-free, at most ~200 characters

  /// True for transient conditions where the same call may succeed soon (timeouts, refused or
  /// dropped connections, rate limiting, 5xx, oversized or malformed frames after a reconnect).
  /// False for Tls, Rejected and BadResponse: repeating soon most likely fails the same way
  /// (configuration, credentials or meeting state), so callers retry at the slow end of backoff.
  bool retryable() const noexcept;
};

/// Either a value of type T or a Failure (a minimal `expected<T, Failure>`).
///
/// Construct implicitly from a T or a Failure. Check `ok()` before `value()`; `value()` on a
/// failure and `failure()` on a success throw std::bad_variant_access (a programming error).
/// Not thread-safe beyond the usual const-is-shareable rule.
template <class T>
class Result {
 public:
  /// A successful result holding `value`.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
  /// A failed result.
  Result(Failure failure) : state_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT

  /// True if this holds a value.
  bool ok() const noexcept { return state_.index() == 0; }
  /// Same as ok().
  explicit operator bool() const noexcept { return ok(); }

  /// The value. Throws std::bad_variant_access if this holds a Failure.
  T& value() & { return std::get<0>(state_); }
  /// The value. Throws std::bad_variant_access if this holds a Failure.
  const T& value() const& { return std::get<0>(state_); }
  /// The value, moved out. Throws std::bad_variant_access if this holds a Failure.
  T&& value() && { return std::get<0>(std::move(state_)); }

  /// The failure. Throws std::bad_variant_access if this holds a value.
  const Failure& failure() const { return std::get<1>(state_); }

 private:
  std::variant<T, Failure> state_;
};

/// Success-or-Failure for operations without a value (e.g. WsConnection::send).
template <>
class Result<void> {
 public:
  /// A success.
  Result() = default;
  /// A failed result.
  Result(Failure failure) : state_(std::move(failure)) {}  // NOLINT implicit

  /// True on success.
  bool ok() const noexcept { return state_.index() == 0; }
  /// Same as ok().
  explicit operator bool() const noexcept { return ok(); }
  /// The failure. Throws std::bad_variant_access on success.
  const Failure& failure() const { return std::get<1>(state_); }

 private:
  std::variant<std::monostate, Failure> state_;
};

}  // namespace hme::transport
