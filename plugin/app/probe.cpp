#include "plugin/app/probe.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "plugin/app/exporter.h"
#include "plugin/app/supervisor.h"
#include "plugin/app/transport_failures.h"
#include "plugin/protocol/decoder.h"
#include "plugin/protocol/encoder.h"
#include "plugin/protocol/shape.h"
#include "plugin/session/session.h"
#include "plugin/transport/peer_certificate.h"
#include "plugin/transport/rest_client.h"
#include "plugin/transport/ws_connection.h"

namespace hme::app {
namespace {

using session::Clock;
using std::chrono::milliseconds;

/// Server-provided text on one report line: printable ASCII only, bounded.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string millisecondsText(milliseconds value) { return std::to_string(value.count()) + " ms"; }

std::string rttText(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", seconds * 1000);
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

/// Frames of one `action` label.
struct FrameKind {
  std::size_t count = 0;
  std::optional<protocol::Shape> shape;
};

/// One session, driven on the calling thread, recording what it sees.
class Probe {
 public:
  Probe(const ProbeSettings& settings, std::ostream& report)
      : settings_(settings), out_(report), started_(Clock::now()) {}

  ProbeOutcome run();

 private:
  void line(const std::string& step, const std::string& text);
  void fail(const std::string& step, const std::string& detail);
  void execute(session::Commands commands);
  session::Commands perform(session::Command& command);
  void onReport(const metrics::EventBody& event);
  session::Commands fetchControlToken(const session::FetchControlToken& fetch);
  session::Commands connect(const session::Connect& command);
  session::Commands sendFrame(const std::string& text);
  session::Commands receive(milliseconds wait);
  session::Commands onText(std::string text);
  void inspectCertificate(const std::string& ws_url);
  void writeSummary();
  milliseconds since(Clock::time_point at) const;

  const ProbeSettings& settings_;
  std::ostream& out_;
  const Clock::time_point started_;

  const config::MeetingConfig* meeting_ = nullptr;
  std::unique_ptr<transport::RestClient> rest_;
  transport::WsOptions websocket_;
  std::unique_ptr<session::Session> session_;
  std::unique_ptr<transport::WsConnection> connection_;

  bool finished_ = false;  // a step failed: execute nothing more
  std::string failed_step_;
  std::string failure_detail_;
  std::map<std::string, std::string> step_results_;  // summary line per step

  std::optional<Clock::time_point> subscribe_sent_at_;
  std::optional<int> subscribe_return_code_;
  std::optional<Clock::time_point> subscribed_at_;
  std::optional<std::pair<std::string, milliseconds>> first_push_;  // action, after Subscribe
  std::size_t heartbeats_sent_ = 0;
  std::vector<double> rtt_seconds_;
  std::size_t pongs_ = 0;
  std::size_t largest_frame_bytes_ = 0;
  std::string largest_frame_action_;
  std::map<std::string, FrameKind> frames_;             // by action label
  std::map<std::string, std::size_t> rejected_frames_;  // by reason label
  std::optional<std::string> close_;
  bool certificate_inspected_ = false;
  std::string step_in_progress_ = "control_token";  // named if the duration ends inside it
};

milliseconds Probe::since(Clock::time_point at) const {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - at);
}

void Probe::line(const std::string& step, const std::string& text) {
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "[+%7.3fs] ",
                std::chrono::duration<double>(Clock::now() - started_).count());
  std::string name = step;
  if (name.size() < 14) name.resize(14, ' ');
  out_ << stamp << name << ' ' << text << std::endl;
}

void Probe::fail(const std::string& step, const std::string& detail) {
  if (finished_) return;
  finished_ = true;
  failed_step_ = step;
  failure_detail_ = detail;
  step_results_[step] = "FAILED: " + detail;
  line(step, "FAILED: " + detail);
}

ProbeOutcome Probe::run() {
  const config::Config& config = settings_.config;
  out_ << "huawei_meeting_exporter " << version() << " (revision " << revision()
       << ") probe of meeting " << settings_.meeting_id << '\n'
       << "api.url " << config.api.url << ", api.timeout "
       << config::formatDuration(config.api.timeout) << ", api.ca_file "
       << (config.api.ca_file.empty() ? "(none: system store only)" : config.api.ca_file)
       << ", api.insecure_skip_verify " << (config.api.insecure_skip_verify ? "true" : "false")
       << '\n';

  for (const auto& meeting : config.meetings) {
    if (meeting.id == settings_.meeting_id) meeting_ = &meeting;
  }
  if (meeting_ == nullptr) {
    fail("config", "meeting " + settings_.meeting_id +
                       " is not listed under meetings: in the config file (the probe needs its "
                       "host password)");
    writeSummary();
    return {1, failed_step_};
  }

  RunnerSettings runner = runnerSettings(config);
  // A probe is short: HeartBeats at the configured interval would often not happen at all, so
  // they go at least four times per probe (but not more often than once a second unless the
  // config asks for it). heartbeat_timeout, above the configured interval, stays as it is.
  runner.session.heartbeat_interval =
      std::min(runner.session.heartbeat_interval,
               std::max(std::chrono::duration_cast<milliseconds>(settings_.duration / 4),
                        milliseconds(1000)));
  websocket_ = runner.websocket;
  out_ << "probe duration " << config::formatDuration(settings_.duration) << ", HeartBeat every "
       << config::formatDuration(runner.session.heartbeat_interval) << ", heartbeat_timeout "
       << config::formatDuration(runner.session.heartbeat_timeout) << ", max_frame_bytes "
       << websocket_.max_frame_bytes << ", subscribing to " << joined(config.session.subscribe)
       << "\n\n";

  try {
    rest_ = std::make_unique<transport::RestClient>(
        config.api.url, transport::TlsOptions{config.api.ca_file, config.api.insecure_skip_verify},
        config.api.timeout);
  } catch (const std::invalid_argument& e) {
    fail("config", e.what());
    writeSummary();
    return {1, failed_step_};
  }

  std::random_device entropy;
  session_ = std::make_unique<session::Session>(settings_.meeting_id, runner.session,
                                                std::uint64_t{entropy()});
  const auto end = started_ + settings_.duration;
  execute(session_->start(Clock::now(), std::chrono::system_clock::now()));
  while (!finished_ && Clock::now() < end) {
    auto until = end;
    if (const auto deadline = session_->nextDeadline()) until = std::min(until, *deadline);
    const auto wait =
        std::max(milliseconds(0), std::chrono::ceil<milliseconds>(until - Clock::now()));
    execute(receive(wait));
    if (!finished_) execute(session_->onTick(Clock::now()));
  }
  if (!finished_ && !subscribed_at_) {
    fail(step_in_progress_,
         "not subscribed within the probe duration " + config::formatDuration(settings_.duration));
  }
  if (connection_) connection_->close();
  connection_.reset();
  if (!finished_) line("live", "alive until the end of the probe");
  writeSummary();
  return {finished_ ? 1 : 0, failed_step_};
}

void Probe::execute(session::Commands commands) {
  for (std::size_t i = 0; i < commands.size() && !finished_; ++i) {
    auto next = perform(commands[i]);
    for (auto& command : next) commands.push_back(std::move(command));
  }
}

session::Commands Probe::perform(session::Command& command) {
  const std::string& meeting_id = settings_.meeting_id;
  if (const auto* report = std::get_if<session::Report>(&command)) {
    onReport(report->event);
    return {};
  }
  if (const auto* fetch = std::get_if<session::FetchControlToken>(&command)) {
    if (!subscribed_at_) step_in_progress_ = "control_token";
    return fetchControlToken(*fetch);
  }
  if (const auto* ws_fetch = std::get_if<session::FetchWsToken>(&command)) {
    step_in_progress_ = "ws_token";
    const auto asked = Clock::now();
    auto result = rest_->getWsToken(meeting_id, ws_fetch->control_token);
    if (!result.ok()) return session_->onWsToken(Clock::now(), toRequestFailure(result.failure()));
    step_results_["ws_token"] = "ok in " + millisecondsText(since(asked));
    line("ws_token", step_results_["ws_token"]);
    return session_->onWsToken(Clock::now(), session::WsTokenGrant{result.value()});
  }
  if (const auto* connect_command = std::get_if<session::Connect>(&command)) {
    step_in_progress_ = "handshake";
    return connect(*connect_command);
  }
  if (const auto* subscribe = std::get_if<session::SendSubscribe>(&command)) {
    step_in_progress_ = "subscribe";
    subscribe_sent_at_ = Clock::now();
    line("subscribe", "sent for " + std::to_string(subscribe->types.size()) + " push types");
    return sendFrame(protocol::encodeSubscribe(subscribe->types, subscribe->control_token,
                                               subscribe->sequence, meeting_id));
  }
  if (const auto* heartbeat = std::get_if<session::SendHeartbeat>(&command)) {
    auto next = sendFrame(protocol::encodeHeartbeat(heartbeat->sequence));
    if (connection_) ++heartbeats_sent_;  // a failed send has dropped the connection instead
    return next;
  }
  if (const auto* ping = std::get_if<session::SendPing>(&command)) {
    if (!connection_) return {};
    const auto sent = connection_->sendPing(ping->payload);
    if (sent.ok()) return {};
    connection_.reset();
    return session_->onClosed(
        Clock::now(), {session::CloseCause::Error, std::nullopt, describeFailure(sent.failure())});
  }
  if (std::holds_alternative<session::CloseConnection>(command)) {
    if (connection_) connection_->close();
    connection_.reset();
  }
  return {};
}

session::Commands Probe::fetchControlToken(const session::FetchControlToken& fetch) {
  const auto asked = Clock::now();
  auto result = rest_->getControlToken(settings_.meeting_id, meeting_->host_password,
                                       fetch.current_token.value_or(Secret()));
  if (!result.ok()) {
    return session_->onControlToken(Clock::now(), toRequestFailure(result.failure()));
  }
  const auto& token = result.value();
  const auto wall_now = std::chrono::system_clock::now();
  std::string text =
      "ok in " + millisecondsText(since(asked)) + ", push URL " + printable(token.ws_url);
  if (token.expire_time_ms > 0) {
    const auto wall_ms = std::chrono::duration_cast<milliseconds>(wall_now.time_since_epoch());
    text +=
        ", expireTime in " + std::to_string((token.expire_time_ms - wall_ms.count()) / 1000) + " s";
  } else {
    text += ", no expireTime";
  }
  text += token.validity_seconds > 0
              ? ", confTokenExpireTime " + std::to_string(token.validity_seconds) + " s"
              : ", no confTokenExpireTime";
  if (fetch.current_token) {
    line("token_refresh", text);  // a refresh while live: the first grant stays in the summary
  } else {
    step_results_["control_token"] = text;
    line("control_token", text);
  }
  const auto positive = [](std::int64_t value) {
    return value > 0 ? std::optional<std::int64_t>(value) : std::nullopt;
  };
  session::ControlTokenGrant grant{
      token.token, token.ws_url,
      session::tokenLifetime(positive(token.expire_time_ms), positive(token.validity_seconds),
                             wall_now)};
  return session_->onControlToken(Clock::now(), grant);
}

void Probe::inspectCertificate(const std::string& ws_url) {
  certificate_inspected_ = true;
  const auto report = transport::inspectPeerCertificate(
      {ws_url, websocket_.tls, websocket_.tls.server_name, websocket_.timeout});
  if (!report.received) {
    step_results_["tls"] = "no certificate: " + report.failure;
    line("tls", step_results_["tls"]);
    return;
  }
  line("tls", report.protocol + ", certificate subject " + report.subject);
  line("tls", "issuer " + report.issuer + ", expires " + report.not_after);
  line("tls", "DNS names: " + joined(report.dns_names) + "; IP names: " + joined(report.ip_names));
  std::string verdict;
  if (report.verification_skipped) {
    verdict = "NOT CHECKED (insecure_skip_verify is set)";
  } else if (report.verified) {
    verdict = "verified for " + report.expected_name;
  } else {
    verdict = "FAILED for " + report.expected_name + ": " + report.verify_error;
  }
  step_results_["tls"] = verdict;
  line("tls", "certificate " + verdict);
}

session::Commands Probe::connect(const session::Connect& command) {
  // Once per probe: the session connects once before the probe ends (a failure ends it).
  if (!certificate_inspected_) inspectCertificate(command.ws_url);
  const auto asked = Clock::now();
  auto result = transport::WsConnection::open(command.ws_url, settings_.meeting_id,
                                              command.ws_token, websocket_);
  if (!result.ok()) {
    return session_->onConnectFailed(Clock::now(), describeFailure(result.failure()));
  }
  connection_ = std::make_unique<transport::WsConnection>(std::move(result).value());
  step_results_["handshake"] = "ok in " + millisecondsText(since(asked));
  line("handshake", step_results_["handshake"]);
  return session_->onConnected(Clock::now());
}

session::Commands Probe::sendFrame(const std::string& text) {
  if (!connection_) return {};
  const auto sent = connection_->send(text);
  if (sent.ok()) return {};
  connection_.reset();
  return session_->onClosed(
      Clock::now(), {session::CloseCause::Error, std::nullopt, describeFailure(sent.failure())});
}

session::Commands Probe::receive(milliseconds wait) {
  if (!connection_) {
    // Nothing to receive from: the session's next deadline (or the end of the probe) is all
    // there is to wait for.
    std::this_thread::sleep_for(wait);
    return {};
  }
  const transport::WsEvent event = connection_->receive(wait);
  if (auto* text = std::get_if<transport::WsText>(&event)) return onText(std::move(text->text));
  const auto now = Clock::now();
  if (const auto* binary = std::get_if<transport::WsBinary>(&event)) {
    protocol::Decoded decoded;
    decoded.message = protocol::Rejection{metrics::RejectReason::BinaryFrame,
                                          std::to_string(binary->bytes) + " bytes"};
    return session_->onFrame(now, std::move(decoded));
  }
  if (std::holds_alternative<transport::WsTimeout>(event)) return {};
  if (const auto* pong = std::get_if<transport::WsPong>(&event)) {
    ++pongs_;
    return session_->onPong(now, pong->payload);
  }
  if (const auto* incomplete = std::get_if<transport::WsIncompleteMessage>(&event)) {
    connection_.reset();
    close_ = "fragmented message unfinished after " +
             std::to_string(websocket_.message_timeout.count()) + " ms (" +
             std::to_string(incomplete->bytes_received) + " bytes received)";
    line("close", *close_);
    return session_->onClosed(now, {session::CloseCause::IncompleteMessage, std::nullopt, *close_});
  }
  if (const auto* closed = std::get_if<transport::WsClosed>(&event)) {
    connection_.reset();
    close_ = "close code " + std::to_string(closed->code) +
             (closed->reason.empty() ? "" : " (" + closed->reason + ")");
    line("close", "the server closed the connection: " + *close_);
    return session_->onClosed(now,
                              {session::CloseCause::ServerClosed, closed->code, closed->reason});
  }
  const auto& failure = std::get<transport::Failure>(event);
  connection_.reset();
  close_ = describeFailure(failure);
  line("close", "connection failed: " + *close_);
  const auto cause = failure.error == transport::TransportError::TooLarge
                         ? session::CloseCause::FrameTooLarge
                         : session::CloseCause::Error;
  return session_->onClosed(now, {cause, std::nullopt, *close_});
}

session::Commands Probe::onText(std::string text) {
  const auto now = Clock::now();
  protocol::Decoded decoded = protocol::decode(text);
  const std::string label = decoded.action.empty() ? "(rejected)" : decoded.action;
  if (text.size() > largest_frame_bytes_) {
    largest_frame_bytes_ = text.size();
    largest_frame_action_ = label;
  }
  if (!decoded.action.empty()) {
    // Unknown types are what an operator most needs named; actionName never yields free text.
    std::string kind_label = decoded.action;
    if (kind_label == "unknown") {
      kind_label += " (" + protocol::actionName(text).value_or("unreadable name") + ")";
    }
    FrameKind& kind = frames_[kind_label];
    ++kind.count;
    if (auto shape = protocol::shapeOf(text)) {
      if (kind.shape) {
        protocol::merge(*kind.shape, *shape);
      } else {
        kind.shape = std::move(shape);
      }
    }
  }
  if (const auto* reply = std::get_if<protocol::SubscribeReply>(&decoded.message)) {
    if (!subscribe_return_code_) {
      subscribe_return_code_ = reply->return_code;
      line("subscribe", "reply returnCode " + std::to_string(reply->return_code) + " after " +
                            millisecondsText(since(subscribe_sent_at_.value_or(now))));
    }
  } else if (std::holds_alternative<protocol::Push>(decoded.message) && !first_push_) {
    first_push_.emplace(decoded.action, since(subscribe_sent_at_.value_or(now)));
    line("first_push",
         decoded.action + " " + millisecondsText(first_push_->second) + " after Subscribe");
  } else if (const auto* rejection = std::get_if<protocol::Rejection>(&decoded.message)) {
    line("frame", "rejected (" + std::string(metrics::toLabel(rejection->reason)) +
                      "): " + rejection->detail);
  }
  return session_->onFrame(now, std::move(decoded));
}

void Probe::onReport(const metrics::EventBody& event) {
  if (const auto* failed = std::get_if<metrics::ConnectFailed>(&event)) {
    fail(metrics::toLabel(failed->stage), failed->detail);
  } else if (const auto* gone = std::get_if<metrics::Disconnected>(&event)) {
    fail("live", std::string(metrics::toLabel(gone->reason)) + ": " + gone->detail);
  } else if (std::holds_alternative<metrics::Subscribed>(event)) {
    subscribed_at_ = Clock::now();
    const std::string how = subscribe_return_code_ ? "by its Subscribe reply" : "by the first push";
    step_results_["subscribe"] =
        "subscribed " + how + " " +
        millisecondsText(since(subscribe_sent_at_.value_or(Clock::now()))) + " after Subscribe";
    line("subscribe", step_results_["subscribe"]);
  } else if (const auto* answered = std::get_if<metrics::HeartbeatAnswered>(&event)) {
    rtt_seconds_.push_back(answered->rtt_seconds);
    line("heartbeat", "answered (echo or PONG) after " + rttText(answered->rtt_seconds));
  } else if (const auto* rejected = std::get_if<metrics::FrameRejected>(&event)) {
    ++rejected_frames_[metrics::toLabel(rejected->reason)];
  }
}

void Probe::writeSummary() {
  auto& out = out_;
  const auto row = [&out](const std::string& name, const std::string& value) {
    std::string left = "  " + name;
    if (left.size() < 20) left.resize(20, ' ');
    out << left << ' ' << value << '\n';
  };
  out << "\nSummary\n";
  if (finished_) {
    row("result", "FAILED at step " + failed_step_ + ": " + failure_detail_);
  } else {
    row("result", "OK: subscribed and alive for the whole probe (" +
                      config::formatDuration(settings_.duration) + ")");
  }
  for (const char* step : {"control_token", "ws_token", "tls", "handshake", "subscribe"}) {
    const auto found = step_results_.find(step);
    row(step, found == step_results_.end() ? "not reached" : found->second);
  }
  if (subscribe_return_code_) {
    row("subscribe reply", "seen, returnCode " + std::to_string(*subscribe_return_code_));
  } else {
    row("subscribe reply", subscribed_at_ ? "not seen (subscribed by the first push)" : "not seen");
  }
  row("first push", first_push_ ? first_push_->first + " " + millisecondsText(first_push_->second) +
                                      " after Subscribe"
                                : "none");
  const auto echoes = frames_.find("HeartBeat");
  row("HeartBeat", "sent " + std::to_string(heartbeats_sent_) + ", echoes seen " +
                       std::to_string(echoes == frames_.end() ? 0 : echoes->second.count));
  if (rtt_seconds_.empty()) {
    row("HeartBeat RTT", "no echo and no PONG");
  } else {
    const auto [low, high] = std::minmax_element(rtt_seconds_.begin(), rtt_seconds_.end());
    row("HeartBeat RTT", "last " + rttText(rtt_seconds_.back()) + ", min " + rttText(*low) +
                             ", max " + rttText(*high));
  }
  row("PONG seen", pongs_ > 0 ? std::to_string(pongs_) + " PONGs (a PING goes with every HeartBeat)"
                              : "none (a PING goes with every HeartBeat)");
  row("largest frame", largest_frame_bytes_ == 0 ? "none"
                                                 : std::to_string(largest_frame_bytes_) +
                                                       " bytes (" + largest_frame_action_ + ")");
  std::vector<std::string> rejected;
  for (const auto& [reason, count] : rejected_frames_) {
    rejected.push_back(reason + " " + std::to_string(count));
  }
  row("frames rejected", joined(rejected));
  row("connection end", close_.value_or(finished_ ? "closed by the probe"
                                                  : "closed by the probe "
                                                    "at the end"));
  out << "\nFrames received by action (count: field shape, keys and JSON types only)\n";
  if (frames_.empty()) out << "  none\n";
  for (const auto& [action, kind] : frames_) {
    out << "  " << action << " x" << kind.count << ": "
        << (kind.shape ? protocol::toText(*kind.shape) : "(not JSON)") << '\n';
  }
  out << std::flush;
}

}  // namespace

ProbeOutcome runProbe(const ProbeSettings& settings, std::ostream& report) {
  return Probe(settings, report).run();
}

}  // namespace hme::app
