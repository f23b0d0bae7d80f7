#pragma once
/// Enterprise mode inside the exporter: the Discoverer fed into the Supervisor, its metrics and
/// status-page section, and the webhook route on the exporter's listener.

#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugin/app/supervisor.h"
#include "plugin/discovery/discoverer.h"
#include "plugin/web/web_server.h"

namespace hme::app {

/// Connects discovery to a Supervisor. Thread-safe.
class DiscoveryWiring {
 public:
  /// `supervisor` must outlive this object.
  explicit DiscoveryWiring(Supervisor& supervisor);
  /// Stops discovery.
  ~DiscoveryWiring();
  DiscoveryWiring(const DiscoveryWiring&) = delete;
  DiscoveryWiring& operator=(const DiscoveryWiring&) = delete;

  /// Builds what applying `config` needs (the management client), changing nothing. Throws
  /// std::invalid_argument when the `api` TLS settings cannot be used.
  std::shared_ptr<const discovery::ManagementClient> prepare(const config::Config& config) const;
  /// Starts, reconfigures or stops discovery for `config` with the client prepare(config)
  /// returned (call after Supervisor::apply). When discovery is turned off, the discovered
  /// meetings stop and their series go. Never throws except std::bad_alloc and
  /// std::system_error when the thread cannot be started.
  void apply(const config::Config& config,
             std::shared_ptr<const discovery::ManagementClient> client);
  /// Stops discovery (the discovered meetings keep running until the supervisor stops them).
  void stop();

  /// The discovery metric families (none while discovery is off).
  std::vector<prometheus::MetricFamily> collect() const;
  /// The status page's discovery section (HTML, no secrets); empty while discovery is off.
  std::string statusHtml() const;
  /// The engine, e.g. for its status in tests.
  discovery::Discoverer& discoverer() { return discoverer_; }

  /// The body limit for `path` if it is the configured webhook path (see
  /// web::WebHandlers::extra_route_body_limit).
  std::optional<std::size_t> webhookBodyLimit(const std::string& path) const;
  /// Answers a request on the webhook path: POST only (405 otherwise).
  web::ExtraReply handleWebhook(const web::ExtraRequest& request);

 private:
  Supervisor& supervisor_;
  discovery::Discoverer discoverer_;
};

/// Routes the webhook path of `wiring` on the web server built from `handlers`.
void addWebhookRoute(web::WebHandlers& handlers, DiscoveryWiring& wiring);

}  // namespace hme::app
