#include "plugin/app/exporter.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string_view>

#include "metrics/collector.h"
#include "plugin/app/demo.h"
#include "plugin/log/log.h"
#include "plugin/web/html.h"
#include "plugin/web/web_config.h"
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

void logWarnings(const config::Config& config) {
  for (const auto& warning : config.warnings) log::warn("config warning", {{"detail", warning}});
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
  const config::Config config = loadAndApply();
  // One warning per host whose certificate is not checked, naming the key that turned it off.
  if (config.api.insecure_skip_verify) {
    log::warn(
        "TLS certificate verification is OFF for the REST API host (which receives the "
        "host passwords)",
        {{"key", "api.insecure_skip_verify"}});
  }
  if (config::webSocketInsecureSkipVerify(config.api)) {
    log::warn("TLS certificate verification is OFF for the event-push host",
              {{"key", config.api.websocket_tls.insecure_skip_verify
                           ? "api.websocket_tls.insecure_skip_verify"
                           : "api.insecure_skip_verify"}});
  }
  started_ = true;
  log::info("config loaded", {{"summary", config::describe(config)}});
}

config::Config Exporter::loadAndApply() {
  config::Config config = load_config_();
  logWarnings(config);
  // Everything that can fail is built first; from the first change on nothing throws (short of
  // memory or threads), so a reload applies completely or not at all.
  const metrics::ReduceOptions reduce = reduceOptions(config.metrics);
  const metrics::RenderOptions render = renderOptions(config.metrics);
  PreparedMeetings meetings = supervisor_.prepare(config);
  auto management_client = discovery_.prepare(config);

  store_->setReduceOptions(reduce);
  collector_->setOptions(render);
  supervisor_.apply(std::move(meetings));
  discovery_.apply(config, std::move(management_client));
  store_->setConfigReload(true, std::chrono::system_clock::now());
  return config;
}

