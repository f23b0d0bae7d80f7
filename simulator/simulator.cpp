#include "simulator/simulator.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "Poco/Base64Decoder.h"
#include "Poco/Buffer.h"
#include "Poco/Exception.h"
#include "Poco/JSON/Array.h"
#include "Poco/JSON/Object.h"
#include "Poco/JSON/Parser.h"
#include "Poco/Net/Context.h"
#include "Poco/Net/HTTPRequestHandler.h"
#include "Poco/Net/HTTPRequestHandlerFactory.h"
#include "Poco/Net/HTTPServer.h"
#include "Poco/Net/HTTPServerParams.h"
#include "Poco/Net/HTTPServerRequest.h"
#include "Poco/Net/HTTPServerResponse.h"
#include "Poco/Net/NetException.h"
#include "Poco/Net/NetSSL.h"
#include "Poco/Net/SecureServerSocket.h"
#include "Poco/Net/WebSocket.h"
#include "Poco/String.h"
#include "Poco/ThreadPool.h"
#include "Poco/URI.h"
#include "openssl/ssl.h"
#include "simulator/http_json.h"

namespace hme::simulator {

namespace {

using detail::errorBody;
using detail::newObject;
using detail::queryParam;
using detail::sendJson;
using detail::toText;
using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using Poco::Net::WebSocket;
using SteadyClock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr const char* kAuthFailedCode = "MMC.111072065";
constexpr const char* kAuthFailedMsg = "CONF_NOT_FOUND_OR_AUTH_FAILED";
constexpr const char* kTokenInvalidCode = "MMC.111070004";
constexpr const char* kTokenInvalidMsg = "VERIFY_FAILED";
// Observation lists keep at most this many entries (oldest dropped first), so a simulator
// running for days in demo mode or a benchmark does not grow without bound.
constexpr std::size_t kMaxRecorded = 100000;

template <class T>
void append(std::vector<T>& list, T item) {
  if (list.size() >= kMaxRecorded) {
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(kMaxRecorded / 2));
  }
  list.push_back(std::move(item));
}

// How long a closing side waits for the peer's close frame: long enough for a client to read
// what was sent before (closing with unread input makes the kernel send a reset).
constexpr std::chrono::milliseconds kCloseHandshake{1000};

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(WallClock::now().time_since_epoch())
      .count();
}

