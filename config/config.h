#pragma once
// The exporter's configuration: plain structs with the defaults of interface.md ("Config file
// (YAML)") and a strict loader. Nothing here touches the network; the loader reads the config
// file, the password files and the CA bundle, nothing else.

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "secret/secret.h"

namespace hme::config {

/// Passwords and keys of the config are hme::Secret (secret/secret.h).
using Secret = ::hme::Secret;

/// `api.websocket_tls:` — TLS towards the event-push host (the token call's `wsURL`), which is
/// often a raw IP address whose certificate names a DNS host (protocol.md §1). Empty or unset
/// fields fall back to the `api:` settings; read the effective values with webSocketCaFile() and
/// webSocketInsecureSkipVerify().
struct WebSocketTlsConfig {
  /// The DNS name the push host's certificate is verified for and that is sent as SNI, while the
  /// TCP connection still goes to the wsURL host; empty = the wsURL host itself.
  std::string server_name;
  std::string ca_file;  ///< extra PEM bundle (resolved path); empty = api.ca_file
  std::optional<bool> insecure_skip_verify;  ///< unset = api.insecure_skip_verify
};

/// `api:` — where the REST/WSS service lives and how TLS is checked.
struct ApiConfig {
  std::string url = "https://api.meeting.huaweicloud.com";  ///< https:// only, no trailing '/'
  std::string ca_file;  ///< extra PEM bundle (resolved path); empty = system store only
  bool insecure_skip_verify = false;
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  ///< per REST call / handshake
  WebSocketTlsConfig websocket_tls;  ///< the push host's own TLS settings
};

/// The extra CA bundle trusted for the push host (besides the system store):
/// `api.websocket_tls.ca_file` if not empty, else `api.ca_file`.
const std::string& webSocketCaFile(const ApiConfig& api);
/// Whether verification is off for the push host: `api.websocket_tls.insecure_skip_verify` if
/// set, else `api.insecure_skip_verify`.
bool webSocketInsecureSkipVerify(const ApiConfig& api);

/// The 11 push types subscribed to by default, in interface.md order.
const std::vector<std::string>& defaultSubscribeTypes();
/// Every push type `session.subscribe` accepts: the defaults plus RealTimeSubtitleNotify.
const std::vector<std::string>& knownSubscribeTypes();

/// `session:` — timings and limits of one meeting's WebSocket session.
struct SessionConfig {
  std::chrono::milliseconds heartbeat_interval = std::chrono::seconds(60);  ///< 0 < x < 180s
  std::chrono::milliseconds heartbeat_timeout = std::chrono::seconds(90);   ///< > interval
  std::chrono::milliseconds backoff_initial = std::chrono::seconds(1);      ///< ≤ backoff_max
  std::chrono::milliseconds backoff_max = std::chrono::seconds(60);
  std::chrono::milliseconds token_refresh_before = std::chrono::minutes(5);  ///< > 0
  std::size_t max_frame_bytes = 16777216;                                    ///< 4KiB..64MiB
  std::vector<std::string> subscribe = defaultSubscribeTypes();  ///< non-empty, no duplicates
};

/// `metrics.poor_network:` — thresholds above which a participant's network counts as poor.
struct PoorNetworkConfig {
  double packet_loss_ratio = 0.05;  ///< 0..1
  std::chrono::milliseconds rtt = std::chrono::milliseconds(300);
  std::chrono::milliseconds jitter = std::chrono::milliseconds(50);
};

/// `metrics:` — what the exporter publishes and for how long.
struct MetricsConfig {
  bool participant_series = true;
  bool participant_names = false;
  std::size_t max_participants_per_meeting = 1000;  ///< ≥ 1
  std::chrono::milliseconds ended_meeting_retention = std::chrono::minutes(5);
  PoorNetworkConfig poor_network;
};

/// One entry of `meetings:`.
struct MeetingConfig {
  std::string id;        ///< the meeting ID: a non-empty string of digits
  Secret host_password;  ///< resolved from host_password, host_password_file or ${VAR}
  /// The password was written in the config file itself (`host_password` without ${VAR}).
  /// Not compared by operator==.
  bool password_in_config = false;
};

/// `sharding:` — horizontal scale (docs/scaling.md): `count` replicas share one config and
/// replica `index` runs only the meetings that config/shard.h assigns to it (a stable hash of the
/// meeting_id), so every meeting is run by exactly one replica. The `--shard=index/count` flag
/// overrides this section.
struct ShardingConfig {
  std::size_t index = 0;  ///< this replica, 0 ≤ index < count
  std::size_t count = 1;  ///< replicas; 1 = this process runs every meeting
};

/// `discovery.webhook:` — the optional receiver of Huawei's signed enterprise event push.
struct WebhookConfig {
  std::string path;           ///< where the exporter's listener accepts `POST`s, e.g. `/webhook`
  std::string subscriber_id;  ///< the `appID` Huawei sends (the subscription's subscriberId)
  Secret subscriber_key;      ///< the HMAC key; from subscriber_key, subscriber_key_file or ${VAR}
};

/// `discovery:` — enterprise mode: find running meetings with an App ID instead of listing them.
struct DiscoveryConfig {
  std::string app_id;  ///< the enterprise App ID (logs in as the default administrator)
  Secret app_key;      ///< from app_key_file, or app_key (usually `${VAR}`)
  std::chrono::milliseconds interval = std::chrono::seconds(30);  ///< > 0
  bool include_webinars = true;
  /// ECMAScript regular expressions matched anywhere in the subject / scheduler name; empty =
  /// no filter. A meeting is watched when it matches every include and no exclude.
  std::string include_subject;
  std::string exclude_subject;
  std::string include_scheduler;
  std::string exclude_scheduler;
  std::size_t max_meetings = 0;  ///< at most this many discovered meetings at once; 0 = no limit
  std::optional<WebhookConfig> webhook;  ///< empty: no webhook receiver
};

/// The whole config file. A default-constructed Config is the built-in default (no meetings).
struct Config {
  ApiConfig api;
  SessionConfig session;
  MetricsConfig metrics;
  std::vector<MeetingConfig> meetings;  ///< may be empty (demo and discovery modes)
  ShardingConfig sharding;
  std::optional<DiscoveryConfig> discovery;  ///< empty: no discovery (static meetings only)
  /// Problems that do not stop loading, one sentence each, for the caller to log as warnings
  /// (loadConfigFile: a plain password in a file that group or others may read). Never
  /// contains a password. Not compared by operator==.
  std::vector<std::string> warnings;
};

/// Field-by-field equality, e.g. to tell on reload which parts changed. ApiConfig compares the
/// push host's ca_file and insecure_skip_verify by their effective values (webSocketCaFile(),
/// webSocketInsecureSkipVerify()), so a default written out equals one left unset.
bool operator==(const WebSocketTlsConfig& a, const WebSocketTlsConfig& b);
bool operator==(const ApiConfig& a, const ApiConfig& b);
bool operator==(const SessionConfig& a, const SessionConfig& b);
bool operator==(const PoorNetworkConfig& a, const PoorNetworkConfig& b);
bool operator==(const MetricsConfig& a, const MetricsConfig& b);
bool operator==(const MeetingConfig& a, const MeetingConfig& b);
bool operator==(const ShardingConfig& a, const ShardingConfig& b);
bool operator==(const WebhookConfig& a, const WebhookConfig& b);
bool operator==(const DiscoveryConfig& a, const DiscoveryConfig& b);
bool operator==(const Config& a, const Config& b);
inline bool operator!=(const WebSocketTlsConfig& a, const WebSocketTlsConfig& b) {
  return !(a == b);
}
inline bool operator!=(const ApiConfig& a, const ApiConfig& b) { return !(a == b); }
inline bool operator!=(const SessionConfig& a, const SessionConfig& b) { return !(a == b); }
inline bool operator!=(const PoorNetworkConfig& a, const PoorNetworkConfig& b) { return !(a == b); }
inline bool operator!=(const MetricsConfig& a, const MetricsConfig& b) { return !(a == b); }
inline bool operator!=(const MeetingConfig& a, const MeetingConfig& b) { return !(a == b); }
inline bool operator!=(const ShardingConfig& a, const ShardingConfig& b) { return !(a == b); }
inline bool operator!=(const WebhookConfig& a, const WebhookConfig& b) { return !(a == b); }
inline bool operator!=(const DiscoveryConfig& a, const DiscoveryConfig& b) { return !(a == b); }
inline bool operator!=(const Config& a, const Config& b) { return !(a == b); }

/// A bad config. The message starts with the key path (`meetings[1].host_password_file: …`,
/// `session.heartbeat_interval: …`) and never contains a password.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Every key the loader accepts, as paths from the document's root in document order: each
/// section (`api`, `metrics.poor_network`, `discovery.webhook`) and each key in it (`api.url`);
/// keys of list items take `[]` (`meetings[].id`). The loader takes each map's allowed keys from
/// this list, so what it accepts and what the list says cannot differ. Thread-safe.
const std::vector<std::string>& configKeyPaths();

/// Reads and validates the config file at `path`; relative file paths inside it resolve against
/// the file's folder. Throws ConfigError (`cannot read config file "<path>": <reason>` when the
/// file itself cannot be read). Adds a warning to Config::warnings when the file holds a plain
/// `host_password` and is readable by group or others. Reads the environment: do not call
/// concurrently with setenv().
Config loadConfigFile(const std::string& path);

/// Parses and validates config text. Relative `ca_file` / `host_password_file` /
/// `app_key_file` / `subscriber_key_file` paths resolve against `base_dir` (empty: the current
/// directory). `${VAR}` is replaced by the environment variable VAR in the string keys (api.url,
/// api.ca_file, api.websocket_tls.server_name and .ca_file, meetings[].id, host_password,
/// host_password_file and every string under `discovery`); `$$` is a literal `$`, any other `$`
/// stays as it is; one pass, no recursion. A secret file's trailing newlines are stripped. Throws
/// ConfigError.
Config loadConfigText(const std::string& yaml, const std::string& base_dir);

/// Parses a Prometheus duration: integers with units, largest first, each unit at most once
/// (`500ms`, `30s`, `5m`, `1h30m`, `2d`, `1w`, `1y` = 365d); a bare `0` is zero. Throws
/// std::invalid_argument with the reason (empty, negative, unknown unit, missing unit, order,
/// too large).
std::chrono::milliseconds parseDuration(std::string_view text);

/// Formats a duration the way Prometheus does, largest units first: 90000ms → `1m30s`, 0 → `0s`.
std::string formatDuration(std::chrono::milliseconds d);

/// Parses a byte size: a plain integer (bytes) or an integer with B, KiB, MiB or GiB. Decimal
/// units (KB, MB, k…) are rejected on purpose: half of their users mean 1024 and half 1000.
/// Throws std::invalid_argument with the reason.
std::size_t parseSize(std::string_view text);

/// Formats a size with the largest exact binary unit: 1048576 → `1MiB`, 1000 → `1000B`.
std::string formatSize(std::size_t bytes);

/// A one-line summary for the start-up log and --check-config: API URL, TLS settings, session
/// timings, metrics options, the number of meetings and, when sharded, `shard=index/count`.
/// Never contains a password.
std::string describe(const Config& config);

}  // namespace hme::config