std::pair<bool, std::string> Exporter::reload() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  try {
    const config::Config config = loadAndApply();
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
  std::string text = collector_->renderText();
  text += metrics::renderText(discovery_.collect());
  return text;
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
  auto summaries = store_->summaries();
  const auto exporter_status = store_->exporterStatus();
  std::size_t up = 0;
  std::map<metrics::SessionState, std::size_t> by_state;
  for (const auto& summary : summaries) {
    up += summary.up ? 1 : 0;
    ++by_state[summary.session_state];
  }
  // With many meetings the ones needing attention must be on the first screen.
  std::stable_sort(summaries.begin(), summaries.end(), [](const auto& a, const auto& b) {
    if (a.up != b.up) return !a.up;
    return a.meeting_id < b.meeting_id;
  });

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"refresh\" content=\"5\">"
          "<title>Huawei Meeting Exporter</title><style>"
          "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
          "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
          "th{background:#f0f0f0;position:sticky;top:0}.up{color:#070}.down{color:#a00}"
          "tr.attention td:first-child{border-left:4px solid #a00}"
          "</style></head><body>\n<h1>Huawei Meeting Exporter</h1>\n<p>Version "
       << web::htmlEscape(version()) << " (" << web::htmlEscape(revision()) << "). "
       << "<a href=\"" << web::htmlEscape(telemetry_path_) << "\">Metrics</a> · "
       << summaries.size() << " meetings, " << up << " up. Last config load: "
       << (exporter_status.config_reload_ok ? "successful" : "<b>failed</b>") << ".</p>\n"
       << "<p id=\"summary\">Sessions:";
  for (const auto& [state, count] : by_state) {
    html << " <span data-state=\"" << metrics::toLabel(state) << "\">" << count << ' '
         << metrics::toLabel(state) << "</span>";
  }
  if (by_state.empty()) html << " none";
  html << ". Meetings that are not up come first; the page refreshes every 5 s.</p>\n"
       << "<table id=\"meetings\"><thead><tr><th>Meeting</th><th>Title</th><th>State</th>"
          "<th>Up</th><th>Participants</th><th>Last message</th><th>Message errors</th>"
          "<th>Session</th></tr></thead><tbody>\n";
  for (const auto& summary : summaries) {
    const auto text = session_text.find(summary.meeting_id);
    html << "<tr" << (summary.up ? "" : " class=\"attention\"") << " data-meeting-id=\""
         << web::htmlEscape(summary.meeting_id) << "\"><td>" << web::htmlEscape(summary.meeting_id)
         << "</td><td>" << web::htmlEscape(summary.title) << "</td><td class=\"state\">"
         << metrics::toLabel(summary.session_state) << "</td><td class=\""
         << (summary.up ? "up\">1" : "down\">0") << "</td><td>" << summary.participants;
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

namespace {

// Writes all of `data`; false when the reader is gone (EPIPE: SIGPIPE is ignored) or on error.
bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Telegraf's execd input parses stdout line by line, so the exposition needs no framing for it.
// The trailing comment gives other readers (and the tests) an unambiguous end; text-format
// parsers ignore comments other than HELP and TYPE.
constexpr std::string_view kExpositionEnd = "# EOF\n";

// Blocks until SIGTERM/SIGINT, reloading on SIGHUP. With `execd`, also answers every line on
// stdin with one exposition on stdout and returns when stdin ends. The signals are read from a
// signalfd so that one poll() covers both without a thread. Returns an ExitCode.
int serveUntilShutdown(Exporter& exporter, bool execd) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  const int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    log::error("cannot watch signals", {{"err", std::strerror(errno)}});
    return kExitBadConfig;
  }
  pollfd fds[2] = {{signal_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  const nfds_t watched = execd ? 2 : 1;
  for (;;) {
    if (::poll(fds, watched, -1) < 0) {
      if (errno == EINTR) continue;
      log::error("poll failed, shutting down", {{"err", std::strerror(errno)}});
      break;
    }
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
      if (info.ssi_signo == SIGHUP) {
        log::info("SIGHUP: reloading the config");
        exporter.reload();
        continue;
      }
      log::info("shutting down", {{"signal", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
    if (execd && fds[1].revents != 0) {
      char buffer[4096];
      const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        log::error("cannot read stdin, shutting down", {{"err", std::strerror(errno)}});
        break;
      }
      if (n == 0) {
        log::info("stdin closed, shutting down");
        break;
      }
      const auto lines = std::count(buffer, buffer + n, '\n');
      bool stdout_open = true;
      for (std::ptrdiff_t i = 0; i < lines && stdout_open; ++i) {
        std::string exposition;
        try {
          exposition = exporter.renderMetrics();
        } catch (const std::exception& e) {
          log::error("error rendering metrics", {{"err", e.what()}});
        }
        exposition += kExpositionEnd;
        stdout_open = writeAll(STDOUT_FILENO, exposition);
      }
      if (!stdout_open) {
        log::error("cannot write to stdout (reader gone?), shutting down");
        break;
      }
    }
  }
  ::close(signal_fd);
  return kExitOk;
}

}  // namespace

int runExporter(const CommandLine& command_line) {
  web::WebConfig web_config;
  if (!command_line.web_config_file.empty()) {
    try {
      web_config = web::loadWebConfigFile(command_line.web_config_file);
    } catch (const web::WebConfigError& e) {
      log::error("invalid web config", {{"err", e.what()}});
      return kExitBadConfig;
    }
  }

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

  if (command_line.shard) {
    load_config = [load = std::move(load_config), shard = *command_line.shard] {
      config::Config config = load();
      config.sharding = shard;  // --shard overrides the config file's sharding:
      return config;
    };
  }

  Exporter exporter(load_config, version(), revision(), command_line.telemetry_path);
  try {
    exporter.start();
  } catch (const std::exception& e) {
    log::error("cannot start", {{"err", e.what()}});
    return kExitBadConfig;
  }

  // In Telegraf's execd mode Telegraf collects through the pipe; a listener only on request.
  std::unique_ptr<web::WebServer> server;
  if (!command_line.telegraf_execd || !command_line.listen_addresses.empty()) {
    web::WebOptions web_options;
    web_options.listen_addresses = command_line.listen_addresses;
    if (web_options.listen_addresses.empty()) web_options.listen_addresses = {":9877"};
    web_options.telemetry_path = command_line.telemetry_path;
    web_options.web_config = web_config;
    web::WebHandlers handlers;
    handlers.render_metrics = [&exporter] { return exporter.renderMetrics(); };
    handlers.render_status_html = [&exporter] { return exporter.renderStatusPage(); };
    handlers.reload = [&exporter] { return exporter.reload(); };
    handlers.ready = [&exporter] { return exporter.readiness(); };
    addWebhookRoute(handlers, exporter.discovery());
    try {
      server = std::make_unique<web::WebServer>(web_options, handlers);
    } catch (const std::exception& e) {
      // Bad TLS files (std::invalid_argument) or no randomness for the auth cache.
      log::error("invalid web settings", {{"err", e.what()}});
      return kExitBadConfig;
    }
    try {
      server->start();
    } catch (const web::BindError& e) {
      log::error("cannot listen", {{"address", e.address()}, {"err", e.what()}});
      return kExitCannotBind;
    }
    // The demo's simulator posts its webhooks over plain HTTP on loopback.
    if (demo && !web_config.tls && !server->boundAddresses().empty()) {
      demo->connectWebhook(server->boundAddresses().front());
    }
    const std::string scheme = web_config.tls ? "https://" : "http://";
    for (const auto& address : server->boundAddresses()) {
      if (demo) {
        log::info("demo: open the status page and the metrics",
                  {{"status_page", scheme + address + "/"},
                   {"metrics", scheme + address + command_line.telemetry_path}});
      }
    }
  }

  const int exit_code = serveUntilShutdown(exporter, command_line.telegraf_execd);
  if (server) server->stop();
  exporter.stop();
  return exit_code;
}

}  // namespace hme::app