std::optional<std::string> base64Decode(const std::string& encoded) {
  try {
    std::istringstream in(encoded);
    Poco::Base64Decoder decoder(in);
    std::string out((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    return out;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

// protocol.md §2.1: the control token comes raw or as `Basic ` + Base64(token).
std::string tokenFromAuthorization(const std::string& header) {
  std::string value = Poco::trim(header);
  if (value.size() > 6 && Poco::icompare(value.substr(0, 6), "basic ") == 0) {
    if (auto decoded = base64Decode(Poco::trim(value.substr(6)))) {
      return *decoded;
    }
  }
  return value;
}

// Frame flags for control frames (the two enums Poco splits them into, combined).
constexpr int kPingFlags = static_cast<int>(WebSocket::FRAME_FLAG_FIN) | WebSocket::FRAME_OP_PING;
constexpr int kPongFlags = static_cast<int>(WebSocket::FRAME_FLAG_FIN) | WebSocket::FRAME_OP_PONG;
constexpr int kCloseFlags = static_cast<int>(WebSocket::FRAME_FLAG_FIN) | WebSocket::FRAME_OP_CLOSE;

/// Something the connection thread must do on its socket.
struct Outbound {
  enum class Kind { Text, Binary, Ping, Close, Drop, OpenFragment };
  Kind kind = Kind::Text;
  std::string payload;  // frame payload, or the close reason
  std::uint16_t code = 0;
  std::size_t repeat = 1;  // flood(): the frame is sent this many times
};

/// One open WebSocket. Only its own thread touches the socket; others post to its queue and
/// wake the thread through an eventfd it polls together with the socket.
struct Connection {
  Connection() : wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (wake_fd < 0) {
      throw std::runtime_error("eventfd failed");
    }
  }
  ~Connection() { ::close(wake_fd); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::uint64_t id = 0;
  std::string meeting_id;
  // Guarded by Simulator::Impl::mutex.
  std::set<PushType> subscribed;
  bool live = false;  // subscribed successfully: receives pushes

  const int wake_fd;
  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<Outbound> queue;
  bool silent = false;
  bool silent_acknowledged = false;  // the thread has seen `silent` and stopped reading

  void wake() {
    const std::uint64_t one = 1;
    // A full counter (never in practice) still leaves the fd readable: nothing is lost.
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
    queue_cv.notify_all();
  }
  void clearWake() {
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(wake_fd, &count, sizeof count);
  }
  void post(Outbound outbound) {
    {
      std::lock_guard<std::mutex> lock(queue_mutex);
      queue.push_back(std::move(outbound));
    }
    wake();
  }
  // Returns once the connection thread has gone silent (or after `timeout`, should it be
  // stuck in a send), so that a caller's next frame is certainly not read.
  void setSilent(bool on, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(queue_mutex);
    silent = on;
    wake();
    if (on) {
      queue_cv.wait_for(lock, timeout, [this] { return silent_acknowledged || !silent; });
    }
  }
};

struct ControlToken {
  std::string meeting_id;
  WallClock::time_point expires;
};

struct WsToken {
  std::string meeting_id;
  WallClock::time_point expires;
  bool used = false;
};

class CallbackHandler : public Poco::Net::HTTPRequestHandler {
 public:
  using Callback = std::function<void(HTTPServerRequest&, HTTPServerResponse&)>;
  explicit CallbackHandler(Callback callback) : callback_(std::move(callback)) {}
  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    callback_(request, response);
  }

 private:
  Callback callback_;
};

class CallbackFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit CallbackFactory(CallbackHandler::Callback callback) : callback_(std::move(callback)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new CallbackHandler(callback_);
  }

 private:
  CallbackHandler::Callback callback_;
};

}  // namespace

struct Simulator::Impl {
  explicit Impl(SimulatorOptions opts)
      : options(std::move(opts)),
        token_rng(std::random_device{}()),
        silence_timeout_ms(options.silence_timeout.count()) {
    if (options.management.enabled) {
      remember(options.management.app_key);
    }
    management = std::make_unique<Management>(
        options.management, [this] { return conferenceViews(); }, [this] { changed(); });
  }

  SimulatorOptions options;

  mutable std::mutex mutex;  // guards everything down to `secrets`
  std::map<std::string, std::unique_ptr<Meeting>> meetings;
  std::map<std::string, ControlToken> control_tokens;
  std::map<std::string, WsToken> ws_tokens;
  std::optional<TokenRefusal> control_refusal;
  std::optional<TokenRefusal> ws_refusal;
  std::map<std::string, int> reject_next_subscribe;
  std::set<std::string> silent_meetings;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::map<std::string, MeetingObservations> observations;
  std::vector<RestCall> rest_calls;
  std::deque<std::string> tls_server_names;
  std::set<std::string> secrets;
  std::deque<std::string> secrets_order;  // insertion order, to evict the oldest
  std::mt19937_64 token_rng;
  std::uint64_t next_connection_id = 1;

  std::atomic<std::int64_t> silence_timeout_ms;
  std::atomic<bool> stopping{false};
  bool running = false;  // guarded by lifecycle_mutex
  std::mutex lifecycle_mutex;
  std::uint16_t bound_port = 0;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::thread ticker;
  std::mutex ticker_mutex;
  std::condition_variable ticker_cv;

  mutable std::mutex change_mutex;
  mutable std::condition_variable change_cv;
  std::uint64_t generation = 0;  // guarded by change_mutex

  // Last, so it is destroyed first: its webhook thread and reader use the members above.
  std::unique_ptr<Management> management;

  // Requires `mutex`.
  static ConferenceView viewOf(const Meeting& meeting) {
    ConferenceView view;
    view.meeting_id = meeting.spec().meeting_id;
    view.conf_uuid = conferenceUuid(view.meeting_id, meeting.runs());
    view.subject = meeting.spec().title;
    view.scheduler = meeting.spec().scheduler;
    view.webinar = meeting.spec().webinar;
    view.host_password = meeting.spec().host_password;
    view.guest_password = meeting.guestPassword();
    view.start_ms = meeting.startMs();
    view.participants = meeting.truth().participants;
    return view;
  }

  std::vector<ConferenceView> conferenceViews() const {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<ConferenceView> views;
    for (const auto& [meeting_id, meeting] : meetings) {
      if (meeting->started()) {
        views.push_back(viewOf(*meeting));
      }
    }
    return views;
  }

  // Requires `mutex`.
  void startLocked(Meeting& meeting, std::int64_t now) {
    if (meeting.started()) {
      return;
    }
    meeting.start(now);
    management->meetingStarted(viewOf(meeting));
  }

  void changed() {
    {
      std::lock_guard<std::mutex> lock(change_mutex);
      ++generation;
    }
    change_cv.notify_all();
  }

  // Requires `mutex`.
  void remember(const std::string& secret) {
    if (secret.empty() || !secrets.insert(secret).second) {
      return;
    }
    secrets_order.push_back(secret);
    if (secrets_order.size() > kMaxRecorded) {
      secrets.erase(secrets_order.front());
      secrets_order.pop_front();
    }
  }

  std::string newToken() {
    static constexpr const char* kHex = "0123456789abcdef";
    std::string token = "cnr";
    for (int i = 0; i < 48; ++i) {
      token += kHex[token_rng() % 16];
    }
    remember(token);
    return token;
  }

  /// `host:port`, with the bound port when `port` is 0.
  std::string hostPort(const std::string& host, std::uint16_t port = 0) const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port != 0 ? port : bound_port);
  }

  std::string wsUrl() const {
    return "wss://" +
           hostPort(options.ws_host.empty() ? options.host : options.ws_host, options.ws_port);
  }

  void record(RestCall::Kind kind, const std::string& meeting_id, int status, bool accepted) {
    RestCall call;
    call.kind = kind;
    call.meeting_id = meeting_id;
    call.status = status;
    call.accepted = accepted;
    call.at = WallClock::now();
    append(rest_calls, std::move(call));
  }

  // Consumes one refusal of `refusal` if set; returns what to answer.
  static std::optional<std::pair<int, std::string>> takeRefusal(
      std::optional<TokenRefusal>& refusal) {
    if (!refusal) {
      return std::nullopt;
    }
    auto answer =
        std::make_pair(refusal->status, errorBody(refusal->error_code, refusal->error_msg));
    if (refusal->count > 0 && --refusal->count == 0) {
      refusal.reset();
    }
    return answer;
  }

  std::vector<std::shared_ptr<Connection>> connectionsOf(const std::string& meeting_id) const {
    std::vector<std::shared_ptr<Connection>> out;
    for (const auto& [id, connection] : connections) {
      if (connection->meeting_id == meeting_id) {
        out.push_back(connection);
      }
    }
    return out;
  }

  // Requires `mutex`.
  void deliver(const std::string& meeting_id, const std::vector<Push>& pushes) {
    if (pushes.empty()) {
      return;
    }
    for (const auto& connection : connectionsOf(meeting_id)) {
      if (!connection->live) {
        continue;
      }
      for (const Push& push : pushes) {
        if (connection->subscribed.count(push.type) != 0) {
          connection->post({Outbound::Kind::Text, push.text, 0});
        }
      }
    }
  }

  // Requires `mutex`.
  void endLocked(const std::string& meeting_id) {
    auto it = meetings.find(meeting_id);
    if (it == meetings.end() || !it->second->started()) {
      return;
    }
    const ConferenceView view = viewOf(*it->second);
    deliver(meeting_id, it->second->end(nowMs()));
    management->meetingEnded(view);
    for (const auto& connection : connectionsOf(meeting_id)) {
      connection->live = false;
      connection->post({Outbound::Kind::Close, "meeting ended", WebSocket::WS_NORMAL_CLOSE});
    }
    for (auto t = control_tokens.begin(); t != control_tokens.end();) {
      t = t->second.meeting_id == meeting_id ? control_tokens.erase(t) : std::next(t);
    }
    for (auto t = ws_tokens.begin(); t != ws_tokens.end();) {
      t = t->second.meeting_id == meeting_id ? ws_tokens.erase(t) : std::next(t);
    }
  }

  // Drops tokens long past expiry so a long-running simulator does not grow without bound.
  void purgeTokens(WallClock::time_point now) {
    const auto control_grace = std::chrono::seconds(options.control_token_lifetime);
    for (auto t = control_tokens.begin(); t != control_tokens.end();) {
      t = t->second.expires + control_grace < now ? control_tokens.erase(t) : std::next(t);
    }
    const auto ws_grace = std::chrono::seconds(options.ws_token_lifetime);
    for (auto t = ws_tokens.begin(); t != ws_tokens.end();) {
      t = t->second.expires + ws_grace < now ? ws_tokens.erase(t) : std::next(t);
    }
  }

  // ------------------------------------------------------------------------------------------
  // HTTP
  // ------------------------------------------------------------------------------------------

  void handle(HTTPServerRequest& request, HTTPServerResponse& response) {
    try {
      const Poco::URI uri(request.getURI());
      const std::string& path = uri.getPath();
      if (path == "/v1/mmc/control/conferences/token") {
        handleControlToken(request, response, uri);
      } else if (path == "/v1/mmc/control/conferences/wsToken") {
        handleWsToken(request, response, uri);
      } else if (path == "/cms/open/websocket/confctl/increment/conn") {
        handleUpgrade(request, response, uri);
      } else if (management->handles(path)) {
        management->handle(request, response, uri);
      } else {
        {
          std::lock_guard<std::mutex> lock(mutex);
          record(RestCall::Kind::Other, "", 404, false);
        }
        changed();
        sendJson(response, 404, errorBody("MMC.404", "NOT_FOUND"));
      }
    } catch (const Poco::Exception&) {
      // A client that vanished mid-request, or a malformed URI: nothing left to answer.
      if (!response.sent()) {
        try {
          sendJson(response, 400, errorBody(kAuthFailedCode, kAuthFailedMsg));
        } catch (const Poco::Exception&) {
        }
      }
    }
  }

  void handleControlToken(HTTPServerRequest& request, HTTPServerResponse& response,
                          const Poco::URI& uri) {
    const std::string meeting_id = queryParam(uri, "conferenceID");
    int status = 200;
    std::string body;
    {
      std::lock_guard<std::mutex> lock(mutex);
      const auto now = WallClock::now();
      purgeTokens(now);
      if (auto refusal = takeRefusal(control_refusal)) {
        std::tie(status, body) = *refusal;
      } else {
        status = options.auth_failure_status;
        body = errorBody(kAuthFailedCode, kAuthFailedMsg);
        auto meeting = meetings.find(meeting_id);
        const bool has_password = request.has("X-Password");
        const bool has_token = request.has("X-Conference-Authorization");
        bool authorised = false;
        if (request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET && meeting != meetings.end() &&
            meeting->second->started()) {
          if (has_password) {
            // The password alone authorises, also to refresh an expired token (§2.1).
            authorised = request.get("X-Password") == meeting->second->spec().host_password &&
                         request.get("X-Login-Type", "") == "1";
          } else if (has_token) {
            auto token = control_tokens.find(
                tokenFromAuthorization(request.get("X-Conference-Authorization")));
            authorised = token != control_tokens.end() && token->second.meeting_id == meeting_id &&
                         token->second.expires > now;
          }
        }
        if (authorised) {
          status = 200;
          body = issueControlToken(meeting_id, *meeting->second, now, has_token);
        }
      }
      record(RestCall::Kind::ControlToken, meeting_id, status, status == 200);
    }
    changed();
    sendTokenAnswer(response, status, body);
  }

  // OpenSSL's servername callback: records the SNI of each handshake, so tests can tell which
  // name a client verified the certificate for.
  static int onServerName(SSL* ssl, int* /*alert*/, void* arg) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    auto* impl = static_cast<Impl*>(arg);
    {
      std::lock_guard<std::mutex> lock(impl->mutex);
      impl->tls_server_names.emplace_back(name != nullptr ? name : "");
      if (impl->tls_server_names.size() > kMaxRecorded) impl->tls_server_names.pop_front();
    }
    impl->changed();
    return SSL_TLSEXT_ERR_OK;
  }

  // Answers a token call, at once or (rest_body_trickle) one body byte at a time.
  void sendTokenAnswer(HTTPServerResponse& response, int status, const std::string& body) {
    if (options.rest_body_trickle.count() <= 0) {
      sendJson(response, status, body);
      return;
    }
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
    response.setContentType("application/json;charset=UTF-8");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    std::ostream& out = response.send();
    out.flush();  // the headers go out now; only the body trickles
    for (char c : body) {
      std::unique_lock<std::mutex> lock(ticker_mutex);
      if (ticker_cv.wait_for(lock, options.rest_body_trickle, [this] { return stopping.load(); })) {
        return;
      }
      lock.unlock();
      out.put(c);
      out.flush();
      if (!out) return;  // the client gave up
    }
  }

  // Requires `mutex`.
  std::string issueControlToken(const std::string& meeting_id, const Meeting& meeting,
                                WallClock::time_point now, bool refresh) {
    const std::string token = newToken();
    const auto expires = now + options.control_token_lifetime;
    control_tokens[token] = {meeting_id, expires};
    MeetingObservations& obs = observations[meeting_id];
    ++obs.control_tokens_issued;
    if (refresh) {
      ++obs.control_token_refreshes;
    }

    Object::Ptr data = newObject();
    data->set("token", token);
    // "Present, not needed" (§2.1): token-like values, never accepted anywhere.
    data->set("tmpWsToken", newToken());
    data->set("wsURL", wsUrl());
    data->set("role", 1);
    data->set(
        "expireTime",
        std::chrono::duration_cast<std::chrono::milliseconds>(expires.time_since_epoch()).count());
    data->set("confTokenExpireTime",
              static_cast<std::int64_t>(options.control_token_lifetime.count()));
    data->set("userID", "hme-sim-host-" + meeting_id);
    data->set("orgID", "hme-sim-org");
    data->set("vmrCurrentConfID", meeting.spec().meeting_id);
    Array::Ptr types = new Array;
    for (PushType type : allPushTypes()) {
      types->add(std::string(actionName(type)));
    }
    data->set("supportNotifyType", types);
    Object::Ptr o = newObject();
    o->set("data", data);
    o->set("addressToken", newToken());
    o->set("gloablPublicIP", options.host);
    return toText(o);
  }

  void handleWsToken(HTTPServerRequest& request, HTTPServerResponse& response,
                     const Poco::URI& uri) {
    const std::string meeting_id = queryParam(uri, "conferenceID");
    int status = 401;
    std::string body = errorBody(kTokenInvalidCode, kTokenInvalidMsg);
    {
      std::lock_guard<std::mutex> lock(mutex);
      const auto now = WallClock::now();
      if (auto refusal = takeRefusal(ws_refusal)) {
        std::tie(status, body) = *refusal;
      } else if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET &&
                 request.getMethod() != Poco::Net::HTTPRequest::HTTP_PUT) {
        status = 405;
      } else {
        auto token = control_tokens.find(
            tokenFromAuthorization(request.get("X-Conference-Authorization", "")));
        auto meeting = meetings.find(meeting_id);
        if (meeting == meetings.end() || !meeting->second->started()) {
          status = options.auth_failure_status;
          body = errorBody(kAuthFailedCode, kAuthFailedMsg);
        } else if (token != control_tokens.end() && token->second.meeting_id == meeting_id &&
                   token->second.expires > now) {
          const std::string ws_token = newToken();
          ws_tokens[ws_token] = {meeting_id, now + options.ws_token_lifetime, false};
          ++observations[meeting_id].ws_tokens_issued;
          Object::Ptr o = newObject();
          o->set("webSocketToken", ws_token);
          status = 200;
          body = toText(o);
        }
      }
      record(RestCall::Kind::WsToken, meeting_id, status, status == 200);
    }
    changed();
    sendTokenAnswer(response, status, body);
  }

  void handleUpgrade(HTTPServerRequest& request, HTTPServerResponse& response,
                     const Poco::URI& uri) {
    const std::string meeting_id = queryParam(uri, "confID");
    const std::string tmp_token = queryParam(uri, "tmpToken");
    const bool is_upgrade = Poco::icompare(request.get("Upgrade", ""), "websocket") == 0;
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard<std::mutex> lock(mutex);
      bool valid = false;
      auto token = ws_tokens.find(tmp_token);
      if (token != ws_tokens.end() && !token->second.used) {
        token->second.used = true;  // single-use, even when the rest of the request is wrong
        auto meeting = meetings.find(meeting_id);
        valid = is_upgrade && !stopping && token->second.meeting_id == meeting_id &&
                token->second.expires > WallClock::now() && meeting != meetings.end() &&
                meeting->second->started();
      }
      if (valid) {
        connection = std::make_shared<Connection>();
        connection->id = next_connection_id++;
        connection->meeting_id = meeting_id;
        connection->silent = silent_meetings.count(meeting_id) != 0;
        connections[connection->id] = connection;
        MeetingObservations& obs = observations[meeting_id];
        ++obs.ws_tokens_used;
        ++obs.connections_accepted;
        ++obs.connections_open;
        record(RestCall::Kind::Upgrade, meeting_id, 101, true);
      } else if (!is_upgrade || stopping || options.ws_reject == WsRejectMode::HttpStatus) {
        record(RestCall::Kind::Upgrade, meeting_id,
               is_upgrade && !stopping ? options.ws_reject_status : 400, false);
      } else {
        record(RestCall::Kind::Upgrade, meeting_id, 101, false);
      }
    }
    changed();
    if (!connection) {
      rejectUpgrade(request, response, is_upgrade);
      return;
    }
    try {
      WebSocket ws(request, response);
      serve(ws, *connection);
    } catch (const Poco::Net::WebSocketException&) {
      if (!response.sent()) {
        sendJson(response, 400, errorBody("MMC.400", "BAD_HANDSHAKE"));
      }
    } catch (const Poco::Exception&) {
      // The client went away during the handshake.
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      connections.erase(connection->id);
      --observations[meeting_id].connections_open;
    }
    changed();
  }

  void rejectUpgrade(HTTPServerRequest& request, HTTPServerResponse& response, bool is_upgrade) {
    if (!is_upgrade || stopping || options.ws_reject == WsRejectMode::HttpStatus) {
      sendJson(response, is_upgrade && !stopping ? options.ws_reject_status : 400,
               errorBody(kTokenInvalidCode, kTokenInvalidMsg));
      return;
    }
    try {
      WebSocket ws(request, response);
      closeGracefully(ws, options.ws_reject_close_code, "invalid tmpToken");
    } catch (const Poco::Exception&) {
    }
  }

  // ------------------------------------------------------------------------------------------
  // WebSocket connections
  // ------------------------------------------------------------------------------------------

  static void closeGracefully(WebSocket& ws, std::uint16_t code, const std::string& reason) {
    try {
      ws.shutdown(code, reason);
      const auto deadline = SteadyClock::now() + kCloseHandshake;
      Poco::Buffer<char> buffer(0);
      while (SteadyClock::now() < deadline) {
        if (ws.available() <= 0 && !ws.poll(Poco::Timespan(100 * Poco::Timespan::MILLISECONDS),
                                            Poco::Net::Socket::SELECT_READ)) {
          continue;
        }
        int flags = 0;
        buffer.resize(0);
        const int n = ws.receiveFrame(buffer, flags);
        if ((n == 0 && flags == 0) ||
            (flags & WebSocket::FRAME_OP_BITMASK) == WebSocket::FRAME_OP_CLOSE) {
          break;
        }
      }
    } catch (const Poco::Exception&) {
    }
    try {
      ws.close();
    } catch (const Poco::Exception&) {
    }
  }

  // Waits until the socket is readable (true) or the connection is woken or `wait` passes.
  static bool waitReadable(WebSocket& ws, Connection& connection, SteadyClock::duration wait) {
    std::array<pollfd, 2> fds{{{ws.impl()->sockfd(), POLLIN, 0}, {connection.wake_fd, POLLIN, 0}}};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(ms));
    if (ready <= 0) {
      return false;  // timeout, or EINTR: the loop re-checks everything
    }
    if ((fds[1].revents & POLLIN) != 0) {
      connection.clearWake();
    }
    return (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
  }

  void send(WebSocket& ws, const Outbound& outbound) {
    int flags = WebSocket::FRAME_TEXT;
    if (outbound.kind == Outbound::Kind::Binary) {
      flags = WebSocket::FRAME_BINARY;
    }
    if (outbound.kind == Outbound::Kind::Ping) {
      flags = kPingFlags;
    }
    for (std::size_t i = 0; i < outbound.repeat && !stopping; ++i) {
      ws.sendFrame(outbound.payload.data(), static_cast<int>(outbound.payload.size()), flags);
    }
  }

  // The connection's thread: the only one that reads or writes `ws` (OpenSSL forbids
  // concurrent use of one TLS connection), so it alternates between draining its queue and
  // waiting briefly for client frames.
  void serve(WebSocket& ws, Connection& connection) {
    ws.setReceiveTimeout(Poco::Timespan(5, 0));
    ws.setSendTimeout(Poco::Timespan(5, 0));
    ws.setMaxPayloadSize(options.max_client_frame_bytes);
    auto last_frame = SteadyClock::now();
    bool stalled = false;  // a fragmented message is open (profile.stalled_fragment)
    auto next_stall_ping = SteadyClock::time_point::max();
    std::optional<Outbound> closing;  // a Close to send, or Drop
    Poco::Buffer<char> buffer(0);
    try {
      while (!closing) {
        if (stopping) {
          closing =
              Outbound{Outbound::Kind::Close, "server stopping", WebSocket::WS_ENDPOINT_GOING_AWAY};
          break;
        }
        std::deque<Outbound> batch;
        bool silent = false;
        {
          std::lock_guard<std::mutex> lock(connection.queue_mutex);
          batch.swap(connection.queue);
          silent = connection.silent;
        }
        for (Outbound& outbound : batch) {
          if (outbound.kind == Outbound::Kind::Close || outbound.kind == Outbound::Kind::Drop) {
            closing = std::move(outbound);
            break;
          }
          if (outbound.kind == Outbound::Kind::OpenFragment) {
            if (!silent && !stalled) {
              // A text frame without FIN: the client must now wait for continuation frames.
              ws.sendFrame(outbound.payload.data(), static_cast<int>(outbound.payload.size()),
                           WebSocket::FRAME_OP_TEXT);
              stalled = true;
              next_stall_ping = SteadyClock::now() + options.profile.stall_ping_interval;
              std::lock_guard<std::mutex> lock(mutex);
              ++observations[connection.meeting_id].fragments_stalled;
            }
            continue;
          }
          // A silent server loses what it would have sent; a stalled one may only send
          // control frames, since a data frame inside the open message breaks the protocol.
          if (!silent && (!stalled || outbound.kind == Outbound::Kind::Ping)) {
            send(ws, outbound);
          }
        }
        if (closing) {
          break;
        }
        const auto silence_deadline =
            last_frame + std::chrono::milliseconds(silence_timeout_ms.load());
        const auto now = SteadyClock::now();
        if (now >= silence_deadline) {
          closing = Outbound{Outbound::Kind::Close, "no frame within the silence timeout",
                             WebSocket::WS_NORMAL_CLOSE};
          break;
        }
        if (stalled && !silent && now >= next_stall_ping) {
          ws.sendFrame("stall", 5, kPingFlags);
          next_stall_ping = now + options.profile.stall_ping_interval;
        }
        // Wake at least once a second: setSilenceTimeout() may have shortened the deadline.
        auto wait = std::min<SteadyClock::duration>(silence_deadline - now, 1s);
        if (stalled) {
          wait = std::min<SteadyClock::duration>(
              wait, std::max<SteadyClock::duration>(next_stall_ping - now, 1ms));
        }
        if (silent) {
          std::unique_lock<std::mutex> lock(connection.queue_mutex);
          if (!connection.silent_acknowledged) {
            connection.silent_acknowledged = true;
            connection.queue_cv.notify_all();
          }
          connection.clearWake();
          if (connection.queue.empty() && connection.silent && !stopping) {
            connection.queue_cv.wait_for(lock, wait);
          }
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(connection.queue_mutex);
          connection.silent_acknowledged = false;
        }
        if (ws.available() <= 0 && !waitReadable(ws, connection, wait)) {
          continue;
        }
        int flags = 0;
        buffer.resize(0);
        const int n = ws.receiveFrame(buffer, flags);
        if (n == 0 && flags == 0) {
          closing = Outbound{Outbound::Kind::Drop, "", 0};  // the peer closed the TCP stream
          break;
        }
        last_frame = SteadyClock::now();
        const std::string payload(buffer.begin(), static_cast<std::size_t>(n));
        switch (flags & WebSocket::FRAME_OP_BITMASK) {
          case WebSocket::FRAME_OP_CLOSE:
            ws.sendFrame(payload.data(), n, kCloseFlags);
            closing = Outbound{Outbound::Kind::Drop, "", 0};
            break;
          case WebSocket::FRAME_OP_PING: {
            ws.sendFrame(payload.data(), n, kPongFlags);
            std::lock_guard<std::mutex> lock(mutex);
            ++observations[connection.meeting_id].pings_received;
          } break;
          case WebSocket::FRAME_OP_PONG: {
            std::lock_guard<std::mutex> lock(mutex);
            ++observations[connection.meeting_id].pongs_received;
          } break;
          case WebSocket::FRAME_OP_TEXT:
            if ((flags & WebSocket::FRAME_FLAG_FIN) != 0) {
              onText(connection, payload);
              break;
            }
            [[fallthrough]];  // fragmented messages are not part of the protocol
          default: {
            std::lock_guard<std::mutex> lock(mutex);
            ++observations[connection.meeting_id].client_frame_errors;
          }
        }
        changed();
      }
    } catch (const Poco::Net::WebSocketException& e) {
      closing =
          e.code() == WebSocket::WS_ERR_PAYLOAD_TOO_BIG
              ? Outbound{Outbound::Kind::Close, "frame too large", WebSocket::WS_PAYLOAD_TOO_BIG}
              : Outbound{Outbound::Kind::Drop, "", 0};
    } catch (const Poco::Exception&) {
      closing = Outbound{Outbound::Kind::Drop, "", 0};  // timeout, reset, TLS error
    }
    if (closing && closing->kind == Outbound::Kind::Close) {
      closeGracefully(ws, closing->code, closing->payload);
    } else {
      try {
        ws.close();
      } catch (const Poco::Exception&) {
      }
    }
  }

  void onText(Connection& connection, const std::string& text) {
    Object::Ptr frame;
    try {
      Poco::JSON::Parser parser;
      parser.setDepth(64);
      Poco::Dynamic::Var parsed = parser.parse(text);
      if (parsed.type() == typeid(Object::Ptr)) {
        frame = parsed.extract<Object::Ptr>();
      }
    } catch (const Poco::Exception&) {
    }
    std::lock_guard<std::mutex> lock(mutex);
    MeetingObservations& obs = observations[connection.meeting_id];
    if (!frame) {
      ++obs.client_frame_errors;
      return;
    }
    const std::string action = frame->optValue<std::string>("action", "");
    if (action == "HeartBeat") {
      append(obs.heartbeats, WallClock::now());
      if (options.profile.echo_heartbeat) {
        connection.post({Outbound::Kind::Text, text, 0});  // echoed unchanged (§3)
      }
    } else if (action == "Subscribe") {
      append(obs.subscribe_frames, text);
      onSubscribe(connection, *frame, obs);
    }
    // Other actions are ignored, as the real service does with what it does not know.
  }

  // Requires `mutex`.
  void onSubscribe(Connection& connection, const Object& frame, MeetingObservations& obs) {
    Object::Ptr data;
    try {
      if (frame.isObject("data")) {
        data = frame.getObject("data");
      } else if (frame.has("data") && frame.get("data").isString()) {
        Poco::JSON::Parser parser;
        parser.setDepth(16);
        Poco::Dynamic::Var parsed = parser.parse(frame.get("data").toString());
        if (parsed.type() == typeid(Object::Ptr)) {
          data = parsed.extract<Object::Ptr>();
        }
      }
    } catch (const Poco::Exception&) {
    }
    std::vector<PushType> types;
    bool authorised = false;
    if (data) {
      const std::string token =
          tokenFromAuthorization(data->optValue<std::string>("confToken", ""));
      auto found = control_tokens.find(token);
      auto meeting = meetings.find(connection.meeting_id);
      authorised = found != control_tokens.end() &&
                   found->second.meeting_id == connection.meeting_id &&
                   found->second.expires > WallClock::now() && meeting != meetings.end() &&
                   meeting->second->started();
      if (data->isArray("subscribeType")) {
        Array::Ptr names = data->getArray("subscribeType");
        for (std::size_t i = 0; i < names->size(); ++i) {
          auto type = pushTypeFromAction(names->get(static_cast<unsigned>(i)).toString());
          if (type && std::find(types.begin(), types.end(), *type) == types.end()) {
            types.push_back(*type);
          }
        }
      }
    }
    int return_code = authorised ? 0 : options.subscribe_failure_code;
    if (auto forced = reject_next_subscribe.find(connection.meeting_id);
        forced != reject_next_subscribe.end() && authorised) {
      return_code = forced->second;
      reject_next_subscribe.erase(forced);
    }

    Object::Ptr reply = newObject();
    reply->set("action", "Subscribe");
    reply->set("sequence", frame.has("sequence") ? frame.get("sequence") : Poco::Dynamic::Var(""));
    Object::Ptr result = newObject();
    result->set("returnCode", return_code);
    result->set("returnDesc ", return_code == 0 ? "SUCCESS" : "AUTH_FAILED");  // sic (§3)
    reply->set("data", result);
    if (options.profile.answer_subscribe) {
      connection.post({Outbound::Kind::Text, toText(reply), 0});
    }
    if (return_code != 0) {
      ++obs.subscribes_rejected;
      connection.live = false;
      connection.post(
          {Outbound::Kind::Close, "subscribe rejected", WebSocket::WS_POLICY_VIOLATION});
      return;
    }
    ++obs.subscribes_accepted;
    connection.subscribed = std::set<PushType>(types.begin(), types.end());
    connection.live = true;
    Meeting& meeting = *meetings.at(connection.meeting_id);
    const std::int64_t now = nowMs();
    for (PushType type : types) {
      if (auto push = meeting.snapshot(type, now)) {
        connection.post({Outbound::Kind::Text, push->text, 0});
      }
    }
    if (options.profile.stalled_fragment) {
      connection.post(
          {Outbound::Kind::OpenFragment, R"({"action":"ParticipantsNotify","data":[)", 0});
    }
  }

  // ------------------------------------------------------------------------------------------
  // Ticker
  // ------------------------------------------------------------------------------------------

  void tickLoop() {
    const auto tick = options.tick;
    auto next_step = SteadyClock::now() + tick;
    std::unique_lock<std::mutex> lock(ticker_mutex);
    while (!stopping) {
      auto wake = SteadyClock::now() + std::chrono::milliseconds(50);
      if (tick.count() > 0) {
        wake = std::min(wake, next_step);
      }
      ticker_cv.wait_until(lock, wake, [this] { return stopping.load(); });
      if (stopping) {
        break;
      }
      {
        std::lock_guard<std::mutex> state(mutex);
        const std::int64_t now = nowMs();
        for (auto& [meeting_id, meeting] : meetings) {
          if (meeting->dueToEnd(now)) {
            endLocked(meeting_id);
          }
          if (meeting->dueToStart(now)) {
            startLocked(*meeting, now);
          }
        }
        if (tick.count() > 0 && SteadyClock::now() >= next_step) {
          for (auto& [meeting_id, meeting] : meetings) {
            if (meeting->spec().lively && meeting->started()) {
              deliver(meeting_id, meeting->step(now));
            }
          }
          next_step += tick;
          // After a stall (debugger, overloaded machine) skip missed steps, do not burst.
          if (next_step < SteadyClock::now()) {
            next_step = SteadyClock::now() + tick;
          }
        }
      }
      changed();
    }
  }

  void forEachConnection(const std::string& meeting_id, const Outbound& outbound) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (const auto& connection : connectionsOf(meeting_id)) {
        connection->post(outbound);
      }
    }
    changed();
  }
};

