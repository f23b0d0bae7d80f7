#pragma once
/// The exporter's HTTP endpoint. It knows nothing about meetings: the owner passes callbacks
/// that render the metrics and the status page, report readiness and reload the config.
///
///   <telemetry_path>  GET|HEAD  200 text/plain; version=0.0.4 (gzip when accepted), 500 on error
///   /                 GET|HEAD  200 text/html status page
///   /-/healthy        GET|HEAD  200 "Healthy"
///   /-/ready          GET|HEAD  200 or 503, body from the callback
///   /-/reload         POST      200 or 500, body from the callback; other methods 405
///   a claimed path    any       from the optional extra route (e.g. the webhook receiver)
///   anything else               404
///
/// With WebOptions::web_config (`--web.config.file`) the listeners serve HTTPS, every response
/// carries the configured headers, and when basic_auth_users is set every path (health and
/// readiness included, as in exporter-toolkit) answers 401 with `WWW-Authenticate: Basic` unless
/// the request has the right credentials.
///
/// Bodies of the status page, ready and reload answers are sent exactly as the callbacks return
/// them: they never contain secrets (hme::Secret cannot be printed), so nothing is masked.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plugin/web/basic_auth.h"
#include "plugin/web/listen_address.h"
#include "plugin/web/web_config.h"

namespace hme::web {

/// Where and how to serve.
struct WebOptions {
  /// `:9877` (all interfaces), `host:port` or `[v6]:port`; port 0 picks a free port.
  std::vector<std::string> listen_addresses{":9877"};
  /// Path of the metrics; must start with '/' and not clash with `/` or `/-/…`.
  std::string telemetry_path = "/metrics";
  /// Worker threads per listen address: the most requests served at once.
  int max_threads = 8;
  /// Accepted connections waiting for a worker; beyond that new connections are closed.
  int max_queued = 64;
  /// Socket send/receive timeout while a request is read or a response written.
  std::chrono::milliseconds request_timeout{10'000};
  /// How long an idle keep-alive connection may hold a worker before it is closed.
  std::chrono::milliseconds keep_alive_timeout{5'000};
  /// TLS, basic auth users and extra response headers; the default is plain HTTP, no auth.
  WebConfig web_config;
  /// Checks the credentials when web_config.basic_auth_users is not empty. nullptr: the server
  /// makes a BasicAuthenticator with bcrypt for those users (tests inject a recording one).
  std::shared_ptr<BasicAuthenticator> authenticator;
};

/// A request on a path claimed by WebHandlers::extra_route_body_limit.
struct ExtraRequest {
  std::string method;
  std::string path;
  std::string body;  ///< the raw request body (at most the claimed limit)
};

/// The answer to an ExtraRequest.
struct ExtraReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// The callbacks behind the endpoints. All are required except the extra route pair. They are
/// called from the server's worker threads, possibly concurrently (except reload, which the server
/// serialises), so they must be thread-safe. An exception thrown by one becomes a 500 with a
/// generic text (the exception's message is logged, not sent).
struct WebHandlers {
  /// The Prometheus text exposition (format 0.0.4).
  std::function<std::string()> render_metrics;
  /// A complete HTML document; escape untrusted text with htmlEscape().
  std::function<std::string()> render_status_html;
  /// Reloads the config: {true, message} → 200, {false, error} → 500; the text is the body.
  std::function<std::pair<bool, std::string>()> reload;
  /// {true, text} → 200, {false, text} → 503; the text is the body.
  std::function<std::pair<bool, std::string>()> ready;
  /// Optional: claims a path the server does not serve itself (e.g. a webhook receiver) by
  /// returning the largest request body it accepts; nullopt leaves it to the server (404). Paths
  /// the server serves itself are never offered. A claimed route authenticates its requests
  /// itself (e.g. by a signature): access rules of the server must not apply to it.
  std::function<std::optional<std::size_t>(const std::string& path)> extra_route_body_limit;
  /// Answers a request on a claimed path; required with extra_route_body_limit. A body above the
  /// limit is answered 413 without a call.
  std::function<ExtraReply(const ExtraRequest& request)> extra_route;
};

/// A listen address could not be bound (in use, not local, host not resolvable, …).
class BindError : public std::runtime_error {
 public:
  BindError(std::string address, const std::string& reason);
  /// The listen address as given in WebOptions.
  const std::string& address() const { return address_; }

 private:
  std::string address_;
};

/// The HTTP server: one Poco HTTPServer per listen address with its own bounded thread pool.
/// start() and stop() must not be called concurrently with each other; boundAddresses() and
/// running() may be called from any thread.
class WebServer {
 public:
  /// Validates the options and loads the TLS material. Throws std::invalid_argument naming a
  /// bad listen address, a bad telemetry path, a missing callback, a non-positive limit or a
  /// TLS file that cannot be loaded (see makeServerContext). Binds nothing yet.
  WebServer(WebOptions options, WebHandlers handlers);
  /// Stops the server if it still runs.
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  /// Binds every listen address, then starts serving and logs each bound address. Either all
  /// addresses serve or none: throws BindError naming the first address that failed, and
  /// std::logic_error if called twice.
  void start();

  /// Stops accepting, lets requests in flight complete, closes idle keep-alive connections,
  /// releases the ports and returns. Idempotent; does not throw.
  void stop() noexcept;

  /// True between a successful start() and the beginning of stop().
  bool running() const;

  /// The addresses actually bound, in listen_addresses order, e.g. "127.0.0.1:43817" when
  /// "127.0.0.1:0" was asked and "[::]:9877" for ":9877". Empty before start() and after stop().
  std::vector<std::string> boundAddresses() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hme::web
