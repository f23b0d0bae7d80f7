// The strict YAML loader. It walks the document by hand (never Node::as<T>) so that every error
// names the key path and no yaml-cpp message can echo a value it should not.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <regex>
#include <system_error>

#include "config/config.h"

namespace hme::config {
namespace {

using Node = YAML::Node;
using std::chrono::milliseconds;
using Keys = std::vector<std::string_view>;

constexpr std::size_t kMaxConfigBytes = 16 << 20;
constexpr std::size_t kMaxPasswordBytes = 64 << 10;  // also stops a mistaken /dev/zero early
constexpr milliseconds kServerSilenceLimit = std::chrono::seconds(180);
constexpr std::size_t kMinFrameBytes = 4 << 10;
constexpr std::size_t kMaxFrameBytes = 64 << 20;
constexpr std::size_t kMaxShards = 1 << 16;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ConfigError(path + ": " + what);
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string joinKeys(const Keys& keys) {
  std::string out;
  for (std::string_view k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

// Scalars are echoed only where the key can never hold a secret.
std::string kindOf(const Node& node, bool echo_scalar) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return echo_scalar ? quote(node.Scalar()) : "a single value";
    default:
      return "nothing";
  }
}

const std::string& scalar(const Node& node, const std::string& path, const char* expected) {
  if (!node.IsScalar())
    fail(path, std::string("expected ") + expected + ", got " + kindOf(node, true));
  return node.Scalar();
}

// Reads a whole file, at most max_bytes. Returns the reason on failure, nullopt on success.
std::optional<std::string> readFile(const std::string& path, std::size_t max_bytes,
                                    std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::generic_category().message(errno);
  std::optional<std::string> error;
  out.clear();
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = std::generic_category().message(errno);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      error = "larger than " + formatSize(max_bytes);
      break;
    }
  }
  ::close(fd);
  if (error) out.clear();
  return error;
}

std::string resolvePath(const std::string& base_dir, const std::string& path) {
  if (base_dir.empty() || path.front() == '/') return path;
  return base_dir.back() == '/' ? base_dir + path : base_dir + "/" + path;
}

bool isVarName(std::string_view name) {
  const auto word = [](char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)); };
  return !name.empty() && std::isdigit(static_cast<unsigned char>(name[0])) == 0 &&
         std::all_of(name.begin(), name.end(), word);
}

// ${VAR} → environment, $$ → $, any other $ is literal (passwords contain dollars). The errors
// never quote the text: it may be a password.
std::string expandEnv(const std::string& text, const std::string& path) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (text[i] != '$' || (next != '$' && next != '{')) {
      out += text[i];
    } else if (next == '$') {
      out += '$';
      ++i;
    } else {
      const std::size_t close = text.find('}', i + 2);
      if (close == std::string::npos) fail(path, "unterminated ${ (write $$ for a literal $)");
      const std::string name = text.substr(i + 2, close - i - 2);
      if (!isVarName(name)) {
        fail(path, "invalid variable name in ${...} (letters, digits and _; $$ is a literal $)");
      }
      const char* value = std::getenv(name.c_str());
      if (value == nullptr) fail(path, "environment variable " + name + " is not set");
      out += value;
      i = close;
    }
  }
  return out;
}

// The schema path of a key path: list indexes become [] (`meetings[2]` → `meetings[]`).
std::string schemaPath(const std::string& path) {
  static const std::regex index(R"(\[[0-9]+\])");
  return std::regex_replace(path, index, "[]");
}

// The keys configKeyPaths() lists directly under `section` (empty: the top level), in order.
Keys keysUnder(const std::string& section) {
  const std::string prefix = section.empty() ? "" : section + ".";
  Keys keys;
  for (const std::string& key_path : configKeyPaths()) {
    if (key_path.size() <= prefix.size() || key_path.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    const std::string_view rest = std::string_view(key_path).substr(prefix.size());
    if (rest.find_first_of(".[") == std::string_view::npos) keys.push_back(rest);
  }
  return keys;
}

// Calls visit(key, value, key_path) for each entry of a map, rejecting repeated keys and keys
// that configKeyPaths() does not list under `path`. A null node (`api:` with nothing under it)
// keeps every default.
template <typename Visit>
void forEachKey(const Node& node, const std::string& path, bool echo, Visit&& visit) {
  const Keys allowed = keysUnder(schemaPath(path));
  if (node.IsNull()) return;
  if (!node.IsMap()) fail(path, "expected a map, got " + kindOf(node, echo));
  std::vector<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar())
      fail(path.empty() ? "config" : path, "keys must be names, got " + kindOf(entry.first, false));
    const std::string& key = entry.first.Scalar();
    const std::string key_path = path.empty() ? key : path + "." + key;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      fail(key_path, "unknown key (allowed: " + joinKeys(allowed) + ")");
    }
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) fail(key_path, "duplicate key");
    seen.push_back(key);
    visit(key, entry.second, key_path);
  }
}

