#include "plugin/transport/peer_certificate.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <memory>
#include <stdexcept>

#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/http_util.h"

namespace hme::transport {
namespace {

// Certificate texts are shown on one report line each; names beyond these bounds add nothing.
constexpr std::size_t kMaxText = 300;
constexpr std::size_t kMaxNames = 50;

using SslPtr = std::unique_ptr<SSL, decltype(&SSL_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string printable(std::string_view text) { return detail::scrub(text, kMaxText); }

template <typename Print>
std::string printToString(Print print) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio) return {};
  print(bio.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return {};
  return printable(std::string_view(data, static_cast<std::size_t>(size)));
}

std::string nameText(const X509_NAME* name) {
  return printToString(
      [&](BIO* bio) { X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB); });
}

void readAlternativeNames(X509* certificate, PeerCertificateReport& report) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  const int count = sk_GENERAL_NAME_num(names);
  for (int i = 0; i < count; ++i) {
    if (report.dns_names.size() + report.ip_names.size() >= kMaxNames) break;
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName));
      const auto length = static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName));
      report.dns_names.push_back(printable(std::string_view(data, length)));
    } else if (name->type == GEN_IPADD) {
      const unsigned char* bytes = ASN1_STRING_get0_data(name->d.iPAddress);
      const int length = ASN1_STRING_length(name->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {};
      const int family = length == 4 ? AF_INET : AF_INET6;
      if ((length == 4 || length == 16) && inet_ntop(family, bytes, text, sizeof text) != nullptr) {
        report.ip_names.emplace_back(text);
      }
    }
  }
  GENERAL_NAMES_free(names);
}

// Records the first verification error in the SSL's app data and lets the handshake go on,
// so the certificate can be reported even when the real connection would refuse it.
int recordFirstError(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok == 0) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* first_error = static_cast<int*>(SSL_get_app_data(ssl));
    if (first_error != nullptr && *first_error == X509_V_OK) {
      *first_error = X509_STORE_CTX_get_error(store);
    }
  }
  return 1;
}

std::string sslErrorText(const char* what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string(what) + " (timed out or connection closed)";
  char text[256] = {};
  ERR_error_string_n(code, text, sizeof text);
  return std::string(what) + ": " + printable(text);
}

}  // namespace

PeerCertificateReport inspectPeerCertificate(const PeerCertificateQuery& query) {
  PeerCertificateReport report;
  Poco::URI uri;
  try {
    uri = Poco::URI(query.url);
  } catch (const Poco::Exception&) {
    report.failure = "not a valid URL";
    return report;
  }
  const std::string scheme = Poco::toLower(uri.getScheme());
  if ((scheme != "wss" && scheme != "https") || uri.getHost().empty()) {
    report.failure = "URL must be wss://host[:port]";
    return report;
  }
  const std::string host = uri.getHost();
  const unsigned short port = uri.getSpecifiedPort() != 0 ? uri.getSpecifiedPort() : 443;
  report.expected_name = query.expected_name.empty() ? host : query.expected_name;
  report.verification_skipped = query.tls.insecure_skip_verify;

  Poco::Net::Context::Ptr context;
  try {
    context = sharedClientContext(query.tls, report.expected_name, ContextUse::WebSocket);
  } catch (const std::exception& e) {
    report.failure = printable(e.what());
    return report;
  }

  Poco::Net::StreamSocket socket;
  try {
    socket.connect(Poco::Net::SocketAddress(host, port), detail::toTimespan(query.timeout / 2));
    socket.setReceiveTimeout(detail::toTimespan(query.timeout));
    socket.setSendTimeout(detail::toTimespan(query.timeout));
  } catch (const Poco::Exception& e) {
    report.failure = "connect: " + printable(e.displayText());
    return report;
  }

  SslPtr ssl(SSL_new(context->sslContext()), &SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), socket.impl()->sockfd()) != 1) {
    report.failure = sslErrorText("TLS setup");
    return report;
  }
  Poco::Net::IPAddress ip;
  if (!Poco::Net::IPAddress::tryParse(report.expected_name, ip)) {
    SSL_set_tlsext_host_name(ssl.get(), report.expected_name.c_str());
  }
  int first_error = X509_V_OK;
  if (!query.tls.insecure_skip_verify) {
    SSL_set_app_data(ssl.get(), &first_error);
    SSL_set_verify(ssl.get(), SSL_VERIFY_PEER, recordFirstError);
  }
  ERR_clear_error();
  if (SSL_connect(ssl.get()) != 1) {
    report.failure = sslErrorText("TLS handshake");
    return report;
  }
  report.protocol = SSL_get_version(ssl.get());

  X509Ptr certificate(SSL_get1_peer_certificate(ssl.get()), &X509_free);
  if (!certificate) {
    report.failure = "the server sent no certificate";
    SSL_shutdown(ssl.get());
    return report;
  }
  report.received = true;
  report.subject = nameText(X509_get_subject_name(certificate.get()));
  report.issuer = nameText(X509_get_issuer_name(certificate.get()));
  report.not_after =
      printToString([&](BIO* bio) { ASN1_TIME_print(bio, X509_get0_notAfter(certificate.get())); });
  readAlternativeNames(certificate.get(), report);

  if (!query.tls.insecure_skip_verify) {
    const long result = first_error != X509_V_OK ? first_error : SSL_get_verify_result(ssl.get());
    report.verified = result == X509_V_OK;
    if (!report.verified) {
      report.verify_error = printable(X509_verify_cert_error_string(result));
      if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        report.verify_error += " (the certificate does not name " + report.expected_name + ")";
      }
    }
  }
  // Best effort: the peer may already be gone, and nothing was sent that needs confirming.
  SSL_shutdown(ssl.get());
  return report;
}

}  // namespace hme::transport
