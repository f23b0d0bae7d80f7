#pragma once
/// A minimal HTTPS + WSS server on 127.0.0.1:0 for the transport integration tests (not the
/// meeting simulator): each test supplies the request handler, the server records what it got.
/// Handlers run on server threads and must not use Boost.Test assertions; they report through
/// the recorded requests or a Mailbox, and the test thread asserts.

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hme::testing {

/// Path of a file under tests/testdata/pki.
std::string pkiPath(const std::string& file);

/// Thread-safe FIFO of strings: server handlers post, the test thread takes with a bound.
class Mailbox {
 public:
  /// Appends `item`.
  void post(std::string item);
  /// The oldest item, waiting at most `timeout`; nullopt on timeout.
  std::optional<std::string> take(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> items_;
};

/// A one-shot latch for handlers that must stall; TestServer::stop() opens it.
class Gate {
 public:
  /// Releases every current and future waiter.
  void open();
  /// Waits until open() or `timeout`; true if opened.
  bool waitFor(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

/// What the server saw of one request.
struct RecordedRequest {
  std::string method;
  std::string uri;  ///< raw request target (path and query, still percent-encoded)
  Poco::Net::NameValueCollection headers;
};

/// HTTPS server on 127.0.0.1 with an ephemeral port, serving every request with one handler.
class TestServer {
 public:
  using Handler =
      std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

  /// Starts serving with the certificate `{cert_stem}.pem` / `.key` from tests/testdata/pki
  /// ("server", "untrusted-server" or "wronghost").
  explicit TestServer(Handler handler, const std::string& cert_stem = "server");
  /// Stops the server (see stop()).
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  /// The bound port.
  unsigned short port() const;
  /// `{scheme}://{host}:{port}`.
  std::string url(const std::string& scheme = "https", const std::string& host = "127.0.0.1") const;
  /// Requests received so far, in arrival order.
  std::vector<RecordedRequest> requests() const;
  /// SNI host names sent by clients, in handshake order (empty string: no SNI).
  std::vector<std::string> sniNames() const;
  /// The gate stalling handlers wait on.
  Gate& gate();
  /// Opens the gate, stops accepting and waits for running handlers (which must end on their own
  /// within their socket timeouts). Idempotent.
  void stop();

  /// Called from the TLS layer; public only for the C callback.
  void recordSni(std::string name);

 private:
  class Factory;
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::string> sni_names_;
  Gate gate_;
  Handler handler_;
  Poco::ThreadPool pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  unsigned short port_ = 0;
  bool stopped_ = false;
};

/// Sends `body` as application/json with `status`.
void respondJson(Poco::Net::HTTPServerResponse& response, int status, const std::string& body);

/// A TCP listener on 127.0.0.1:0 that never accepts: the kernel completes the TCP handshake, the
/// TLS handshake then stalls.
class SilentListener {
 public:
  SilentListener();
  /// The bound port.
  unsigned short port() const;

 private:
  Poco::Net::ServerSocket socket_;
};

/// A port on 127.0.0.1 that was bound and released again, so connecting to it is refused.
unsigned short closedPort();

}  // namespace hme::testing