std::string stringValue(const Node& node, const std::string& path) {
  return expandEnv(scalar(node, path, "a string"), path);
}

bool boolValue(const Node& node, const std::string& path) {
  const std::string& text = scalar(node, path, "true or false");
  bool value = false;
  if (!YAML::convert<bool>::decode(node, value)) {
    fail(path, "expected true or false, got " + quote(text));
  }
  return value;
}

milliseconds durationValue(const Node& node, const std::string& path) {
  const std::string& text = scalar(node, path, "a duration like 30s or 5m");
  try {
    return parseDuration(text);
  } catch (const std::invalid_argument& e) {
    fail(path, e.what());
  }
}

milliseconds positiveDuration(const Node& node, const std::string& path) {
  const milliseconds d = durationValue(node, path);
  if (d <= milliseconds(0)) fail(path, "must be positive, got " + formatDuration(d));
  return d;
}

std::size_t positiveCount(const Node& node, const std::string& path) {
  const std::string& text = scalar(node, path, "an integer");
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail(path, "expected an integer, got " + quote(text));
  }
  if (n < 1) fail(path, "must be at least 1, got " + text);
  return static_cast<std::size_t>(n);
}

// Reads a secret file (a password or key): at most 64 KiB, trailing newlines stripped, not empty.
Secret secretFile(const std::string& base_dir, const std::string& name, const std::string& path) {
  const std::string file = resolvePath(base_dir, name);
  std::string secret;
  if (auto error = readFile(file, kMaxPasswordBytes, secret)) {
    fail(path, "cannot read " + quote(file) + ": " + *error);
  }
  // Editors and `echo` add newlines that are never part of the secret.
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) fail(path, quote(file) + " is empty");
  return Secret(std::move(secret));
}

// A CA bundle path: resolved against the config's folder and checked to hold a PEM certificate;
// "" stays "" (the system store only).
std::string caFileValue(const Node& node, const std::string& path, const std::string& base_dir) {
  std::string file = stringValue(node, path);
  if (file.empty()) return file;
  file = resolvePath(base_dir, file);
  std::string pem;
  if (auto error = readFile(file, kMaxConfigBytes, pem)) {
    fail(path, "cannot read " + quote(file) + ": " + *error);
  }
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    fail(path, quote(file) + " contains no PEM certificate");
  }
  return file;
}

// A host name for certificate verification and SNI: DNS labels only. An IP literal is refused
// because SNI cannot carry one, and a URL or host:port because the value is a name, not an
// address (the address comes from the wsURL).
std::string serverNameValue(const Node& node, const std::string& path) {
  std::string name = stringValue(node, path);
  if (name.empty()) return name;
  const auto label_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
  };
  bool valid = name.size() <= 253 && name.front() != '.' && name.back() != '.';
  bool all_digits_and_dots = true;
  std::size_t label_length = 0;
  for (char c : name) {
    if (c == '.') {
      valid = valid && label_length > 0;
      label_length = 0;
      continue;
    }
    valid = valid && label_char(c) && ++label_length <= 63;
    all_digits_and_dots = all_digits_and_dots && std::isdigit(static_cast<unsigned char>(c)) != 0;
  }
  if (!valid) {
    fail(path, "must be a DNS name such as push.example.com (no scheme, port or path), got " +
                   quote(name));
  }
  if (all_digits_and_dots) {
    fail(path,
         "must be a DNS name, not an IP address (the certificate is checked for this name while "
         "the connection goes to the wsURL address), got " +
             quote(name));
  }
  return name;
}

void parseWebSocketTls(const Node& node, const std::string& path, const std::string& base_dir,
                       WebSocketTlsConfig& tls) {
  forEachKey(node, path, true,
             [&](const std::string& key, const Node& value, const std::string& key_path) {
               if (key == "server_name") {
                 tls.server_name = serverNameValue(value, key_path);
               } else if (key == "ca_file") {
                 tls.ca_file = caFileValue(value, key_path, base_dir);
               } else {
                 tls.insecure_skip_verify = boolValue(value, key_path);
               }
             });
}

