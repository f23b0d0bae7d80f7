#include "plugin/web/web_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <string_view>
#include <type_traits>

#include "plugin/log/log.h"
#include "plugin/web/gzip.h"
#include "plugin/web/tls_server.h"

namespace hme::web {
namespace {

namespace net = Poco::Net;
using Status = net::HTTPResponse::HTTPStatus;

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";
constexpr const char* kHtmlContentType = "text/html; charset=utf-8";
// Request bodies are never used; small ones are read and dropped to keep the connection usable,
// larger ones end the connection instead of tying up a worker.
constexpr Poco::Int64 kMaxDrainedBody = Poco::Int64{64} * 1024;
constexpr int kListenBacklog = 64;
constexpr int kMaxKeepAliveRequests = 100;

struct Reply {
  Status status = Status::HTTP_OK;
  std::string content_type = kTextContentType;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Reply text(Status status, std::string body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Reply methodNotAllowed(const char* allow) {
  Reply r = text(Status::HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n");
  r.headers.emplace_back("Allow", allow);
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// True when the Accept-Encoding header lists gzip with a non-zero quality (RFC 9110 §12.5.3).
bool acceptsGzip(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto semi = item.find(';');
    if (!iequals(trim(item.substr(0, semi)), "gzip")) {
      continue;
    }
    if (semi == std::string_view::npos) {
      return true;
    }
    std::string_view param = trim(item.substr(semi + 1));
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') {
      return true;
    }
    param = trim(param.substr(2));
    // q=0, q=0.0, q=0.000 all mean "not acceptable".
    return param.find_first_not_of("0.") != std::string_view::npos;
  }
  return false;
}

// Calls a user callback; an exception becomes a logged error and a generic 500.
template <typename Fn>
std::optional<std::invoke_result_t<Fn>> guarded(const char* what, const Fn& fn, Reply& failure) {
  try {
    return fn();
  } catch (const std::exception& e) {
    log::error(what, {{"err", e.what()}});
  } catch (...) {
    log::error(what, {{"err", "unknown exception"}});
  }
  failure = text(Status::HTTP_INTERNAL_SERVER_ERROR, std::string(what) + "\n");
  return std::nullopt;
}

// Decides the answer to one request. Shared by every listener; the callbacks provide the
// thread-safety of what they touch, this class only serialises reloads.
class Router {
 public:
  Router(const WebOptions& options, WebHandlers handlers,
         std::shared_ptr<BasicAuthenticator> authenticator)
      : telemetry_path_(options.telemetry_path),
        handlers_(std::move(handlers)),
        authenticator_(std::move(authenticator)),
        headers_(options.web_config.headers) {}

  /// The body limit of an extra route claiming `path`, if any.
  std::optional<std::size_t> extraRouteLimit(const std::string& path) const {
    if (!handlers_.extra_route_body_limit || path == telemetry_path_ || path == "/" ||
        path.rfind("/-/", 0) == 0) {
      return std::nullopt;
    }
    Reply failure;
    auto limit = guarded(
        "error routing the request", [&] { return handlers_.extra_route_body_limit(path); },
        failure);
    return limit ? *limit : std::nullopt;
  }

  Reply extraRoute(ExtraRequest request) {
    Reply failure;
    auto answer = guarded(
        "error answering the request", [&] { return handlers_.extra_route(request); }, failure);
    if (!answer) {
      return failure;
    }
    Reply r;
    r.status = static_cast<Status>(answer->status);
    r.content_type = answer->content_type;
    r.body = std::move(answer->body);
    return r;
  }

  // The configured headers go on every answer, a 401 included (as in exporter-toolkit).
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

  Reply route(const std::string& method, const std::string& path, std::string_view accept_encoding,
              std::string_view authorization) {
    if (authenticator_ && !authenticator_->authorize(authorization)) {
      Reply r = text(Status::HTTP_UNAUTHORIZED, "401 Unauthorized\n");
      r.headers.emplace_back("WWW-Authenticate", "Basic");
      return r;
    }
    const bool readable =
        method == net::HTTPRequest::HTTP_GET || method == net::HTTPRequest::HTTP_HEAD;
    if (path == telemetry_path_) {
      return readable ? metrics(accept_encoding) : methodNotAllowed("GET, HEAD");
    }
    if (path == "/") {
      return readable ? status() : methodNotAllowed("GET, HEAD");
    }
    if (path == "/-/healthy") {
      return readable ? text(Status::HTTP_OK, "Healthy") : methodNotAllowed("GET, HEAD");
    }
    if (path == "/-/ready") {
      return readable ? ready() : methodNotAllowed("GET, HEAD");
    }
    if (path == "/-/reload") {
      return method == net::HTTPRequest::HTTP_POST ? reload() : methodNotAllowed("POST");
    }
    return text(Status::HTTP_NOT_FOUND, "404 page not found\n");
  }

 private:
  Reply metrics(std::string_view accept_encoding) {
    Reply failure;
    auto body = guarded("error rendering metrics", handlers_.render_metrics, failure);
    if (!body) {
      return failure;
    }
    Reply r;
    r.content_type = kMetricsContentType;
    r.headers.emplace_back("Vary", "Accept-Encoding");
    if (acceptsGzip(accept_encoding)) {
      r.body = gzipCompress(*body);
      r.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      r.body = std::move(*body);
    }
    return r;
  }

  Reply status() {
    Reply failure;
    auto html = guarded("error rendering the status page", handlers_.render_status_html, failure);
    if (!html) {
      return failure;
    }
    Reply r;
    r.content_type = kHtmlContentType;
    r.body = std::move(*html);
    return r;
  }

  Reply ready() {
    Reply failure;
    auto result = guarded("error checking readiness", handlers_.ready, failure);
    if (!result) {
      return failure;
    }
    return text(result->first ? Status::HTTP_OK : Status::HTTP_SERVICE_UNAVAILABLE, result->second);
  }

  Reply reload() {
    std::lock_guard lock(reload_mutex_);
    Reply failure;
    auto result = guarded("error reloading the config", handlers_.reload, failure);
    if (!result) {
      return failure;
    }
    if (!result->first) {
      log::error("reload failed", {{"err", result->second}});
    }
    return text(result->first ? Status::HTTP_OK : Status::HTTP_INTERNAL_SERVER_ERROR,
                result->second);
  }

  const std::string telemetry_path_;
  const WebHandlers handlers_;
  const std::shared_ptr<BasicAuthenticator> authenticator_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  std::mutex reload_mutex_;
};

// Reads a body of at most `limit` bytes; nullopt (and the connection is not kept alive) if it is
// larger. A declared body up to 16 times the limit is read and dropped first, so the client sees
// the 413 instead of a connection reset in the middle of its upload.
std::optional<std::string> readRequestBody(net::HTTPServerRequest& request,
                                           net::HTTPServerResponse& response, std::size_t limit) {
  if (request.hasContentLength() &&
      request.getContentLength64() > static_cast<Poco::Int64>(limit)) {
    response.setKeepAlive(false);
    if (request.getContentLength64() <= static_cast<Poco::Int64>(16 * limit)) {
      request.stream().ignore(static_cast<std::streamsize>(request.getContentLength64()));
    }
    return std::nullopt;
  }
  std::string body;
  char chunk[4096];
  std::istream& in = request.stream();
  while (body.size() <= limit && in) {
    in.read(chunk, sizeof chunk);
    body.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (body.size() > limit) {
    response.setKeepAlive(false);
    return std::nullopt;
  }
  return body;
}

void dropRequestBody(net::HTTPServerRequest& request, net::HTTPServerResponse& response) {
  if (request.getChunkedTransferEncoding()) {
    response.setKeepAlive(false);
  } else if (request.hasContentLength() && request.getContentLength64() > 0) {
    if (request.getContentLength64() > kMaxDrainedBody) {
      response.setKeepAlive(false);
    } else {
      request.stream().ignore(static_cast<std::streamsize>(request.getContentLength64()));
    }
  }
}

class RequestHandler : public net::HTTPRequestHandler {
 public:
  explicit RequestHandler(Router& router) : router_(router) {}

  void handleRequest(net::HTTPServerRequest& request, net::HTTPServerResponse& response) override {
    try {
      Reply reply;
      try {
        const std::string path = Poco::URI(request.getURI()).getPath();
        if (const auto limit = router_.extraRouteLimit(path)) {
          // A claimed route authenticates its requests itself: no basic auth here.
          auto body = readRequestBody(request, response, *limit);
          reply = body ? router_.extraRoute({request.getMethod(), path, std::move(*body)})
                       : text(Status::HTTP_REQUEST_ENTITY_TOO_LARGE, "413 request too large\n");
        } else {
          dropRequestBody(request, response);
          reply = router_.route(request.getMethod(), path, request.get("Accept-Encoding", ""),
                                request.get("Authorization", ""));
        }
      } catch (const Poco::SyntaxException&) {
        dropRequestBody(request, response);
        reply = text(Status::HTTP_BAD_REQUEST, "400 bad request\n");
      }
      response.setStatusAndReason(reply.status);
      response.setContentType(reply.content_type);
      for (const auto& [name, value] : router_.headers()) {
        response.set(name, value);
      }
      for (const auto& [name, value] : reply.headers) {
        response.set(name, value);
      }
      response.setContentLength64(static_cast<Poco::Int64>(reply.body.size()));
      std::ostream& out = response.send();
      // HEAD gets the headers a GET would get, Content-Length included, and no body.
      if (request.getMethod() != net::HTTPRequest::HTTP_HEAD) {
        out.write(reply.body.data(), static_cast<std::streamsize>(reply.body.size()));
      }
    } catch (const Poco::Exception& e) {
      // Mostly a client that went away mid-response: nothing to answer, nothing to alarm about.
      log::debug("web: request aborted", {{"err", e.displayText()}});
    } catch (const std::exception& e) {
      log::error("web: request failed", {{"err", e.what()}});
    }
  }

 private:
  Router& router_;
};

class HandlerFactory : public net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(Router& router) : router_(router) {}
  net::HTTPRequestHandler* createRequestHandler(const net::HTTPServerRequest&) override {
    return new RequestHandler(router_);
  }

 private:
  Router& router_;
};

// `tls` null: plain TCP. A SecureServerSocket is a ServerSocket whose accepted connections do
// the TLS handshake on their first read, i.e. in the worker thread, never in the acceptor.
net::ServerSocket bindSocket(const std::string& text, const ListenAddress& address,
                             const Poco::AutoPtr<net::Context>& tls) {
  try {
    net::ServerSocket socket =
        tls ? net::ServerSocket(net::SecureServerSocket(tls)) : net::ServerSocket();
    if (address.host.empty()) {
      // ":port" means every interface, IPv6 and IPv4 alike when the host has IPv6.
      try {
        socket.bind6(net::SocketAddress(net::IPAddress(net::IPAddress::IPv6), address.port), true,
                     false, false);
      } catch (const Poco::Exception&) {
        socket = tls ? net::ServerSocket(net::SecureServerSocket(tls)) : net::ServerSocket();
        socket.bind(net::SocketAddress(net::IPAddress(net::IPAddress::IPv4), address.port), true,
                    false);
      }
    } else {
      const net::SocketAddress sa(address.host, address.port);
      // SO_REUSEPORT stays off: with it a second exporter could share the port silently.
      if (sa.family() == net::SocketAddress::IPv6) {
        socket.bind6(sa, true, false, true);
      } else {
        socket.bind(sa, true, false);
      }
    }
    socket.listen(kListenBacklog);
    return socket;
  } catch (const Poco::Exception& e) {
    throw BindError(text, e.displayText());
  }
}

}  // namespace

BindError::BindError(std::string address, const std::string& reason)
    : std::runtime_error("cannot listen on \"" + address + "\": " + reason),
      address_(std::move(address)) {}

class WebServer::Impl {
 public:
  Impl(WebOptions options, WebHandlers handlers, std::shared_ptr<BasicAuthenticator> authenticator,
       Poco::AutoPtr<net::Context> tls)
      : options_(std::move(options)),
        router_(options_, std::move(handlers), std::move(authenticator)),
        tls_(std::move(tls)) {}

