#include "plugin/transport/ws_connection.h"

#include <Poco/Buffer.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/http_util.h"

namespace hme::transport {
namespace {

using detail::makeFailure;
using Poco::Net::WebSocket;

constexpr int kCloseNormal = 1000;
constexpr int kCloseNoStatus = 1005;
constexpr int kCloseAbnormal = 1006;
constexpr int kMaxControlPayload = 125;
constexpr std::size_t kMaxCloseReason = 123;
// Poco's sendBytes takes an int and adds at most 14 header bytes.
constexpr std::size_t kMaxSendBytes = static_cast<std::size_t>(INT_MAX) - 14;
// Poco copies the payload with memcpy even for empty frames; never hand it a null pointer.
constexpr char kEmpty[1] = {0};

}  // namespace

struct WsConnection::Impl {
  std::unique_ptr<WebSocket> socket;
  std::size_t max_bytes = 0;
  std::chrono::milliseconds message_timeout{0};
  bool usable = true;
  // A duplicate of the socket descriptor for interruptReceive(): it stays open until the
  // connection is destroyed, so another thread never shuts down a descriptor number that
  // discard() released and the process reused.
  int interrupt_fd = -1;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (interrupt_fd >= 0) ::close(interrupt_fd);
  }

  // A fragmented message outlives the receive() call that saw its first fragment, so a caller
  // with a short deadline (heartbeats due) never loses what has arrived so far.
  std::string message;
  bool in_message = false;
  bool binary = false;
  std::chrono::steady_clock::time_point message_deadline{};

  /// Marks the connection unusable and releases the socket without further I/O.
  void discard() noexcept {
    usable = false;
    try {
      socket->close();
    } catch (...) {
      // Closing a broken socket may fail; it is being thrown away either way.
    }
  }

  /// Sends a close frame with `code` (none for 1005) and shuts TLS and TCP down, best effort.
  void sendCloseAndShutdown(int code) noexcept {
    try {
      const char payload[2] = {static_cast<char>((code >> 8) & 0xff),
                               static_cast<char>(code & 0xff)};
      const int length = code == kCloseNoStatus ? 0 : 2;
      socket->sendFrame(payload, length, WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_CLOSE);
      socket->shutdown();
    } catch (...) {
      // The peer may already be gone; closing proceeds regardless.
    }
  }

  WsEvent onCloseFrame(const Poco::Buffer<char>& frame, int n) {
    WsClosed closed;
    closed.code = kCloseNoStatus;
    if (n >= 2) {
      closed.code =
          (static_cast<unsigned char>(frame[0]) << 8) | static_cast<unsigned char>(frame[1]);
      closed.reason = detail::scrub(
          std::string_view(frame.begin() + 2, static_cast<std::size_t>(n - 2)), kMaxCloseReason);
    }
    sendCloseAndShutdown(closed.code);
    discard();
    return closed;
  }

  WsEvent protocolError(const std::string& detail) {
    discard();
    return makeFailure(TransportError::ProtocolError, detail, {});
  }

  /// What the idle wait saw first.
  enum class Ready { Socket, TimedOut, Woken };