void parseApi(const Node& node, const std::string& path, const std::string& base_dir,
              ApiConfig& api) {
  forEachKey(node, path, true,
             [&](const std::string& key, const Node& value, const std::string& key_path) {
               if (key == "url") {
                 api.url = stringValue(value, key_path);
                 if (api.url.rfind("https://", 0) != 0) {
                   fail(key_path,
                        "must start with https:// (TLS is always verified), got " + quote(api.url));
                 }
                 while (api.url.size() > 8 && api.url.back() == '/') api.url.pop_back();
                 if (api.url.size() == 8) fail(key_path, "must name a host after https://");
               } else if (key == "ca_file") {
                 api.ca_file = caFileValue(value, key_path, base_dir);
               } else if (key == "insecure_skip_verify") {
                 api.insecure_skip_verify = boolValue(value, key_path);
               } else if (key == "websocket_tls") {
                 parseWebSocketTls(value, key_path, base_dir, api.websocket_tls);
               } else {
                 api.timeout = positiveDuration(value, key_path);
               }
             });
}

std::vector<std::string> subscribeValue(const Node& node, const std::string& path) {
  if (!node.IsSequence()) fail(path, "expected a list of push types, got " + kindOf(node, true));
  const std::vector<std::string>& known = knownSubscribeTypes();
  std::vector<std::string> types;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    const std::string& type = scalar(node[i], item_path, "a push type name");
    if (std::find(known.begin(), known.end(), type) == known.end()) {
      fail(item_path, "unknown type " + quote(type) +
                          " (known: " + joinKeys(Keys(known.begin(), known.end())) + ")");
    }
    if (std::find(types.begin(), types.end(), type) != types.end()) {
      fail(item_path, "duplicate type " + quote(type));
    }
    types.push_back(type);
  }
  if (types.empty()) fail(path, "must list at least one type");
  return types;
}

void parseSession(const Node& node, const std::string& path, SessionConfig& session) {
  forEachKey(node, path, true,
             [&](const std::string& key, const Node& value, const std::string& key_path) {
               if (key == "heartbeat_interval") {
                 session.heartbeat_interval = positiveDuration(value, key_path);
                 if (session.heartbeat_interval >= kServerSilenceLimit) {
                   fail(key_path,
                        "must be below 180s (the server closes silent sockets after 180s), got " +
                            formatDuration(session.heartbeat_interval));
                 }
               } else if (key == "heartbeat_timeout") {
                 session.heartbeat_timeout = positiveDuration(value, key_path);
               } else if (key == "backoff_initial") {
                 session.backoff_initial = positiveDuration(value, key_path);
               } else if (key == "backoff_max") {
                 session.backoff_max = positiveDuration(value, key_path);
               } else if (key == "token_refresh_before") {
                 session.token_refresh_before = positiveDuration(value, key_path);
               } else if (key == "max_frame_bytes") {
                 try {
                   session.max_frame_bytes = parseSize(scalar(value, key_path, "a size like 1MiB"));
                 } catch (const std::invalid_argument& e) {
                   fail(key_path, e.what());
                 }
                 if (session.max_frame_bytes < kMinFrameBytes ||
                     session.max_frame_bytes > kMaxFrameBytes) {
                   fail(key_path, "must be between 4KiB and 64MiB, got " +
                                      formatSize(session.max_frame_bytes));
                 }
               } else {
                 session.subscribe = subscribeValue(value, key_path);
               }
             });
  // Cross-key rules, checked once every key of the section is known.
  if (session.heartbeat_timeout <= session.heartbeat_interval) {
    fail(path + ".heartbeat_timeout", "must exceed heartbeat_interval (" +
                                          formatDuration(session.heartbeat_interval) + "), got " +
                                          formatDuration(session.heartbeat_timeout));
  }
  if (session.backoff_initial > session.backoff_max) {
    fail(path + ".backoff_initial", "must not exceed backoff_max (" +
                                        formatDuration(session.backoff_max) + "), got " +
                                        formatDuration(session.backoff_initial));
  }
}