// ---------------------------------------------------------------------------------------------
// Simulator
// ---------------------------------------------------------------------------------------------

Simulator::Simulator(SimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator() { stop(); }

void Simulator::addMeeting(const MeetingSpec& spec) {
  if (spec.meeting_id.empty()) {
    throw std::invalid_argument("meeting_id must not be empty");
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->meetings.count(spec.meeting_id) != 0) {
      throw std::invalid_argument("duplicate meeting_id " + spec.meeting_id);
    }
    auto meeting = std::make_unique<Meeting>(spec, impl_->options.seed, nowMs());
    impl_->remember(spec.host_password);
    impl_->remember(meeting->guestPassword());
    impl_->observations[spec.meeting_id];
    if (meeting->started()) {
      impl_->management->meetingStarted(Impl::viewOf(*meeting));
    }
    impl_->meetings.emplace(spec.meeting_id, std::move(meeting));
  }
  impl_->changed();
}

void Simulator::start() {
  std::lock_guard<std::mutex> lifecycle(impl_->lifecycle_mutex);
  if (impl_->running) {
    throw std::logic_error("simulator already started");
  }
  const SimulatorOptions& o = impl_->options;
  Poco::Net::initializeSSL();
  try {
    Poco::Net::Context::Params params;
    params.certificateFile = o.cert_file;
    params.privateKeyFile = o.key_file;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    params.loadDefaultCAs = false;
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::SERVER_USE, params);
    SSL_CTX_set_tlsext_servername_callback(context->sslContext(), Impl::onServerName);
    SSL_CTX_set_tlsext_servername_arg(context->sslContext(), impl_.get());
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress(o.host, o.port), 256, context);
    impl_->bound_port = socket.address().port();

    auto* http = new Poco::Net::HTTPServerParams;
    http->setMaxThreads(o.max_connections);
    http->setMaxQueued(o.max_connections);
    // One request per REST connection: no idle keep-alive sessions linger at stop().
    http->setKeepAlive(false);
    http->setTimeout(Poco::Timespan(10, 0));
    impl_->pool = std::make_unique<Poco::ThreadPool>(2, o.max_connections + 4, 60);
    Impl* impl = impl_.get();
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(
        new CallbackFactory([impl](HTTPServerRequest& request, HTTPServerResponse& response) {
          impl->handle(request, response);
        }),
        *impl_->pool, socket, http);
    impl_->stopping = false;
    impl_->server->start();
  } catch (...) {
    impl_->server.reset();
    impl_->pool.reset();
    Poco::Net::uninitializeSSL();
    throw;
  }
  impl_->ticker = std::thread([impl = impl_.get()] { impl->tickLoop(); });
  impl_->running = true;
}