  struct Listener {
    std::string requested;
    net::ServerSocket socket;
    std::string bound;
    std::unique_ptr<Poco::ThreadPool> pool;
    std::unique_ptr<net::HTTPServer> server;
  };

  enum class State { Created, Running, Stopped };

  const WebOptions options_;
  std::vector<ListenAddress> addresses_;
  Router router_;
  const Poco::AutoPtr<net::Context> tls_;
  State state_ = State::Created;
  std::vector<Listener> listeners_;
  std::atomic<bool> running_{false};
  mutable std::mutex bound_mutex_;
  std::vector<std::string> bound_;

  void serve(Listener& l) {
    l.pool = std::make_unique<Poco::ThreadPool>("web", 1, options_.max_threads);
    net::HTTPServerParams::Ptr params = new net::HTTPServerParams;
    params->setMaxThreads(options_.max_threads);
    params->setMaxQueued(options_.max_queued);
    params->setTimeout(Poco::Timespan(options_.request_timeout.count() * 1000));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(options_.keep_alive_timeout.count() * 1000));
    params->setMaxKeepAliveRequests(kMaxKeepAliveRequests);
    // One factory per server: HTTPServer::stopAll signals the connections through it.
    l.server =
        std::make_unique<net::HTTPServer>(new HandlerFactory(router_), *l.pool, l.socket, params);
    l.server->start();
  }