void parseMetrics(const Node& node, const std::string& path, MetricsConfig& metrics) {
  forEachKey(node, path, true,
             [&](const std::string& key, const Node& value, const std::string& key_path) {
               if (key == "participant_series") {
                 metrics.participant_series = boolValue(value, key_path);
               } else if (key == "participant_names") {
                 metrics.participant_names = boolValue(value, key_path);
               } else if (key == "max_participants_per_meeting") {
                 metrics.max_participants_per_meeting = positiveCount(value, key_path);
               } else if (key == "ended_meeting_retention") {
                 metrics.ended_meeting_retention = durationValue(value, key_path);
               } else {
                 PoorNetworkConfig& poor = metrics.poor_network;
                 forEachKey(value, key_path, true,
                            [&](const std::string& k, const Node& v, const std::string& p) {
                              if (k == "rtt") {
                                poor.rtt = durationValue(v, p);
                              } else if (k == "jitter") {
                                poor.jitter = durationValue(v, p);
                              } else {
                                const std::string& text = scalar(v, p, "a number");
                                double ratio = 0;
                                const auto [end, ec] =
                                    std::from_chars(text.data(), text.data() + text.size(), ratio);
                                if (ec != std::errc() || end != text.data() + text.size()) {
                                  fail(p, "expected a number, got " + quote(text));
                                }
                                // Written so that NaN fails too.
                                if (!(ratio >= 0.0 && ratio <= 1.0)) {
                                  fail(p, "must be between 0 and 1, got " + text);
                                }
                                poor.packet_loss_ratio = ratio;
                              }
                            });
               }
             });
}

std::size_t unsignedValue(const Node& node, const std::string& path) {
  const std::string& text = scalar(node, path, "an integer");
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail(path, "expected an integer, got " + quote(text));
  }
  if (n < 0) fail(path, "must not be negative, got " + text);
  return static_cast<std::size_t>(n);
}

void parseSharding(const Node& node, const std::string& path, ShardingConfig& sharding) {
  forEachKey(node, path, true,
             [&](const std::string& key, const Node& value, const std::string& key_path) {
               (key == "index" ? sharding.index : sharding.count) = unsignedValue(value, key_path);
             });
  if (sharding.count < 1 || sharding.count > kMaxShards) {
    fail(path + ".count", "must be between 1 and " + std::to_string(kMaxShards) + ", got " +
                              std::to_string(sharding.count));
  }
  if (sharding.index >= sharding.count) {
    fail(path + ".index", "must be below count (" + std::to_string(sharding.count) + "), got " +
                              std::to_string(sharding.index));
  }
}

// Meetings hold passwords: no scalar under them is echoed except the (public) meeting ID.
void parseMeetings(const Node& node, const std::string& base_dir,
                   std::vector<MeetingConfig>& meetings) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) fail("meetings", "expected a list, got " + kindOf(node, false));
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "meetings[" + std::to_string(i) + "]";
    if (!node[i].IsMap()) {
      fail(path, "expected a map with id and host_password or host_password_file, got " +
                     kindOf(node[i], false));
    }
    std::optional<std::string> id, password, password_file;
    bool literal = false;
    forEachKey(node[i], path, false,
               [&](const std::string& key, const Node& value, const std::string& key_path) {
                 std::string text = stringValue(value, key_path);
                 if (key == "host_password")
                   literal = value.Scalar().find("${") == std::string::npos;
                 if (key == "id") {
                   if (text.empty() || !std::all_of(text.begin(), text.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; })) {
                     fail(key_path, "must be a non-empty string of digits, got " + quote(text));
                   }
                   id = std::move(text);
                 } else {
                   if (text.empty()) fail(key_path, "must not be empty");
                   (key == "host_password" ? password : password_file) = std::move(text);
                 }
               });
    if (!id) fail(path, "needs an id");
    for (std::size_t j = 0; j < meetings.size(); ++j) {
      if (meetings[j].id == *id) {
        fail(path + ".id", quote(*id) + " is already used by meetings[" + std::to_string(j) + "]");
      }
    }
    if (password && password_file) {
      fail(path, "set host_password or host_password_file, not both");
    }
    if (!password && !password_file) fail(path, "needs host_password or host_password_file");
    Secret secret = password_file
                        ? secretFile(base_dir, *password_file, path + ".host_password_file")
                        : Secret(std::move(*password));
    meetings.push_back(MeetingConfig{std::move(*id), std::move(secret), literal});
  }
}

const char* regexProblem(std::regex_constants::error_type code) {
  namespace rc = std::regex_constants;
  switch (code) {
    case rc::error_brack:
      return "unbalanced [ ]";
    case rc::error_paren:
      return "unbalanced ( )";
    case rc::error_brace:
      return "unbalanced { }";
    case rc::error_badbrace:
      return "invalid { } repeat";
    case rc::error_badrepeat:
      return "*, +, ? or { } repeats nothing";
    case rc::error_escape:
      return "invalid escape";
    case rc::error_range:
      return "invalid character range";
    case rc::error_ctype:
      return "invalid character class";
    case rc::error_backref:
      return "invalid back reference";
    case rc::error_complexity:
    case rc::error_stack:
    case rc::error_space:
      return "too complex";
    default:
      return "not a valid ECMAScript regular expression";
  }
}