void Simulator::stop() {
  std::lock_guard<std::mutex> lifecycle(impl_->lifecycle_mutex);
  if (!impl_->running) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->ticker_mutex);
    impl_->stopping = true;
  }
  impl_->ticker_cv.notify_all();
  impl_->ticker.join();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    for (const auto& [id, connection] : impl_->connections) {
      connection->wake();
    }
  }
  // Connection threads see `stopping` within one poll interval and close their sockets
  // themselves; only then is it safe to let Poco shut the remaining sockets down.
  waitFor(
      [this] {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        return impl_->connections.empty();
      },
      std::chrono::seconds(10));
  impl_->server->stopAll(false);
  impl_->pool->joinAll();
  impl_->server.reset();
  impl_->pool.reset();
  Poco::Net::uninitializeSSL();
  impl_->running = false;
}

std::uint16_t Simulator::port() const { return impl_->bound_port; }

std::string Simulator::apiUrl() const {
  const SimulatorOptions& o = impl_->options;
  return "https://" + impl_->hostPort(o.api_host.empty() ? o.host : o.api_host);
}

std::string Simulator::wsUrl() const { return impl_->wsUrl(); }

Management& Simulator::management() { return *impl_->management; }

std::vector<std::string> Simulator::meetingIds() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<std::string> ids;
  for (const auto& [id, meeting] : impl_->meetings) {
    ids.push_back(id);
  }
  return ids;
}

