#pragma once
/// TLS client settings and the factory for the Poco TLS context used by RestClient and
/// WsConnection. Verification is on by default; it does not depend on any process-wide Poco
/// SSLManager certificate handler.

#include <Poco/AutoPtr.h>

#include <optional>
#include <string>
#include <vector>

namespace Poco::Net {
class Context;
}  // namespace Poco::Net

namespace hme::transport {

/// TLS settings of one peer: the `api` config section for the REST host, `api.websocket_tls`
/// (with its fallbacks) for the event-push host.
struct TlsOptions {
  /// Extra PEM bundle (file or hashed directory) trusted in addition to the system store; empty =
  /// system store only.
  std::string ca_file;
  /// Disables certificate and host-name verification entirely. Must be set explicitly.
  bool insecure_skip_verify = false;
  /// The DNS name the certificate must match and that is sent as SNI, while the TCP connection
  /// goes to the URL's host (often an IP address); empty = the URL's host.
  std::string server_name = {};
};

/// Creates a client TLS context for connections to `host` (a DNS name or an IP address literal,
/// without brackets or port):
/// - TLS 1.2 or newer, OpenSSL's DEFAULT cipher list; SNI is set per connection by the caller
///   (Poco sends the session's host unless told otherwise);
/// - unless `insecure_skip_verify`: the chain must verify against the system store plus `ca_file`,
///   and the certificate must match `options.server_name`, or `host` when that is empty (DNS name
///   against DNS SANs, IP literal against IP SANs, via OpenSSL's X509_VERIFY_PARAM during the
///   handshake, so nothing is sent to an unverified peer). The verification callback returns
///   OpenSSL's own verdict unchanged (it only records a failure for lastCertificateRejection()),
///   so an accepting InvalidCertificateHandler installed elsewhere in the process cannot weaken
///   it.
/// Calls Poco::Net::initializeSSL() once per process.
/// Thread-safe. Throws std::invalid_argument if `ca_file` cannot be loaded or `host` is empty
/// (the message names the file, never a secret).
Poco::AutoPtr<Poco::Net::Context> makeClientContext(const TlsOptions& options,
                                                    const std::string& host);

/// Why certificate verification refused a peer during a handshake.
struct CertificateRejection {
  /// The chain reached a trusted CA, but the certificate names another host (OpenSSL's host
  /// name or IP address mismatch).
  bool name_mismatch = false;
  /// OpenSSL's text for the verification error, e.g. "unable to get local issuer certificate".
  std::string reason;
  /// The subjectAltName DNS names and IP addresses of the refused certificate (its common name
  /// if it has none), at most four. Peer-supplied text: sanitize before showing it.
  std::vector<std::string> names;
};

/// Forgets the calling thread's recorded rejection; call before a handshake whose outcome is to
/// be explained by lastCertificateRejection(). Never throws.
void clearCertificateRejection() noexcept;

/// The first certificate rejection of a handshake on the calling thread (with a context from
/// makeClientContext) since clearCertificateRejection(), or nullopt. Thread-safe: the record is
/// per thread, and Poco runs a client handshake on the thread that connects.
std::optional<CertificateRejection> lastCertificateRejection();

/// Loads the trust settings of `options` as a connection would (the system store plus
/// `ca_file`), without connecting, so that a caller can refuse settings before it uses them.
/// Thread-safe. Throws like `makeClientContext`.
void checkTrustSettings(const TlsOptions& options);

/// How a shared context is used (decides the options set on it once, when it is built).
enum class ContextUse {
  /// HTTPS requests: exactly `makeClientContext`.
  Rest,
  /// WebSocket connections: additionally SSL_OP_IGNORE_UNEXPECTED_EOF (a TCP drop without
  /// close_notify is an ordinary connection drop; frames carry their own lengths).
  WebSocket,
};

/// The process-wide client context for (`options` including its server_name, `host`, `use`),
/// built by `makeClientContext` on first use and shared afterwards: building one loads the system
/// CA store (≈ 0.8 MiB and ≈ 90 ms of CPU), which per WebSocket connection dominated the memory of
/// a session. The same verification applies as with `makeClientContext` (host name and chain
/// checked by OpenSSL in every handshake). A context is rebuilt when a trust file changed on disk
/// since it was built (path, inode, size and mtime of `ca_file` and of OpenSSL's default CA file
/// and directory), so a CA rotated in place is picked up by the next connection. Contexts are never
/// modified after they are shared. Thread-safe (building happens under a lock, so a burst of
/// connections builds one context, not one each). Throws like `makeClientContext`; a failure is not
/// cached.
Poco::AutoPtr<Poco::Net::Context> sharedClientContext(const TlsOptions& options,
                                                      const std::string& host, ContextUse use);

}  // namespace hme::transport
