#include "plugin/web/tls_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/NetSSL.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace hme::web {
namespace {

void initializeSslOnce() {
  // Reference-counted in Poco and never balanced: contexts may outlive any owner here.
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

// The first queued OpenSSL error, then the queue is emptied so it does not leak into a later,
// unrelated error report on this thread.
std::string opensslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

[[noreturn]] void failFile(const char* what, const std::string& file) {
  throw std::invalid_argument("tls_server_config: cannot load " + std::string(what) + " \"" + file +
                              "\": " + opensslReason());
}

int toOpenSsl(TlsVersion version) {
  return version == TlsVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// RequestClientCert and RequireAnyClientCert take whatever certificate the client sends.
int acceptAnyCertificate(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) { return 1; }

}  // namespace

Poco::AutoPtr<Poco::Net::Context> makeServerContext(const TlsServerConfig& tls) {
  initializeSslOnce();
  using Poco::Net::Context;
  Context::Params params;
  // Everything that matters is set on the SSL_CTX below, with OpenSSL's error reporting.
  params.verificationMode = Context::VERIFY_NONE;
  params.loadDefaultCAs = false;
  params.cipherList = "DEFAULT";
  params.dhUse2048Bits = true;
  Context::Ptr context;
  try {
    context = new Context(Context::TLS_SERVER_USE, params);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("tls_server_config: cannot create a TLS context: " +
                                e.displayText());
  }
  context->enableExtendedCertificateVerification(false);
  SSL_CTX* ctx = context->sslContext();
  ERR_clear_error();

  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    failFile("cert_file", tls.cert_file);
  }
  // Also fails ("key values mismatch") when the key does not belong to the certificate.
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    failFile("key_file", tls.key_file);
  }
  if (SSL_CTX_set_min_proto_version(ctx, toOpenSsl(tls.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, toOpenSsl(tls.max_version)) != 1) {
    throw std::invalid_argument("tls_server_config: cannot set the TLS versions: " +
                                opensslReason());
  }

  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      failFile("client_ca_file", tls.client_ca_file);
    }
    // Tell clients which CAs are accepted, so one with several certificates picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) failFile("client_ca_file", tls.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);
  }

  // Replaces Poco's callback, which would consult the process-wide SSLManager handlers.
  switch (tls.client_auth) {
    case ClientAuth::NoClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::RequestClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, acceptAnyCertificate);
      break;
    case ClientAuth::RequireAnyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         acceptAnyCertificate);
      break;
    case ClientAuth::VerifyClientCertIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::RequireAndVerifyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // With client certificates on, OpenSSL refuses to resume a session (TLS 1.3 tickets
  // included) unless the context has a session id context.
  static constexpr unsigned char kSessionContext[] = "huawei_meeting_exporter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return context;
}

}  // namespace hme::web
