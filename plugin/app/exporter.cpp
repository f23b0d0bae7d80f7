#include "plugin/app/exporter.h"

#include <signal.h>

#include <ctime>
#include <sstream>

#include "metrics/collector.h"
#include "plugin/app/demo.h"
#include "plugin/log/log.h"
#include "plugin/web/html.h"
#include "plugin/web/web_server.h"

#ifndef HME_VERSION
#define HME_VERSION "unknown"
#endif
#ifndef HME_REVISION
#define HME_REVISION "unknown"
#endif

namespace hme::app {
namespace {

metrics::ReduceOptions reduceOptions(const config::MetricsConfig& metrics) {
  metrics::ReduceOptions options;
  options.keep_participant_names = metrics.participant_names;
  return options;
}

metrics::RenderOptions renderOptions(const config::MetricsConfig& metrics) {
  metrics::RenderOptions options;
  options.participant_series = metrics.participant_series;
  options.participant_names = metrics.participant_names;
  options.max_participants_per_meeting = metrics.max_participants_per_meeting;
  options.ended_meeting_retention = metrics.ended_meeting_retention;
  options.poor_network.packet_loss_ratio = metrics.poor_network.packet_loss_ratio;
  options.poor_network.rtt_seconds =
      std::chrono::duration<double>(metrics.poor_network.rtt).count();
  options.poor_network.jitter_seconds =
      std::chrono::duration<double>(metrics.poor_network.jitter).count();
  return options;
}

std::string formatAge(std::optional<metrics::TimePoint> at) {
  if (!at) return "never";
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *at)
          .count();
  return std::to_string(seconds < 0 ? 0 : seconds) + " s ago";
}

}  // namespace

const char* version() { return HME_VERSION; }
const char* revision() { return HME_REVISION; }

Exporter::Exporter(std::function<config::Config()> load_config, std::string version_label,
                   std::string revision_label, std::string telemetry_path)
    : load_config_(std::move(load_config)),
      store_(std::make_shared<metrics::MeetingStore>()),
      collector_(std::make_shared<metrics::Collector>(store_, std::move(version_label),
                                                      std::move(revision_label))),
      supervisor_(store_),
      discovery_(supervisor_),
      telemetry_path_(std::move(telemetry_path)) {}

Exporter::~Exporter() { stop(); }

void Exporter::start() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  const config::Config config = load_config_();
  if (config.api.insecure_skip_verify) {
    log::warn("TLS certificate verification is OFF (api.insecure_skip_verify: true)");
  }
  applyConfig(config);
  started_ = true;
  log::info("config loaded", {{"summary", config::describe(config)}});
}

void Exporter::applyConfig(const config::Config& config) {
  store_->setReduceOptions(reduceOptions(config.metrics));
  collector_->setOptions(renderOptions(config.metrics));
  supervisor_.apply(config);
  discovery_.apply(config);
  store_->setConfigReload(true, std::chrono::system_clock::now());
}

std::pair<bool, std::string> Exporter::reload() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  try {
    const config::Config config = load_config_();
    applyConfig(config);
    log::info("config reloaded", {{"summary", config::describe(config)}});
    return {true, "config reloaded"};
  } catch (const std::exception& e) {
    // The message names the key; config errors never contain secrets.
    store_->setConfigReload(false, std::chrono::system_clock::now());
    log::error("config reload failed, keeping the running config", {{"err", e.what()}});
    return {false, std::string("config reload failed: ") + e.what()};
  }
}

void Exporter::stop() {
  discovery_.stop();
  supervisor_.stopAll();
}

std::string Exporter::renderMetrics() const {
  auto families = collector_->Collect();
  for (auto& family : discovery_.collect()) families.push_back(std::move(family));
  return metrics::renderText(families);
}

std::pair<bool, std::string> Exporter::readiness() const {
  std::size_t subscribed = 0;
  const auto summaries = store_->summaries();
  for (const auto& summary : summaries) {
    if (summary.session_state == metrics::SessionState::Subscribed) ++subscribed;
  }
  std::ostringstream body;
  body << "Ready: " << subscribed << " of " << summaries.size() << " sessions subscribed\n";
  return {started_, body.str()};
}

