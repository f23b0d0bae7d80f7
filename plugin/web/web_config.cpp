// The web config loader. Like config/load.cpp it walks the YAML by hand so that every error
// names the key, and it never echoes a basic_auth_users value (a hash is not a password, but it
// is still material for an offline attack).

#include "plugin/web/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

namespace hme::web {
namespace {

using Node = YAML::Node;

constexpr std::size_t kMaxFileBytes = 1 << 20;

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw WebConfigError(source + ": " + (key.empty() ? "" : key + ": ") + what);
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string kindOf(const Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

// A map node, or an absent/null one (treated as empty).
bool requireMap(const Node& node, const std::string& source, const std::string& key) {
  if (!node || node.IsNull()) {
    return false;
  }
  if (!node.IsMap()) {
    fail(source, key, "expected a map, got " + kindOf(node));
  }
  return true;
}

std::string scalar(const Node& node, const std::string& source, const std::string& key) {
  if (!node.IsScalar()) {
    fail(source, key, "expected a string, got " + kindOf(node));
  }
  return node.Scalar();
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7F;
  });
}

// Iterates a map's entries, rejecting keys that are not scalars or appear twice.
template <typename Fn>
void forEachEntry(const Node& map, const std::string& source, const std::string& key, Fn fn) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const std::string name = scalar(entry.first, source, key + " (a key)");
    const std::string path = key.empty() ? name : key + "." + name;
    if (!seen.insert(name).second) {
      fail(source, path, "duplicate key");
    }
    fn(name, path, entry.second);
  }
}

std::string resolvePath(const std::string& base_dir, const std::string& path) {
  if (base_dir.empty() || path.empty() || path.front() == '/') {
    return path;
  }
  return base_dir.back() == '/' ? base_dir + path : base_dir + "/" + path;
}

TlsVersion parseVersion(const std::string& value, const std::string& source,
                        const std::string& key) {
  if (value == "TLS12") {
    return TlsVersion::Tls12;
  }
  if (value == "TLS13") {
    return TlsVersion::Tls13;
  }
  if (value == "TLS10" || value == "TLS11") {
    fail(source, key, value + " is not supported (OpenSSL 3 disables it); use TLS12 or TLS13");
  }
  fail(source, key, "must be TLS12 or TLS13, got " + quote(value));
}

ClientAuth parseClientAuth(const std::string& value, const std::string& source,
                           const std::string& key) {
  for (const auto mode :
       {ClientAuth::NoClientCert, ClientAuth::RequestClientCert, ClientAuth::RequireAnyClientCert,
        ClientAuth::VerifyClientCertIfGiven, ClientAuth::RequireAndVerifyClientCert}) {
    if (value == toString(mode)) {
      return mode;
    }
  }
  fail(source, key,
       "must be one of NoClientCert, RequestClientCert, RequireAnyClientCert, "
       "VerifyClientCertIfGiven, RequireAndVerifyClientCert, got " +
           quote(value));
}

std::optional<TlsServerConfig> parseTls(const Node& node, const std::string& base_dir,
                                        const std::string& source) {
  const std::string section = "tls_server_config";
  if (!requireMap(node, source, section)) {
    return std::nullopt;
  }
  TlsServerConfig tls;
  bool any = false;
  forEachEntry(node, source, section,
               [&](const std::string& name, const std::string& key, const Node& value) {
                 any = true;
                 if (name == "cert_file") {
                   tls.cert_file = resolvePath(base_dir, scalar(value, source, key));
                 } else if (name == "key_file") {
                   tls.key_file = resolvePath(base_dir, scalar(value, source, key));
                 } else if (name == "client_ca_file") {
                   tls.client_ca_file = resolvePath(base_dir, scalar(value, source, key));
                 } else if (name == "client_auth_type") {
                   tls.client_auth = parseClientAuth(scalar(value, source, key), source, key);
                 } else if (name == "min_version") {
                   tls.min_version = parseVersion(scalar(value, source, key), source, key);
                 } else if (name == "max_version") {
                   tls.max_version = parseVersion(scalar(value, source, key), source, key);
                 } else if (name == "cipher_suites" || name == "curve_preferences" ||
                            name == "prefer_server_cipher_suites") {
                   fail(
                       source, key,
                       "not supported by this exporter (OpenSSL's defaults apply); remove the key");
                 } else {
                   fail(source, key, "unknown key");
                 }
               });
  // exporter-toolkit serves plain HTTP for an empty section; anything partial is an error.
  if (!any) {
    return std::nullopt;
  }
  if (tls.cert_file.empty()) {
    fail(source, section + ".cert_file", "missing (required with tls_server_config)");
  }
  if (tls.key_file.empty()) {
    fail(source, section + ".key_file", "missing (required with tls_server_config)");
  }
  if (tls.min_version > tls.max_version) {
    fail(source, section + ".min_version", "is above max_version");
  }
  const bool verifies = tls.client_auth == ClientAuth::VerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuth::RequireAndVerifyClientCert;
  if (verifies && tls.client_ca_file.empty()) {
    fail(source, section + ".client_ca_file",
         std::string("missing: client_auth_type ") + toString(tls.client_auth) +
             " verifies client certificates against it");
  }
  if (!tls.client_ca_file.empty() && tls.client_auth == ClientAuth::NoClientCert) {
    fail(source, section + ".client_auth_type",
         "client_ca_file is set but client_auth_type is NoClientCert (set a client auth policy)");
  }
  return tls;
}