std::string regexValue(const Node& node, const std::string& path) {
  std::string text = stringValue(node, path);
  try {
    std::regex compiled(text, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    fail(path, "invalid regular expression " + quote(text) + ": " + regexProblem(e.code()));
  }
  return text;
}

// One secret from either `key` (inline, usually ${VAR}) or `key`_file. Neither value is echoed.
struct SecretSource {
  std::optional<std::string> inline_value;
  std::optional<std::string> file;
};

Secret resolveSecret(const SecretSource& source, const std::string& path, const std::string& key,
                     const std::string& base_dir) {
  if (source.inline_value && source.file) {
    fail(path, "set " + key + " or " + key + "_file, not both");
  }
  if (!source.inline_value && !source.file) fail(path, "needs " + key + " or " + key + "_file");
  if (source.file) return secretFile(base_dir, *source.file, path + "." + key + "_file");
  return Secret(*source.inline_value);
}

// The non-empty string of a secret key or a secret file name.
std::string nonEmpty(const Node& node, const std::string& path) {
  std::string text = stringValue(node, path);
  if (text.empty()) fail(path, "must not be empty");
  return text;
}

WebhookConfig parseWebhook(const Node& node, const std::string& path, const std::string& base_dir) {
  if (!node.IsMap()) {
    fail(path, "expected a map with path, subscriber_id and subscriber_key_file, got " +
                   kindOf(node, false));
  }
  WebhookConfig webhook;
  std::optional<std::string> hook_path, subscriber_id;
  SecretSource key;
  forEachKey(
      node, path, false, [&](const std::string& k, const Node& value, const std::string& key_path) {
        if (k == "path") {
          hook_path = stringValue(value, key_path);
          if (hook_path->empty() || hook_path->front() != '/') {
            fail(key_path, "must start with '/', got " + quote(*hook_path));
          }
          if (*hook_path == "/" || hook_path->rfind("/-/", 0) == 0) {
            fail(key_path, "must not be / or start with /-/ (the exporter's own pages), got " +
                               quote(*hook_path));
          }
        } else if (k == "subscriber_id") {
          subscriber_id = nonEmpty(value, key_path);
        } else if (k == "subscriber_key") {
          key.inline_value = nonEmpty(value, key_path);
        } else {
          key.file = nonEmpty(value, key_path);
        }
      });
  if (!hook_path) fail(path, "needs path");
  if (!subscriber_id) fail(path, "needs subscriber_id");
  webhook.path = std::move(*hook_path);
  webhook.subscriber_id = std::move(*subscriber_id);
  webhook.subscriber_key = resolveSecret(key, path, "subscriber_key", base_dir);
  return webhook;
}

// `discovery` holds the App key: no scalar under it is echoed except durations and regexes.
DiscoveryConfig parseDiscovery(const Node& node, const std::string& base_dir) {
  const std::string path = "discovery";
  if (!node.IsMap()) {
    fail(path, "expected a map with app_id and app_key_file, got " + kindOf(node, false));
  }
  DiscoveryConfig discovery;
  std::optional<std::string> app_id;
  SecretSource key;
  forEachKey(node, path, false,
             [&](const std::string& k, const Node& value, const std::string& key_path) {
               if (k == "app_id") {
                 app_id = nonEmpty(value, key_path);
               } else if (k == "app_key") {
                 key.inline_value = nonEmpty(value, key_path);
               } else if (k == "app_key_file") {
                 key.file = nonEmpty(value, key_path);
               } else if (k == "interval") {
                 discovery.interval = positiveDuration(value, key_path);
               } else if (k == "include_webinars") {
                 discovery.include_webinars = boolValue(value, key_path);
               } else if (k == "include_subject") {
                 discovery.include_subject = regexValue(value, key_path);
               } else if (k == "exclude_subject") {
                 discovery.exclude_subject = regexValue(value, key_path);
               } else if (k == "include_scheduler") {
                 discovery.include_scheduler = regexValue(value, key_path);
               } else if (k == "exclude_scheduler") {
                 discovery.exclude_scheduler = regexValue(value, key_path);
               } else if (k == "max_meetings") {
                 discovery.max_meetings = positiveCount(value, key_path);
               } else {
                 discovery.webhook = parseWebhook(value, key_path, base_dir);
               }
             });
  if (!app_id) fail(path, "needs app_id");
  discovery.app_id = std::move(*app_id);
  discovery.app_key = resolveSecret(key, path, "app_key", base_dir);
  return discovery;
}

}  // namespace

