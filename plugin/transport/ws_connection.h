#pragma once
/// The meeting-event WebSocket (protocol.md §1 step 3): one TLS connection carrying JSON text
/// frames, with PING answered, fragments reassembled and every failure returned as data.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "plugin/transport/result.h"
#include "plugin/transport/tls.h"
#include "secret/secret.h"

namespace hme::transport {

/// A complete text message (fragments reassembled).
struct WsText {
  std::string text;
};

/// A complete binary message: not part of the protocol, reported so it can be counted. The
/// connection stays usable.
struct WsBinary {
  std::size_t bytes = 0;
};

/// Nothing complete arrived within the receive timeout (or the wait was woken): normal, the
/// caller uses it to tick. A message whose fragments are still arriving is kept for the next
/// receive().
struct WsTimeout {};

/// A PONG arrived (the answer to sendPing, or an unsolicited one). The connection stays usable.
struct WsPong {
  std::string payload;  ///< at most 125 bytes, as the peer sent it
};

/// A fragmented message was not complete within WsOptions::message_timeout of its first
/// fragment: the peer holds the connection without delivering. The connection is no longer
/// usable.
struct WsIncompleteMessage {
  std::size_t bytes_received = 0;  ///< of the unfinished message
};

/// The peer closed the connection: with a close frame (its status code and reason), or by
/// dropping TCP/TLS without one (code 1006). The connection is no longer usable.
struct WsClosed {
  int code = 1006;     ///< 1005 if the close frame carried no code; 1006 for a drop
  std::string reason;  ///< the peer's reason text (sanitized, truncated) or a short cause
};

/// What WsConnection::receive returns. A Failure (TooLarge, ProtocolError, Timeout inside a
/// frame, Tls, Io, Closed when already unusable) leaves the connection unusable.
using WsEvent =
    std::variant<WsText, WsBinary, WsPong, WsTimeout, WsClosed, WsIncompleteMessage, Failure>;

/// Settings of one WebSocket connection.
struct WsOptions {
  /// The push host's TLS settings (`api.websocket_tls` with its fallbacks to `api`).
  TlsOptions tls;
  /// Bounds connect (timeout/2), a stalled TLS handshake (~1.5 × timeout), the HTTP upgrade
  /// answer, each send, and the rest of a frame once its first byte has arrived (~timeout).
  std::chrono::milliseconds timeout{10000};
  /// A fragmented message must be complete this long after its first fragment, else receive()
  /// gives WsIncompleteMessage (`session.heartbeat_timeout`).
  std::chrono::milliseconds message_timeout{90000};
  /// Largest accepted frame payload and reassembled message (`session.max_frame_bytes`).
  std::size_t max_frame_bytes = std::size_t{16} << 20;
};

/// One client WebSocket over TLS (Poco WebSocket over HTTPSClientSession).
///
/// Not thread-safe: one thread at a time uses a connection; never send() on one thread while
/// another is in receive() — OpenSSL forbids concurrent reads and writes on one TLS socket. The
/// one exception is interruptReceive(), made for another thread.
/// Movable, not copyable. No method throws. The process must ignore SIGPIPE (OpenSSL writes with
/// plain send(); sending to a connection the peer has reset would otherwise kill it).
class WsConnection {
 public:
  /// Connects to `{ws_url}/cms/open/websocket/confctl/increment/conn?confID={meeting_id}&tmpToken=
  /// {ws_token}` (query values URL-encoded). `ws_url` is `wss://host[:port][/prefix]`
  /// (`https://` is accepted too; port 443 by default). Failures: BadResponse for an unusable
  /// ws_url; for an HTTP answer other than 101, `http_status` is set and the error is Rejected
  /// (4xx), RateLimited (429), ServerError (5xx) or BadResponse (other); Tls, Timeout,
  /// ConnectionRefused and Io as for REST. The TCP connection goes to the ws_url host; with
  /// `options.tls.server_name` set, SNI carries that name and the certificate is verified for
  /// it. A certificate that fails verification gives Tls with OpenSSL's reason; one that names
  /// another host says so, lists the names it holds and names `api.websocket_tls.server_name`
  /// as the fix. The detail never contains `ws_token`, whose
  /// text is taken here, for the URL, and nowhere else.
  static Result<WsConnection> open(const std::string& ws_url, const std::string& meeting_id,
                                   const Secret& ws_token, const WsOptions& options);

  ~WsConnection();
  WsConnection(WsConnection&&) noexcept;
  WsConnection& operator=(WsConnection&&) noexcept;
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  /// Sends one text frame. A network Failure (Timeout, Closed, Io, Tls) makes the connection
  /// unusable; TooLarge (text of 2 GiB or more, nothing sent) does not. On an unusable connection
  /// returns Failure{Closed}.
  Result<void> send(std::string_view text);

  /// Sends a PING control frame carrying `payload` (at most 125 bytes, else TooLarge and nothing
  /// is sent); its PONG is returned by receive() as WsPong. Failures as for send().
  Result<void> sendPing(std::string_view payload);

  /// Waits up to `timeout` for the next complete message or PONG and returns it, or WsTimeout
  /// if none arrived. Every wait is a poll() on the socket (plus OpenSSL's buffered bytes), so
  /// it is exact and consumes nothing. A fragmented message may span several calls: its
  /// fragments so far are kept when the timeout ends a call, and it must be complete within
  /// WsOptions::message_timeout of its first fragment (else WsIncompleteMessage). Once a frame
  /// starts, the rest of that frame must arrive within about WsOptions::timeout (else
  /// Failure{Timeout}). PING is answered with a PONG carrying the same payload without
  /// returning (the wait continues to the same deadline). A close frame is answered with a
  /// close frame. A frame or message above max_frame_bytes gives Failure{TooLarge}; the
  /// connection must then be discarded.
  WsEvent receive(std::chrono::milliseconds timeout);

  /// Like receive(timeout), but every wait between frames (also inside a fragmented message)
  /// ends, with WsTimeout, as soon as `wake_fd` (e.g. an eventfd or the read end of a pipe,
  /// owned by the caller) is readable; -1 means no wake descriptor. Lets another thread
  /// interrupt the wait without touching the TLS socket. The descriptor is only polled, never
  /// read: the caller drains it, and while it stays readable every call returns WsTimeout at
  /// once (unless OpenSSL already holds received bytes, which are then read first). Socket data
  /// is never consumed by a wake-up.
  WsEvent receive(std::chrono::milliseconds timeout, int wake_fd);

  /// Ends a receive() in progress on another thread promptly, even one blocked inside a frame
  /// the peer never finishes (where `wake_fd` cannot reach it): shuts the socket's read side
  /// down, so the blocked read sees end of stream. Sending still works (close() still sends its
  /// close frame). The only method that may be called while another thread uses the connection;
  /// the caller must keep the connection alive during the call. Uses a duplicate of the socket
  /// descriptor, held for the connection's lifetime, so it never touches a reused descriptor.
  void interruptReceive() noexcept;

  /// Sends a close frame (1000, best effort within the send timeout) and shuts the TLS
  /// connection down. Idempotent.
  void close() noexcept;

  /// False after close(), a WsClosed, any Failure from receive() or a network Failure from send().
  bool usable() const noexcept;

 private:
  struct Impl;
  /// Sends one frame with Poco's `flags` (opcode and FIN); failures as for send().
  Result<void> sendFrame(std::string_view payload, int flags);
  explicit WsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hme::transport