bool Simulator::step(const std::string& meeting_id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->meetings.find(meeting_id);
    if (it == impl_->meetings.end() || !it->second->started()) {
      return false;
    }
    impl_->deliver(meeting_id, it->second->step(nowMs()));
  }
  impl_->changed();
  return true;
}

std::optional<MeetingTruth> Simulator::truth(const std::string& meeting_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->meetings.find(meeting_id);
  if (it == impl_->meetings.end()) {
    return std::nullopt;
  }
  return it->second->truth();
}

bool Simulator::startMeeting(const std::string& meeting_id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->meetings.find(meeting_id);
    if (it == impl_->meetings.end()) {
      return false;
    }
    impl_->startLocked(*it->second, nowMs());
  }
  impl_->changed();
  return true;
}

bool Simulator::endMeeting(const std::string& meeting_id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->meetings.find(meeting_id);
    if (it == impl_->meetings.end() || !it->second->started()) {
      return false;
    }
    impl_->endLocked(meeting_id);
  }
  impl_->changed();
  return true;
}

void Simulator::dropConnections(const std::string& meeting_id, DropMode mode,
                                std::uint16_t close_code) {
  impl_->forEachConnection(meeting_id,
                           mode == DropMode::TcpClose
                               ? Outbound{Outbound::Kind::Drop, "", 0}
                               : Outbound{Outbound::Kind::Close, "dropped", close_code});
}