void parseHttp(const Node& node, const std::string& source, WebConfig& config) {
  const std::string section = "http_server_config";
  if (!requireMap(node, source, section)) {
    return;
  }
  forEachEntry(
      node, source, section,
      [&](const std::string& name, const std::string& key, const Node& value) {
        if (name == "http2") {
          const std::string flag = scalar(value, source, key);
          if (flag != "true" && flag != "false") {
            fail(source, key, "expected true or false, got " + quote(flag));
          }
        } else if (name == "headers") {
          if (!requireMap(value, source, key)) {
            return;
          }
          forEachEntry(
              value, source, key,
              [&](const std::string& header, const std::string& hkey, const Node& hvalue) {
                const std::string text = scalar(hvalue, source, hkey);
                if (!printable(text)) {
                  fail(source, hkey, "contains control characters");
                }
                if (header == "X-Content-Type-Options") {
                  if (text != "nosniff") {
                    fail(source, hkey, "must be \"nosniff\", got " + quote(text));
                  }
                } else if (header == "X-Frame-Options") {
                  if (text != "deny" && text != "sameorigin") {
                    fail(source, hkey, "must be \"deny\" or \"sameorigin\", got " + quote(text));
                  }
                } else if (header != "Strict-Transport-Security" && header != "X-XSS-Protection" &&
                           header != "Content-Security-Policy") {
                  fail(source, hkey,
                       "this header cannot be configured (allowed: Strict-Transport-Security, "
                       "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
                       "Content-Security-Policy)");
                }
                config.headers.emplace_back(header, text);
              });
        } else {
          fail(source, key, "unknown key");
        }
      });
}

void parseUsers(const Node& node, const std::string& source, WebConfig& config) {
  const std::string section = "basic_auth_users";
  if (!requireMap(node, source, section)) {
    return;
  }
  forEachEntry(node, source, section,
               [&](const std::string& user, const std::string& key, const Node& value) {
                 if (user.find(':') != std::string::npos || !printable(user)) {
                   fail(source, key,
                        "a user name cannot contain ':' or control characters (Basic "
                        "credentials could not carry it)");
                 }
                 if (!value.IsScalar()) {
                   fail(source, key, "expected a bcrypt hash, got " + kindOf(value));
                 }
                 if (!isBcryptHash(value.Scalar())) {
                   fail(source, key,
                        "not a bcrypt hash ($2y$/$2b$/$2a$, cost 04-31, 60 characters); "
                        "generate one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'");
                 }
                 config.basic_auth_users.emplace(user, value.Scalar());
               });
}

}  // namespace

const char* toString(ClientAuth client_auth) {
  switch (client_auth) {
    case ClientAuth::NoClientCert:
      return "NoClientCert";
    case ClientAuth::RequestClientCert:
      return "RequestClientCert";
    case ClientAuth::RequireAnyClientCert:
      return "RequireAnyClientCert";
    case ClientAuth::VerifyClientCertIfGiven:
      return "VerifyClientCertIfGiven";
    case ClientAuth::RequireAndVerifyClientCert:
      return "RequireAndVerifyClientCert";
  }
  return "unknown";
}

bool isBcryptHash(std::string_view hash) {
  constexpr std::string_view kAlphabet =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') {
    return false;
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) {
    return false;
  }
  return hash.substr(7).find_first_not_of(kAlphabet) == std::string_view::npos;
}

WebConfig parseWebConfig(std::string_view text, const std::string& base_dir,
                         const std::string& source) {
  Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // The mark says where; yaml-cpp's message does not quote the offending value.
    fail(source, "", "invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  WebConfig config;
  if (!root || root.IsNull()) {
    return config;
  }
  if (!root.IsMap()) {
    fail(source, "", "expected a map at the top level, got " + kindOf(root));
  }
  forEachEntry(root, source, "",
               [&](const std::string& name, const std::string& key, const Node& value) {
                 if (name == "tls_server_config") {
                   config.tls = parseTls(value, base_dir, source);
                 } else if (name == "http_server_config") {
                   parseHttp(value, source, config);
                 } else if (name == "basic_auth_users") {
                   parseUsers(value, source, config);
                 } else {
                   fail(source, key, "unknown key");
                 }
               });
  return config;
}

WebConfig loadWebConfigFile(const std::string& path) {
  const std::string source = "web config " + quote(path);
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw WebConfigError(source + ": is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw WebConfigError(source + ": cannot read the file");
  }
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) {
      throw WebConfigError(source + ": larger than 1 MiB");
    }
  }
  if (in.bad()) {
    throw WebConfigError(source + ": cannot read the file");
  }
  const auto slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  return parseWebConfig(text, base_dir, source);
}

}  // namespace hme::web
