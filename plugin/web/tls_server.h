#pragma once
/// The server-side TLS context for `tls_server_config` (plugin/web/web_config.h).

#include <Poco/AutoPtr.h>

#include "plugin/web/web_config.h"

namespace Poco::Net {
class Context;
}  // namespace Poco::Net

namespace hme::web {

/// Creates a Poco server context from `tls`: the certificate chain and key (the key must match),
/// TLS versions from min_version to max_version, OpenSSL's DEFAULT ciphers, and client
/// certificates handled per client_auth with OpenSSL's own verification against client_ca_file
/// (never Poco's process-wide certificate handlers, so nothing elsewhere can weaken it).
/// Calls Poco::Net::initializeSSL(). Thread-safe. Throws std::invalid_argument naming the file
/// that cannot be loaded and OpenSSL's reason.
Poco::AutoPtr<Poco::Net::Context> makeServerContext(const TlsServerConfig& tls);

}  // namespace hme::web