std::string Exporter::renderStatusPage() const {
  std::map<std::string, std::string> session_text;
  for (const auto& status : supervisor_.status()) session_text[status.meeting_id] = status.text;
  const auto summaries = store_->summaries();
  const auto exporter_status = store_->exporterStatus();
  std::size_t up = 0;
  for (const auto& summary : summaries) up += summary.up ? 1 : 0;

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"refresh\" content=\"5\">"
          "<title>Huawei Meeting Exporter</title><style>"
          "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
          "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
          "th{background:#f0f0f0}.up{color:#070}.down{color:#a00}"
          "</style></head><body>\n<h1>Huawei Meeting Exporter</h1>\n<p>Version "
       << web::htmlEscape(version()) << " (" << web::htmlEscape(revision()) << "). "
       << "<a href=\"" << web::htmlEscape(telemetry_path_) << "\">Metrics</a> · "
       << summaries.size() << " meetings, " << up << " up. Last config load: "
       << (exporter_status.config_reload_ok ? "successful" : "<b>failed</b>") << ".</p>\n"
       << "<table id=\"meetings\"><thead><tr><th>Meeting</th><th>Title</th><th>State</th>"
          "<th>Up</th><th>Participants</th><th>Last message</th><th>Message errors</th>"
          "<th>Session</th></tr></thead><tbody>\n";
  for (const auto& summary : summaries) {
    const auto text = session_text.find(summary.meeting_id);
    html << "<tr data-meeting-id=\"" << web::htmlEscape(summary.meeting_id) << "\"><td>"
         << web::htmlEscape(summary.meeting_id) << "</td><td>" << web::htmlEscape(summary.title)
         << "</td><td class=\"state\">" << metrics::toLabel(summary.session_state)
         << "</td><td class=\"" << (summary.up ? "up\">1" : "down\">0") << "</td><td>"
         << summary.participants;
    if (summary.calling > 0) html << " (+" << summary.calling << " calling)";
    html << "</td><td>" << formatAge(summary.last_message_at) << "</td><td>"
         << summary.message_errors_total << "</td><td>"
         << web::htmlEscape(text == session_text.end() ? "" : text->second);
    if (!summary.last_error.empty()) {
      html << "<br><small>last error " << formatAge(summary.last_error_at) << ": "
           << web::htmlEscape(summary.last_error) << "</small>";
    }
    html << "</td></tr>\n";
  }
  if (summaries.empty()) html << "<tr><td colspan=\"8\">No meetings configured.</td></tr>\n";
  html << "</tbody></table>\n" << discovery_.statusHtml() << "</body></html>\n";
  return html.str();
}

int runExporter(const CommandLine& command_line) {
  std::unique_ptr<Demo> demo;
  std::function<config::Config()> load_config;
  if (command_line.demo) {
    try {
      demo = std::make_unique<Demo>(command_line.demo_enterprise);
    } catch (const std::exception& e) {
      log::error("cannot start the demo simulator", {{"err", e.what()}});
      return kExitBadConfig;
    }
    log::info("demo mode: built-in meeting simulator started", {{"api_url", demo->apiUrl()}});
    load_config = [&demo] { return demo->config(); };
  } else {
    load_config = [path = command_line.config_file] { return config::loadConfigFile(path); };
  }

  Exporter exporter(load_config, version(), revision(), command_line.telemetry_path);
  try {
    exporter.start();
  } catch (const std::exception& e) {
    log::error("cannot start", {{"err", e.what()}});
    return kExitBadConfig;
  }

  web::WebOptions web_options;
  web_options.listen_addresses = command_line.listen_addresses;
  if (web_options.listen_addresses.empty()) web_options.listen_addresses = {":9877"};
  web_options.telemetry_path = command_line.telemetry_path;
  web::WebHandlers handlers;
  handlers.render_metrics = [&exporter] { return exporter.renderMetrics(); };
  handlers.render_status_html = [&exporter] { return exporter.renderStatusPage(); };
  handlers.reload = [&exporter] { return exporter.reload(); };
  handlers.ready = [&exporter] { return exporter.readiness(); };
  addWebhookRoute(handlers, exporter.discovery());
  web::WebServer server(web_options, handlers);
  try {
    server.start();
  } catch (const web::BindError& e) {
    log::error("cannot listen", {{"address", e.address()}, {"err", e.what()}});
    return kExitCannotBind;
  }
  if (demo && !server.boundAddresses().empty()) {
    demo->connectWebhook(server.boundAddresses().front());
  }
  for (const auto& address : server.boundAddresses()) {
    if (demo) {
      log::info("demo: open the status page and the metrics",
                {{"status_page", "http://" + address + "/"},
                 {"metrics", "http://" + address + command_line.telemetry_path}});
    }
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      log::info("SIGHUP: reloading the config");
      exporter.reload();
      continue;
    }
    log::info("shutting down", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  server.stop();
  exporter.stop();
  return kExitOk;
}

}  // namespace hme::app
