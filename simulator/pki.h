#pragma once
/// Throwaway TLS material for the simulator: a fresh CA and a server certificate it signs, made
/// at runtime with OpenSSL 3. The exporter's demo mode trusts that CA explicitly, so certificate
/// verification stays on even against the local simulator.

#include <string>
#include <vector>

namespace hme::simulator {

/// Paths of the PEM files written by generatePki().
struct PkiFiles {
  std::string ca_file;    ///< the CA certificate: what a client trusts
  std::string cert_file;  ///< the server certificate, signed by the CA
  std::string key_file;   ///< the server's private key (mode 0600)
};

/// What generatePki() puts in the server certificate.
struct PkiOptions {
  std::vector<std::string> dns_names{"localhost"};     ///< subjectAltName DNS entries
  std::vector<std::string> ip_addresses{"127.0.0.1"};  ///< subjectAltName IP entries
  int valid_days = 30;
};

/// The push host name of the "raw-IP push URL with a DNS-only certificate" profile.
inline constexpr const char* kDnsOnlyPushName = "push.meeting.test";

/// Profile "raw-IP push URL with a DNS-only certificate" (protocol.md §1): a certificate for
/// `localhost` (the API URL's host, SimulatorOptions::api_host) and `push_name`, with no IP
/// address, so a client that connects to the raw-IP wsURL must verify it for `push_name`
/// (`api.websocket_tls.server_name`).
inline PkiOptions dnsOnlyPkiOptions(const std::string& push_name = kDnsOnlyPushName) {
  PkiOptions options;
  options.dns_names = {"localhost", push_name};
  options.ip_addresses.clear();
  return options;
}

/// Generates an EC P-256 CA and a server certificate signed by it, and writes `ca.pem`,
/// `server.pem` and `server.key` into `directory` (which must exist). The CA's private key is
/// never written: it is discarded once the server certificate is signed.
/// Thread-safe. Throws std::runtime_error naming the failed step.
PkiFiles generatePki(const std::string& directory, const PkiOptions& options = {});

}  // namespace hme::simulator