  static void shutDown(std::vector<Listener>& listeners) noexcept {
    // First stop accepting everywhere and release the ports, so that new connections are
    // refused at once instead of waiting in the backlog of a server that is going away.
    for (auto& l : listeners) {
      if (!l.server) {
        continue;
      }
      try {
        l.server->stop();
        l.socket.close();
      } catch (...) {
      }
    }
    log::debug("web server stopped accepting; finishing requests in flight");
    // stopAll(false) lets the current request of every connection finish, then shuts the
    // connection down (idle keep-alive ones at once); joinAll waits for the workers to return.
    for (auto& l : listeners) {
      if (!l.server) {
        continue;
      }
      try {
        l.server->stopAll(false);
      } catch (...) {
      }
    }
    for (auto& l : listeners) {
      if (l.pool) {
        l.pool->joinAll();
      }
    }
    for (auto& l : listeners) {
      l.server.reset();
      l.pool.reset();
    }
    listeners.clear();
  }
};

WebServer::WebServer(WebOptions options, WebHandlers handlers) {
  if (options.listen_addresses.empty()) {
    throw std::invalid_argument("web: at least one listen address is required");
  }
  std::vector<ListenAddress> addresses;
  for (const auto& a : options.listen_addresses) {
    addresses.push_back(parseListenAddress(a));
  }
  const std::string& path = options.telemetry_path;
  if (path.empty() || path.front() != '/' || path == "/" || path.rfind("/-/", 0) == 0) {
    throw std::invalid_argument("invalid telemetry path \"" + path +
                                "\": must start with '/' and not be '/' or under '/-/'");
  }
  if (!handlers.render_metrics) {
    throw std::invalid_argument("web: render_metrics is required");
  }
  if (!handlers.render_status_html) {
    throw std::invalid_argument("web: render_status_html is required");
  }
  if (!handlers.reload) {
    throw std::invalid_argument("web: reload is required");
  }
  if (!handlers.ready) {
    throw std::invalid_argument("web: ready is required");
  }
  if (handlers.extra_route_body_limit && !handlers.extra_route) {
    throw std::invalid_argument("web: extra_route is required with extra_route_body_limit");
  }
  if (options.max_threads <= 0 || options.max_queued <= 0 || options.request_timeout.count() <= 0 ||
      options.keep_alive_timeout.count() <= 0) {
    throw std::invalid_argument("web: thread, queue and timeout limits must be positive");
  }
  std::shared_ptr<BasicAuthenticator> authenticator;
  if (!options.web_config.basic_auth_users.empty()) {
    authenticator = options.authenticator
                        ? options.authenticator
                        : std::make_shared<BasicAuthenticator>(options.web_config.basic_auth_users);
  }
  Poco::AutoPtr<net::Context> tls;
  if (options.web_config.tls) {
    tls = makeServerContext(*options.web_config.tls);
  }
  impl_ = std::make_unique<Impl>(std::move(options), std::move(handlers), std::move(authenticator),
                                 std::move(tls));
  impl_->addresses_ = std::move(addresses);
}

WebServer::~WebServer() { stop(); }

void WebServer::start() {
  if (impl_->state_ != Impl::State::Created) {
    throw std::logic_error("WebServer::start: already started or stopped");
  }
  std::vector<Impl::Listener> listeners;
  // Bind everything before serving anything, so a failure leaves nothing half-open.
  for (std::size_t i = 0; i < impl_->addresses_.size(); ++i) {
    Impl::Listener l;
    l.requested = impl_->options_.listen_addresses[i];
    l.socket = bindSocket(l.requested, impl_->addresses_[i], impl_->tls_);
    l.bound = l.socket.address().toString();
    listeners.push_back(std::move(l));
  }
  try {
    for (auto& l : listeners) {
      impl_->serve(l);
    }
  } catch (const Poco::Exception& e) {
    Impl::shutDown(listeners);
    throw std::runtime_error("web: cannot start serving: " + e.displayText());
  }
  std::vector<std::string> bound;
  for (const auto& l : listeners) {
    bound.push_back(l.bound);
    log::info("Listening on", {{"address", l.bound}, {"tls", static_cast<bool>(impl_->tls_)}});
  }
  {
    std::lock_guard lock(impl_->bound_mutex_);
    impl_->bound_ = std::move(bound);
  }
  impl_->listeners_ = std::move(listeners);
  impl_->state_ = Impl::State::Running;
  impl_->running_ = true;
}

void WebServer::stop() noexcept {
  if (impl_->state_ == Impl::State::Running) {
    impl_->running_ = false;
    Impl::shutDown(impl_->listeners_);
    std::lock_guard lock(impl_->bound_mutex_);
    impl_->bound_.clear();
  }
  impl_->state_ = Impl::State::Stopped;
}

bool WebServer::running() const { return impl_->running_; }

std::vector<std::string> WebServer::boundAddresses() const {
  std::lock_guard lock(impl_->bound_mutex_);
  return impl_->bound_;
}

}  // namespace hme::web
