#include "plugin/transport/tls.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetSSL.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace hme::transport {
namespace {

void initializeSslOnce() {
  // Reference-counted in Poco; never balanced by uninitializeSSL() because contexts may live
  // until process exit. A function-local static makes the first call thread-safe.
  static const bool initialized = [] {
    Poco::Net::initializeSSL();
    return true;
  }();
  (void)initialized;
}

std::string stripBrackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

void requireHost(SSL_CTX* ctx, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  Poco::Net::IPAddress ip;
  int rc = 0;
  if (Poco::Net::IPAddress::tryParse(host, ip)) {
    rc = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());  // must match an IP SAN
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    rc = X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  if (rc != 1) throw std::invalid_argument("TLS: cannot use '" + host + "' as the expected host");
}

}  // namespace

Poco::AutoPtr<Poco::Net::Context> makeClientContext(const TlsOptions& options,
                                                    const std::string& host) {
  const std::string expected_host = stripBrackets(host);
  if (expected_host.empty()) throw std::invalid_argument("TLS: empty host name");
  initializeSslOnce();

  using Poco::Net::Context;
  Context::Params params;
  params.verificationMode =
      options.insecure_skip_verify ? Context::VERIFY_NONE : Context::VERIFY_STRICT;
  params.loadDefaultCAs = !options.insecure_skip_verify;
  params.caLocation = options.insecure_skip_verify ? std::string() : options.ca_file;
  params.cipherList = "DEFAULT";

  Context::Ptr context;
  try {
    context = new Context(Context::TLS_CLIENT_USE, params);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("TLS: cannot load CA file '" + options.ca_file +
                                "': " + e.displayText());
  }
  context->requireMinimumProtocol(Context::PROTO_TLSV1_2);
  // OpenSSL checks the host inside the handshake (requireHost). Poco's own post-handshake check
  // (X509Certificate::verify) matches the same way, but measured with 1.11 it is skipped for
  // loopback hosts unless VERIFY_STRICT and it runs a second, redundant pass: turn it off.
  context->enableExtendedCertificateVerification(false);

  SSL_CTX* ctx = context->sslContext();
  if (options.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    // Replace Poco's callback (which asks the process-wide SSLManager handlers and lets an
    // AcceptCertificateHandler silently ignore an untrusted chain) with OpenSSL's default.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    requireHost(ctx, expected_host);
  }
  return context;
}

}  // namespace hme::transport
