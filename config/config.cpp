#include "config/config.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <locale>
#include <sstream>

namespace hme::config {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t factor;
};

constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;
// Prometheus' units in the only order it accepts them.
constexpr Unit kDurationUnits[] = {
    {"y", 365 * kDayMs}, {"w", 7 * kDayMs}, {"d", kDayMs}, {"h", 60 * 60 * 1000},
    {"m", 60 * 1000},    {"s", 1000},       {"ms", 1}};
constexpr Unit kSizeUnits[] = {{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}};

bool isDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool isAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::size_t scan(std::string_view text, std::size_t i, bool (*pred)(char)) {
  while (i < text.size() && pred(text[i])) ++i;
  return i;
}

std::invalid_argument invalid(const char* kind, std::string_view text, const std::string& why) {
  return std::invalid_argument("invalid " + std::string(kind) + " \"" + std::string(text) +
                               "\": " + why);
}

// logfmt-style: quote only values that would otherwise be ambiguous.
std::string logfmtValue(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \"=\\") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

const std::vector<std::string>& defaultSubscribeTypes() {
  static const std::vector<std::string> types = {
      "ConfBasicInfoNotify",  "ConfDynamicInfoNotify", "ParticipantsNotify",
      "AttendeesNotify",      "SpeakerChangeNotify",   "NetConditionNotify",
      "CustomMultiPicNotify", "InviteResultNotify",    "InterpreterGroupNotify",
      "NetworkQualityNotify", "WaitingListNotify"};
  return types;
}

const std::vector<std::string>& knownSubscribeTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> all = defaultSubscribeTypes();
    all.emplace_back("RealTimeSubtitleNotify");
    return all;
  }();
  return types;
}

const std::string& webSocketCaFile(const ApiConfig& api) {
  return api.websocket_tls.ca_file.empty() ? api.ca_file : api.websocket_tls.ca_file;
}

bool webSocketInsecureSkipVerify(const ApiConfig& api) {
  return api.websocket_tls.insecure_skip_verify.value_or(api.insecure_skip_verify);
}

bool operator==(const WebSocketTlsConfig& a, const WebSocketTlsConfig& b) {
  return a.server_name == b.server_name && a.ca_file == b.ca_file &&
         a.insecure_skip_verify == b.insecure_skip_verify;
}

bool operator==(const ApiConfig& a, const ApiConfig& b) {
  // The push host's settings compare by their effective values: writing out a default (as the
  // documented example does) changes nothing, so a reload must not see a change either.
  return a.url == b.url && a.ca_file == b.ca_file &&
         a.insecure_skip_verify == b.insecure_skip_verify && a.timeout == b.timeout &&
         a.websocket_tls.server_name == b.websocket_tls.server_name &&
         webSocketCaFile(a) == webSocketCaFile(b) &&
         webSocketInsecureSkipVerify(a) == webSocketInsecureSkipVerify(b);
}

bool operator==(const SessionConfig& a, const SessionConfig& b) {
  return a.heartbeat_interval == b.heartbeat_interval &&
         a.heartbeat_timeout == b.heartbeat_timeout && a.backoff_initial == b.backoff_initial &&
         a.backoff_max == b.backoff_max && a.token_refresh_before == b.token_refresh_before &&
         a.max_frame_bytes == b.max_frame_bytes && a.subscribe == b.subscribe;
}

bool operator==(const PoorNetworkConfig& a, const PoorNetworkConfig& b) {
  return a.packet_loss_ratio == b.packet_loss_ratio && a.rtt == b.rtt && a.jitter == b.jitter;
}

bool operator==(const MetricsConfig& a, const MetricsConfig& b) {
  return a.participant_series == b.participant_series &&
         a.participant_names == b.participant_names &&
         a.max_participants_per_meeting == b.max_participants_per_meeting &&
         a.ended_meeting_retention == b.ended_meeting_retention && a.poor_network == b.poor_network;
}

bool operator==(const MeetingConfig& a, const MeetingConfig& b) {
  return a.id == b.id && a.host_password == b.host_password;
}

bool operator==(const ShardingConfig& a, const ShardingConfig& b) {
  return a.index == b.index && a.count == b.count;
}

bool operator==(const WebhookConfig& a, const WebhookConfig& b) {
  return a.path == b.path && a.subscriber_id == b.subscriber_id &&
         a.subscriber_key == b.subscriber_key;
}

bool operator==(const DiscoveryConfig& a, const DiscoveryConfig& b) {
  return a.app_id == b.app_id && a.app_key == b.app_key && a.interval == b.interval &&
         a.include_webinars == b.include_webinars && a.include_subject == b.include_subject &&
         a.exclude_subject == b.exclude_subject && a.include_scheduler == b.include_scheduler &&
         a.exclude_scheduler == b.exclude_scheduler && a.max_meetings == b.max_meetings &&
         a.webhook == b.webhook;
}

bool operator==(const Config& a, const Config& b) {
  return a.api == b.api && a.session == b.session && a.metrics == b.metrics &&
         a.meetings == b.meetings && a.sharding == b.sharding && a.discovery == b.discovery;
}

