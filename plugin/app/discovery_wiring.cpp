#include "plugin/app/discovery_wiring.h"

#include <sstream>
#include <utility>

#include "plugin/web/html.h"

namespace hme::app {
namespace {

std::string formatAge(std::optional<std::chrono::system_clock::time_point> at) {
  if (!at) {
    return "never";
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *at)
          .count();
  return std::to_string(seconds < 0 ? 0 : seconds) + " s ago";
}

}  // namespace

DiscoveryWiring::DiscoveryWiring(Supervisor& supervisor)
    : supervisor_(supervisor),
      discoverer_([this](const std::vector<discovery::WatchedMeeting>& meetings) {
        return supervisor_.setDiscovered(meetings);
      }) {}

DiscoveryWiring::~DiscoveryWiring() { stop(); }

std::shared_ptr<const discovery::ManagementClient> DiscoveryWiring::prepare(
    const config::Config& config) const {
  return discoverer_.prepareClient(config);
}

void DiscoveryWiring::apply(const config::Config& config,
                            std::shared_ptr<const discovery::ManagementClient> client) {
  discoverer_.apply(config, std::move(client));
  if (!config.discovery) {
    supervisor_.clearDiscovered();
  }
}

void DiscoveryWiring::stop() { discoverer_.stop(); }

std::vector<prometheus::MetricFamily> DiscoveryWiring::collect() const {
  return discoverer_.metrics()->Collect();
}

std::string DiscoveryWiring::statusHtml() const {
  const discovery::DiscoveryStatus status = discoverer_.status();
  if (!status.enabled) {
    return {};
  }
  std::ostringstream html;
  html << "<h2>Discovery</h2>\n<p id=\"discovery\">Last pass " << formatAge(status.last_pass_at)
       << ", last success " << formatAge(status.last_success_at) << ": " << status.found
       << " running, " << status.watched.size() << " watched, " << status.skipped.size()
       << " skipped. Calls since start: " << status.logins << " logins, " << status.list_calls
       << " list, " << status.detail_calls << " detail.";
  if (!status.last_error.empty()) {
    html << " <b>Last error:</b> " << web::htmlEscape(status.last_error) << '.';
  }
  if (status.rate_limited_passes > 0) {
    html << " Slowed down by rate limiting (" << status.rate_limited_passes << " passes).";
  }
  html << "</p>\n";
  if (!status.skipped.empty()) {
    html << "<table id=\"skipped\"><thead><tr><th>Skipped meeting</th><th>Subject</th>"
            "<th>Scheduler</th><th>Reason</th><th>Detail</th></tr></thead><tbody>\n";
    for (const auto& skipped : status.skipped) {
      html << "<tr data-meeting-id=\"" << web::htmlEscape(skipped.meeting_id) << "\"><td>"
           << web::htmlEscape(skipped.meeting_id) << "</td><td>" << web::htmlEscape(skipped.subject)
           << "</td><td>" << web::htmlEscape(skipped.scheduler) << "</td><td class=\"reason\">"
           << discovery::toLabel(skipped.reason) << "</td><td>" << web::htmlEscape(skipped.detail)
           << "</td></tr>\n";
    }
    html << "</tbody></table>\n";
  }
  return html.str();
}

std::optional<std::size_t> DiscoveryWiring::webhookBodyLimit(const std::string& path) const {
  const auto webhook_path = discoverer_.webhookPath();
  if (!webhook_path || *webhook_path != path) {
    return std::nullopt;
  }
  return discovery::kMaxWebhookBodyBytes;
}

web::ExtraReply DiscoveryWiring::handleWebhook(const web::ExtraRequest& request) {
  if (request.method != "POST") {
    return {405, "application/json", "{\"error\":\"use POST\"}"};
  }
  const discovery::WebhookVerdict verdict = discoverer_.handleWebhook(request.body);
  return {verdict.status, "application/json", verdict.body};
}

void addWebhookRoute(web::WebHandlers& handlers, DiscoveryWiring& wiring) {
  handlers.extra_route_body_limit = [&wiring](const std::string& path) {
    return wiring.webhookBodyLimit(path);
  };
  handlers.extra_route = [&wiring](const web::ExtraRequest& request) {
    return wiring.handleWebhook(request);
  };
}

}  // namespace hme::app
