#pragma once
/// What the push host's TLS certificate says and whether this exporter would accept it: a
/// diagnostic for `--probe`, done with its own TLS handshake (the connection carries nothing
/// and is closed at once), so it can report a certificate that the real connection refuses.

#include <chrono>
#include <string>
#include <vector>

#include "plugin/transport/tls.h"

namespace hme::transport {

/// Where to look and how the real connection would verify.
struct PeerCertificateQuery {
  std::string url;  ///< `wss://host[:port]` or `https://host[:port]` (port 443 by default)
  TlsOptions tls;   ///< the settings the real connection uses
  /// The name the certificate must match (and that is sent as SNI when it is a DNS name);
  /// empty: the URL's host.
  std::string expected_name;
  std::chrono::milliseconds timeout{10000};  ///< bounds the TCP connect and the TLS handshake
};

/// The peer certificate and the verification verdict. Every text is printable ASCII taken from
/// the certificate or from OpenSSL; none is a secret.
struct PeerCertificateReport {
  /// The TLS handshake completed and a certificate was received; when false only `failure` is
  /// meaningful.
  bool received = false;
  std::string failure;  ///< why no certificate was received (connect, handshake)
  std::string subject;  ///< RFC 2253 form, e.g. "CN=r1.meeting.huaweicloud.com,O=…"
  std::string issuer;   ///< RFC 2253 form
  std::vector<std::string> dns_names;  ///< DNS subject alternative names
  std::vector<std::string> ip_names;   ///< IP subject alternative names
  std::string not_after;               ///< expiry as OpenSSL prints it
  std::string protocol;                ///< negotiated TLS version, e.g. "TLSv1.3"
  /// The chain verifies against the configured trust and the certificate matches the expected
  /// name, exactly as the real connection checks it. False when `verification_skipped`.
  bool verified = false;
  bool verification_skipped = false;  ///< `insecure_skip_verify` is set: nothing is checked
  std::string verify_error;           ///< OpenSSL's reason when not verified
  std::string expected_name;          ///< the name checked (the URL host or `expected_name`)
};

/// Connects to `query.url`, completes a TLS handshake with the shared context of
/// `query.tls`/expected name (sharedClientContext, ContextUse::WebSocket), with a verification
/// callback that records instead of aborting, and reports the certificate and the verdict.
/// Never throws except std::bad_alloc; every problem is reported in `failure`.
PeerCertificateReport inspectPeerCertificate(const PeerCertificateQuery& query);

}  // namespace hme::transport
