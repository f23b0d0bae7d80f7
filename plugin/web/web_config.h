#pragma once
/// `--web.config.file`: TLS and basic-auth settings in the Prometheus exporter-toolkit format
/// (web-configuration.md), so one file works for this exporter and `promtool check web-config`:
///
///   tls_server_config:
///     cert_file: server.pem              # relative paths are relative to the file's folder
///     key_file: server.key
///     client_ca_file: ca.pem             # required by the Verify* client_auth_type values
///     client_auth_type: RequireAndVerifyClientCert   # default NoClientCert
///     min_version: TLS12                 # TLS12 (default) | TLS13
///     max_version: TLS13                 # TLS12 | TLS13 (default)
///   http_server_config:
///     http2: false                       # accepted; this server speaks HTTP/1.1 only
///     headers: {X-Frame-Options: deny}   # the five headers exporter-toolkit allows
///   basic_auth_users:
///     prometheus: $2y$10$...             # bcrypt hashes ($2a$, $2b$, $2y$)
///
/// The loader is stricter than exporter-toolkit where a setting would silently not work here:
/// unknown keys and the toolkit keys this exporter does not implement (cipher_suites,
/// curve_preferences, prefer_server_cipher_suites) are errors, TLS 1.0/1.1 are refused (OpenSSL 3
/// disables them), a Verify* client_auth_type needs client_ca_file, and a user name may not
/// contain ':' (Basic credentials could never carry it).

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hme::web {

/// exporter-toolkit's `client_auth_type`, with Go's crypto/tls meaning.
enum class ClientAuth {
  NoClientCert,               ///< no certificate requested
  RequestClientCert,          ///< requested, not required, not verified
  RequireAnyClientCert,       ///< required, not verified
  VerifyClientCertIfGiven,    ///< requested; verified against client_ca_file when sent
  RequireAndVerifyClientCert  ///< required and verified against client_ca_file
};

/// A protocol version bound.
enum class TlsVersion { Tls12, Tls13 };

/// `tls_server_config`. File paths are absolute or relative to the process' working directory
/// (the loader resolves them against the web config file's folder).
struct TlsServerConfig {
  std::string cert_file;       ///< PEM certificate chain, leaf first
  std::string key_file;        ///< PEM private key (not encrypted)
  std::string client_ca_file;  ///< PEM CAs that client certificates must chain to
  ClientAuth client_auth = ClientAuth::NoClientCert;
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
};

/// The whole web config. Default-constructed: plain HTTP, no authentication, no extra headers.
struct WebConfig {
  std::optional<TlsServerConfig> tls;                        ///< serve HTTPS when set
  std::map<std::string, std::string> basic_auth_users;       ///< user → bcrypt hash
  std::vector<std::pair<std::string, std::string>> headers;  ///< added to every response
};

/// The web config file is invalid. The message names the file and the key (`basic_auth_users.x`),
/// never a hash.
class WebConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses web config YAML text. `base_dir` is prepended to relative file paths ("" keeps them
/// as they are); `source` names the text in error messages. Checks syntax and values only: the
/// files are read when the server starts (makeServerContext). Pure; throws WebConfigError.
WebConfig parseWebConfig(std::string_view text, const std::string& base_dir = "",
                         const std::string& source = "web config");

/// Reads and parses `path`, resolving relative paths against its folder. Throws WebConfigError
/// (also for an unreadable file).
WebConfig loadWebConfigFile(const std::string& path);

/// True if `hash` has the form of a bcrypt hash: `$2a$`, `$2b$` or `$2y$`, a two-digit cost
/// 04..31, `$`, then 53 characters of bcrypt's base64 alphabet. Pure.
bool isBcryptHash(std::string_view hash);

/// The name of a ClientAuth value as written in the file, e.g. "RequireAndVerifyClientCert".
const char* toString(ClientAuth client_auth);

}  // namespace hme::web