void Simulator::setSilent(const std::string& meeting_id, bool silent) {
  std::vector<std::shared_ptr<Connection>> affected;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (silent) {
      impl_->silent_meetings.insert(meeting_id);
    } else {
      impl_->silent_meetings.erase(meeting_id);
    }
    affected = impl_->connectionsOf(meeting_id);
  }
  // Outside `mutex`: the connection threads take it while handling frames.
  for (const auto& connection : affected) {
    connection->setSilent(silent, std::chrono::seconds(2));
  }
  impl_->changed();
}

void Simulator::refuseTokenCalls(const TokenRefusal& refusal) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (refusal.endpoint != TokenEndpoint::WebSocket) {
    impl_->control_refusal = refusal;
  }
  if (refusal.endpoint != TokenEndpoint::Control) {
    impl_->ws_refusal = refusal;
  }
}

void Simulator::clearTokenRefusals() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->control_refusal.reset();
  impl_->ws_refusal.reset();
}

void Simulator::expireControlTokens(const std::string& meeting_id) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const auto past = WallClock::now() - std::chrono::seconds(1);
  for (auto& [token, control] : impl_->control_tokens) {
    if (meeting_id.empty() || control.meeting_id == meeting_id) {
      control.expires = past;
    }
  }
}

void Simulator::rejectNextSubscribe(const std::string& meeting_id, int return_code) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->reject_next_subscribe[meeting_id] = return_code;
}