std::chrono::milliseconds parseDuration(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("empty duration (use e.g. 30s, 5m or 1h30m)");
  if (text[0] == '-') throw invalid("duration", text, "must not be negative");
  if (text == "0") return std::chrono::milliseconds(0);
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must strictly descend
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t digits_end = scan(text, i, isDigit);
    const std::size_t unit_end = scan(text, digits_end, isAlpha);
    const std::string_view unit = text.substr(digits_end, unit_end - digits_end);
    if (digits_end == i || (unit.empty() && digits_end < text.size())) {
      throw invalid("duration", text, "expected integers with units, e.g. 1h30m or 500ms");
    }
    if (unit.empty()) throw invalid("duration", text, "missing unit (use ms, s, m, h, d, w or y)");
    std::size_t u = 0;
    while (u < std::size(kDurationUnits) && kDurationUnits[u].name != unit) ++u;
    if (u == std::size(kDurationUnits)) {
      throw invalid("duration", text,
                    "unknown unit \"" + std::string(unit) + "\" (use ms, s, m, h, d, w or y)");
    }
    if (u < next_unit) {
      throw invalid("duration", text, "units must go from largest to smallest, each at most once");
    }
    next_unit = u + 1;
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + digits_end, n);
    (void)end;
    const std::int64_t factor = kDurationUnits[u].factor;
    if (ec != std::errc() || n > (std::numeric_limits<std::int64_t>::max() - total) / factor) {
      throw invalid("duration", text, "too large");
    }
    total += n * factor;
    i = unit_end;
  }
  return std::chrono::milliseconds(total);
}

std::string formatDuration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  // Negative durations are never valid config, but a formatter must not lie about them.
  if (ms < 0) return "-" + formatDuration(std::chrono::milliseconds(-ms));
  std::string out;
  for (const Unit& unit : kDurationUnits) {
    if (ms >= unit.factor) {
      out += std::to_string(ms / unit.factor) + std::string(unit.name);
      ms %= unit.factor;
    }
  }
  return out;
}

std::size_t parseSize(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("empty size (use e.g. 1MiB, 512KiB or 1048576)");
  if (text[0] == '-') throw invalid("size", text, "must not be negative");
  const std::size_t digits_end = scan(text, 0, isDigit);
  const std::string_view unit = text.substr(digits_end);
  if (digits_end == 0 || scan(text, digits_end, isAlpha) != text.size()) {
    throw invalid("size", text, "expected an integer with an optional unit, e.g. 1MiB");
  }
  std::size_t factor = 1;
  if (!unit.empty()) {
    std::size_t u = 0;
    while (u < std::size(kSizeUnits) && kSizeUnits[u].name != unit) ++u;
    if (u == std::size(kSizeUnits)) {
      throw invalid("size", text,
                    "unknown unit \"" + std::string(unit) +
                        "\" (use B, KiB, MiB or GiB; sizes are powers of 1024)");
    }
    factor = static_cast<std::size_t>(kSizeUnits[u].factor);
  }
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits_end, n);
  (void)end;
  if (ec != std::errc() || n > std::numeric_limits<std::size_t>::max() / factor) {
    throw invalid("size", text, "too large");
  }
  return n * factor;
}

std::string formatSize(std::size_t bytes) {
  for (const Unit& unit : kSizeUnits) {
    const auto factor = static_cast<std::size_t>(unit.factor);
    if (bytes != 0 && bytes % factor == 0) {
      return std::to_string(bytes / factor) + std::string(unit.name);
    }
  }
  return "0B";
}

std::string describe(const Config& config) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  const auto flag = [](bool b) { return b ? "true" : "false"; };
  out << "api_url=" << logfmtValue(config.api.url) << " ca_file=" << logfmtValue(config.api.ca_file)
      << " insecure_skip_verify=" << flag(config.api.insecure_skip_verify)
      << " timeout=" << formatDuration(config.api.timeout)
      << " websocket_tls_server_name=" << logfmtValue(config.api.websocket_tls.server_name)
      << " websocket_tls_ca_file=" << logfmtValue(webSocketCaFile(config.api))
      << " websocket_tls_insecure_skip_verify=" << flag(webSocketInsecureSkipVerify(config.api))
      << " heartbeat_interval=" << formatDuration(config.session.heartbeat_interval)
      << " heartbeat_timeout=" << formatDuration(config.session.heartbeat_timeout)
      << " backoff=" << formatDuration(config.session.backoff_initial) << ".."
      << formatDuration(config.session.backoff_max)
      << " token_refresh_before=" << formatDuration(config.session.token_refresh_before)
      << " max_frame_bytes=" << formatSize(config.session.max_frame_bytes)
      << " subscribe_types=" << config.session.subscribe.size()
      << " participant_series=" << flag(config.metrics.participant_series)
      << " participant_names=" << flag(config.metrics.participant_names)
      << " max_participants_per_meeting=" << config.metrics.max_participants_per_meeting
      << " ended_meeting_retention=" << formatDuration(config.metrics.ended_meeting_retention)
      << " poor_network_packet_loss_ratio=" << config.metrics.poor_network.packet_loss_ratio
      << " poor_network_rtt=" << formatDuration(config.metrics.poor_network.rtt)
      << " poor_network_jitter=" << formatDuration(config.metrics.poor_network.jitter)
      << " meetings=" << config.meetings.size();
  if (config.sharding.count > 1) {
    out << " shard=" << config.sharding.index << '/' << config.sharding.count;
  }
  if (!config.discovery) {
    out << " discovery=off";
  } else {
    const DiscoveryConfig& d = *config.discovery;
    out << " discovery=on discovery_app_id=" << logfmtValue(d.app_id)
        << " discovery_interval=" << formatDuration(d.interval)
        << " discovery_include_webinars=" << flag(d.include_webinars) << " discovery_filters="
        << (d.include_subject.empty() ? 0 : 1) + (d.exclude_subject.empty() ? 0 : 1) +
               (d.include_scheduler.empty() ? 0 : 1) + (d.exclude_scheduler.empty() ? 0 : 1)
        << " discovery_max_meetings=" << d.max_meetings
        << " discovery_webhook=" << (d.webhook ? logfmtValue(d.webhook->path) : "off");
  }
  return out.str();
}

}  // namespace hme::config