  /// Waits until the socket or `wake_fd` (if >= 0) is readable or `deadline` passes; consumes
  /// nothing from either. Throws Poco::IOException if poll() fails.
  Ready waitReadable(std::chrono::steady_clock::time_point deadline, int wake_fd) const {
    pollfd fds[2] = {{socket->impl()->sockfd(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const nfds_t count = wake_fd >= 0 ? 2 : 1;
    for (;;) {
      // Rounded up, so a wait never ends just before its deadline and spins on poll(0).
      // A deadline already passed still gets a zero-timeout poll, so receive(0ms) checks for
      // data.
      const auto remaining =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const auto timeout_ms =
          std::clamp<std::chrono::milliseconds::rep>(remaining.count(), 0, INT_MAX);
      const int n = ::poll(fds, count, static_cast<int>(timeout_ms));
      if (n < 0) {
        if (errno == EINTR) continue;  // a signal: wait again for the rest of the time
        throw Poco::IOException(std::string("poll failed: ") + std::strerror(errno));
      }
      if (n == 0) return Ready::TimedOut;
      // A wake-up wins over data: the caller asked to be interrupted (to stop, usually).
      if (count == 2 && fds[1].revents != 0) return Ready::Woken;
      // POLLIN, or POLLHUP/POLLERR: the read that follows reports the close or the error.
      return Ready::Socket;
    }
  }

  WsEvent receive(std::chrono::milliseconds wait, int wake_fd) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    bool answered_ping = false;
    Poco::Buffer<char> frame(0);
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      // Checked before reading on: a sender that keeps a message open while streaming PINGs
      // (which keep the socket readable) must not hold the connection past the deadline.
      if (in_message && now >= message_deadline) {
        const std::size_t bytes = message.size();
        discard();
        return WsIncompleteMessage{bytes};
      }
      // A stream of PINGs must not keep the caller from its own deadline either.
      if (answered_ping && now >= deadline) return WsTimeout{};
      if (socket->available() <= 0) {
        // poll() waits exactly and consumes nothing, unlike a TLS read with a receive timeout
        // (see tlsReceiveTimeout), so neither a timeout nor a wake-up cuts a frame in half.
        // Bytes OpenSSL has already decrypted (available() > 0) are invisible to poll(): read
        // them first.
        const auto until = in_message ? std::min(deadline, message_deadline) : deadline;
        const Ready ready = waitReadable(until, wake_fd);
        if (ready == Ready::Woken) return WsTimeout{};
        if (ready == Ready::TimedOut) {
          if (in_message && std::chrono::steady_clock::now() >= message_deadline) continue;
          return WsTimeout{};
        }
      }
      frame.resize(0);
      int flags = 0;
      const int n = socket->receiveFrame(frame, flags);
      if (n == 0 && flags == 0) {
        discard();
        return WsClosed{kCloseAbnormal, "connection dropped without a close frame"};
      }
      if ((flags & (WebSocket::FRAME_FLAG_RSV1 | WebSocket::FRAME_FLAG_RSV2 |
                    WebSocket::FRAME_FLAG_RSV3)) != 0) {
        return protocolError("reserved frame bits set (no extension was negotiated)");
      }
      const int opcode = flags & WebSocket::FRAME_OP_BITMASK;
      const bool fin = (flags & WebSocket::FRAME_FLAG_FIN) != 0;
      const auto size = static_cast<std::size_t>(n);
      switch (opcode) {
        case WebSocket::FRAME_OP_PING:
        case WebSocket::FRAME_OP_PONG:
        case WebSocket::FRAME_OP_CLOSE:
          if (!fin || n > kMaxControlPayload) return protocolError("malformed control frame");
          if (opcode == WebSocket::FRAME_OP_CLOSE) return onCloseFrame(frame, n);
          if (opcode == WebSocket::FRAME_OP_PONG) {
            return WsPong{std::string(frame.begin(), frame.begin() + size)};
          }
          // Poco leaves PING to the application; the server may drop a client that ignores it.
          socket->sendFrame(n > 0 ? frame.begin() : kEmpty, n,
                            WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PONG);
          answered_ping = true;
          continue;
        case WebSocket::FRAME_OP_TEXT:
        case WebSocket::FRAME_OP_BINARY:
          if (in_message) return protocolError("new data frame inside a fragmented message");
          binary = opcode == WebSocket::FRAME_OP_BINARY;
          message.assign(frame.begin(), frame.begin() + size);  // begin() may be null when empty
          if (!fin) {
            in_message = true;
            message_deadline = std::chrono::steady_clock::now() + message_timeout;
          }
          break;
        case WebSocket::FRAME_OP_CONT:
          if (!in_message) return protocolError("continuation frame without a message");
          if (message.size() + size > max_bytes) {
            discard();
            return makeFailure(TransportError::TooLarge, "fragmented message above max_frame_bytes",
                               {});
          }
          message.append(frame.begin(), frame.begin() + size);
          break;
        default:
          return protocolError("unknown opcode " + std::to_string(opcode));
      }
      if (fin) {
        in_message = false;
        std::string complete = std::move(message);
        message.clear();
        if (binary) return WsBinary{complete.size()};
        return WsText{std::move(complete)};
      }
    }
  }
};

WsConnection::WsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsConnection::~WsConnection() = default;
WsConnection::WsConnection(WsConnection&&) noexcept = default;
WsConnection& WsConnection::operator=(WsConnection&&) noexcept = default;

Result<WsConnection> WsConnection::open(const std::string& ws_url, const std::string& meeting_id,
                                        const Secret& ws_token, const WsOptions& options) {
  const detail::Secrets secrets{ws_token};
  Poco::URI uri;
  try {
    uri = Poco::URI(ws_url);
  } catch (const Poco::Exception&) {
    return makeFailure(TransportError::BadResponse, "ws_url is not a valid URL", secrets);
  }
  const std::string scheme = Poco::toLower(uri.getScheme());
  if ((scheme != "wss" && scheme != "https") || uri.getHost().empty()) {
    return makeFailure(TransportError::BadResponse, "ws_url must be wss://host[:port]", secrets);
  }
  const std::string host = uri.getHost();
  const unsigned short port = uri.getSpecifiedPort() != 0 ? uri.getSpecifiedPort() : 443;
  const std::string target =
      detail::encodePathPrefix(uri.getPath()) +
      "/cms/open/websocket/confctl/increment/conn?confID=" + detail::encodeQueryValue(meeting_id) +
      "&tmpToken=" + detail::encodeQueryValue(ws_token.reveal());

  Poco::Net::Context::Ptr context;
  try {
    // One context per process and TLS settings, not per connection (see sharedClientContext).
    context = sharedClientContext(options.tls, host, ContextUse::WebSocket);
  } catch (const std::exception& e) {
    return makeFailure(TransportError::Tls, e.what(), secrets);
  }

  // A certificate that names another host is the usual failure against a raw-IP push host: the
  // failure then says which setting fixes it.
  const std::string checked_name = options.tls.server_name.empty() ? host : options.tls.server_name;
  const std::string name_fix =
      options.tls.server_name.empty()
          ? "certificate name mismatch: set api.websocket_tls.server_name to the DNS name the "
            "push host's certificate is issued for"
          : "certificate name mismatch: api.websocket_tls.server_name must be a name the push "
            "host's certificate holds";
  clearCertificateRejection();
  Poco::Net::HTTPResponse response;
  try {
    // The TCP connection goes to the URL's host while SNI (and verification, in the context)
    // use server_name: Poco sends the session's host as SNI only when none is set here.
    Poco::Net::SecureStreamSocket socket(context);
    if (!options.tls.server_name.empty()) socket.setPeerHostName(options.tls.server_name);
    Poco::Net::HTTPSClientSession session(socket);
    session.setHost(host);
    session.setPort(port);
    detail::applyTimeout(session, options.timeout);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, target,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    auto impl = std::make_unique<Impl>();
    impl->socket = std::make_unique<WebSocket>(session, request, response);
    impl->max_bytes = std::clamp<std::size_t>(options.max_frame_bytes, 1, INT_MAX);
    impl->message_timeout = std::max(options.message_timeout, std::chrono::milliseconds(1));
    impl->socket->setMaxPayloadSize(static_cast<int>(impl->max_bytes));
    impl->interrupt_fd = ::fcntl(impl->socket->impl()->sockfd(), F_DUPFD_CLOEXEC, 0);
    if (impl->interrupt_fd < 0) {
      return makeFailure(TransportError::Io,
                         std::string("cannot duplicate the socket: ") + std::strerror(errno),
                         secrets);
    }
    impl->socket->setReceiveTimeout(detail::tlsReceiveTimeout(options.timeout));
    impl->socket->setSendTimeout(detail::toTimespan(options.timeout));
    return WsConnection(std::move(impl));
  } catch (const Poco::Net::WebSocketException& e) {
    if (e.code() == WebSocket::WS_ERR_NO_HANDSHAKE || e.code() == WebSocket::WS_ERR_UNAUTHORIZED) {
      // The server answered the upgrade with an ordinary HTTP response.
      const int status = static_cast<int>(response.getStatus());
      return makeFailure(detail::classifyHttpStatus(status, ""),
                         "WebSocket upgrade refused: HTTP " + std::to_string(status) + " " +
                             detail::untrustedText(response.getReason(), secrets, 60),
                         secrets, status);
    }
    return detail::failureFromCurrentException(secrets);
  } catch (...) {
    return detail::explainCertificateRejection(detail::failureFromCurrentException(secrets),
                                               checked_name, name_fix);
  }
}

Result<void> WsConnection::send(std::string_view text) {
  if (text.size() > kMaxSendBytes) {
    if (!usable()) return makeFailure(TransportError::Closed, "connection is not usable", {});
    return makeFailure(TransportError::TooLarge, "message too large to send", {});
  }
  return sendFrame(text, WebSocket::FRAME_TEXT);
}

Result<void> WsConnection::sendPing(std::string_view payload) {
  if (payload.size() > static_cast<std::size_t>(kMaxControlPayload)) {
    if (!usable()) return makeFailure(TransportError::Closed, "connection is not usable", {});
    return makeFailure(TransportError::TooLarge, "PING payload above 125 bytes", {});
  }
  return sendFrame(payload, WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PING);
}

Result<void> WsConnection::sendFrame(std::string_view payload, int flags) {
  if (!usable()) return makeFailure(TransportError::Closed, "connection is not usable", {});
  try {
    const int length = static_cast<int>(payload.size());
    const int sent =
        impl_->socket->sendFrame(payload.empty() ? kEmpty : payload.data(), length, flags);
    if (sent != length) {
      impl_->discard();
      return makeFailure(TransportError::Io, "short write", {});
    }
    return {};
  } catch (...) {
    Failure failure = detail::failureFromCurrentException({});
    impl_->discard();
    return failure;
  }
}

WsEvent WsConnection::receive(std::chrono::milliseconds timeout) { return receive(timeout, -1); }

WsEvent WsConnection::receive(std::chrono::milliseconds timeout, int wake_fd) {
  if (!usable()) return makeFailure(TransportError::Closed, "connection is not usable", {});
  try {
    return impl_->receive(timeout, wake_fd);
  } catch (...) {
    Failure failure = detail::failureFromCurrentException({});
    impl_->discard();
    if (failure.error == TransportError::Closed) return WsClosed{kCloseAbnormal, failure.detail};
    return failure;
  }
}

void WsConnection::interruptReceive() noexcept {
  if (impl_ && impl_->interrupt_fd >= 0) ::shutdown(impl_->interrupt_fd, SHUT_RD);
}

void WsConnection::close() noexcept {
  if (!usable()) return;
  impl_->sendCloseAndShutdown(kCloseNormal);
  impl_->discard();
}

bool WsConnection::usable() const noexcept { return impl_ && impl_->usable; }

}  // namespace hme::transport