void Simulator::sendText(const std::string& meeting_id, const std::string& text) {
  impl_->forEachConnection(meeting_id, {Outbound::Kind::Text, text, 0});
}

void Simulator::flood(const std::string& meeting_id, const std::string& text, std::size_t count) {
  impl_->forEachConnection(meeting_id, {Outbound::Kind::Text, text, 0, count});
}

void Simulator::sendBinary(const std::string& meeting_id, const std::string& bytes) {
  impl_->forEachConnection(meeting_id, {Outbound::Kind::Binary, bytes, 0});
}

void Simulator::sendOversized(const std::string& meeting_id, std::size_t bytes) {
  const std::string head = "{\"action\":\"NetworkQualityNotify\",\"confID\":\"" + meeting_id +
                           "\",\"msgMode\":1,\"data\":[],\"padding\":\"";
  const std::string tail = "\"}";
  std::string text = head;
  if (bytes > head.size() + tail.size()) {
    text.append(bytes - head.size() - tail.size(), 'x');
  }
  text += tail;
  sendText(meeting_id, text);
}

void Simulator::sendMalformed(const std::string& meeting_id) {
  sendText(meeting_id, "{\"action\":\"ParticipantsNotify\",\"data\":[{\"pid\":");
}

void Simulator::sendPing(const std::string& meeting_id, const std::string& payload) {
  impl_->forEachConnection(meeting_id, {Outbound::Kind::Ping, payload, 0});
}

void Simulator::setSilenceTimeout(std::chrono::milliseconds timeout) {
  impl_->silence_timeout_ms = timeout.count();
}

std::vector<RestCall> Simulator::restCalls() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->rest_calls;
}

MeetingObservations Simulator::observations(const std::string& meeting_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->observations.find(meeting_id);
  return it == impl_->observations.end() ? MeetingObservations{} : it->second;
}

std::vector<std::string> Simulator::tlsServerNames() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return {impl_->tls_server_names.begin(), impl_->tls_server_names.end()};
}

std::vector<std::string> Simulator::secrets() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return {impl_->secrets.begin(), impl_->secrets.end()};
}

bool Simulator::waitFor(const std::function<bool()>& predicate,
                        std::chrono::milliseconds timeout) const {
  const auto deadline = SteadyClock::now() + timeout;
  std::unique_lock<std::mutex> lock(impl_->change_mutex);
  while (true) {
    const std::uint64_t seen = impl_->generation;
    lock.unlock();
    const bool done = predicate();
    lock.lock();
    if (done) {
      return true;
    }
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      return false;
    }
    impl_->change_cv.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)),
                                [&] { return impl_->generation != seen; });
  }
}

}  // namespace hme::simulator