const std::vector<std::string>& configKeyPaths() {
  static const std::vector<std::string> paths = {
      "api",
      "api.url",
      "api.ca_file",
      "api.insecure_skip_verify",
      "api.timeout",
      "api.websocket_tls",
      "api.websocket_tls.server_name",
      "api.websocket_tls.ca_file",
      "api.websocket_tls.insecure_skip_verify",
      "session",
      "session.heartbeat_interval",
      "session.heartbeat_timeout",
      "session.backoff_initial",
      "session.backoff_max",
      "session.token_refresh_before",
      "session.max_frame_bytes",
      "session.subscribe",
      "metrics",
      "metrics.participant_series",
      "metrics.participant_names",
      "metrics.max_participants_per_meeting",
      "metrics.ended_meeting_retention",
      "metrics.poor_network",
      "metrics.poor_network.packet_loss_ratio",
      "metrics.poor_network.rtt",
      "metrics.poor_network.jitter",
      "meetings",
      "meetings[].id",
      "meetings[].host_password",
      "meetings[].host_password_file",
      "sharding",
      "sharding.index",
      "sharding.count",
      "discovery",
      "discovery.app_id",
      "discovery.app_key",
      "discovery.app_key_file",
      "discovery.interval",
      "discovery.include_webinars",
      "discovery.include_subject",
      "discovery.exclude_subject",
      "discovery.include_scheduler",
      "discovery.exclude_scheduler",
      "discovery.max_meetings",
      "discovery.webhook",
      "discovery.webhook.path",
      "discovery.webhook.subscriber_id",
      "discovery.webhook.subscriber_key",
      "discovery.webhook.subscriber_key_file",
  };
  return paths;
}

Config loadConfigFile(const std::string& path) {
  std::string text;
  if (auto error = readFile(path, kMaxConfigBytes, text)) {
    throw ConfigError("cannot read config file " + quote(path) + ": " + *error);
  }
  const std::size_t slash = path.rfind('/');
  const std::string base_dir =
      slash == std::string::npos ? "" : (slash == 0 ? "/" : path.substr(0, slash));
  Config config = loadConfigText(text, base_dir);
  // Passwords belong in password files or the environment; a plain one in a file that others
  // can read is worth a warning (not an error: a container may mount it read-only for all).
  std::string literal_ids;
  for (const auto& meeting : config.meetings) {
    if (meeting.password_in_config) literal_ids += (literal_ids.empty() ? "" : ", ") + meeting.id;
  }
  struct stat status {};
  if (!literal_ids.empty() && ::stat(path.c_str(), &status) == 0 &&
      (status.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    config.warnings.push_back("config file " + quote(path) +
                              " holds plain host_password values (meetings " + literal_ids +
                              ") and is readable by group or others: use host_password_file or "
                              "${VAR}, or chmod 600 it");
  }
  return config;
}

Config loadConfigText(const std::string& yaml, const std::string& base_dir) {
  std::vector<Node> documents;
  try {
    documents = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) throw ConfigError("YAML syntax error: " + e.msg);
    throw ConfigError("YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  const std::string top_keys = joinKeys(keysUnder(""));
  if (documents.empty() || documents[0].IsNull()) {
    throw ConfigError("config is empty: expected a map with keys " + top_keys);
  }
  if (documents.size() > 1) {
    throw ConfigError("config must be one YAML document, found " +
                      std::to_string(documents.size()));
  }
  const Node& root = documents[0];
  if (!root.IsMap()) {
    throw ConfigError("config must be a map with keys " + top_keys + ", got " +
                      kindOf(root, false));
  }
  Config config;
  forEachKey(root, "", false,
             [&](const std::string& key, const Node& value, const std::string& path) {
               if (key == "api") {
                 parseApi(value, path, base_dir, config.api);
               } else if (key == "session") {
                 parseSession(value, path, config.session);
               } else if (key == "metrics") {
                 parseMetrics(value, path, config.metrics);
               } else if (key == "meetings") {
                 parseMeetings(value, base_dir, config.meetings);
               } else if (key == "sharding") {
                 parseSharding(value, path, config.sharding);
               } else {
                 config.discovery = parseDiscovery(value, base_dir);
               }
             });
  return config;
}

}  // namespace hme::config
