#pragma once
/// TLS client settings and the factory for the Poco TLS context used by RestClient and
/// WsConnection. Verification is on by default; it does not depend on any process-wide Poco
/// SSLManager certificate handler.

#include <Poco/AutoPtr.h>

#include <string>

namespace Poco::Net {
class Context;
}  // namespace Poco::Net

namespace hme::transport {

/// TLS settings of the `api` config section.
struct TlsOptions {
  /// Extra PEM bundle (file or hashed directory) trusted in addition to the system store; empty =
  /// system store only.
  std::string ca_file;
  /// Disables certificate and host-name verification entirely. Must be set explicitly.
  bool insecure_skip_verify = false;
};

/// Creates a client TLS context for connections to `host` (a DNS name or an IP address literal,
/// without brackets or port):
/// - TLS 1.2 or newer, OpenSSL's DEFAULT cipher list, SNI sent by Poco for the session's host;
/// - unless `insecure_skip_verify`: the chain must verify against the system store plus `ca_file`,
///   and the certificate must match `host` (DNS name against DNS SANs, IP literal against IP
///   SANs, via OpenSSL's X509_VERIFY_PARAM during the handshake, so nothing is sent to an
///   unverified peer). The verification callback is OpenSSL's own, so an accepting
///   InvalidCertificateHandler installed elsewhere in the process cannot weaken it.
/// Calls Poco::Net::initializeSSL() once per process.
/// Thread-safe. Throws std::invalid_argument if `ca_file` cannot be loaded or `host` is empty
/// (the message names the file, never a secret).
Poco::AutoPtr<Poco::Net::Context> makeClientContext(const TlsOptions& options,
                                                    const std::string& host);

}  // namespace hme::transport
