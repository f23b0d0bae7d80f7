#include "plugin/transport/tls.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetSSL.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

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

// The calling thread's first verification failure since clearCertificateRejection(). Poco runs a
// client handshake on the connecting thread, so the thread that asks is the one that verified.
thread_local std::optional<CertificateRejection> t_rejection;

constexpr std::size_t kMaxRejectedNames = 4;

std::string asn1Text(const ASN1_STRING* text) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<std::size_t>(ASN1_STRING_length(text)));
}

std::vector<std::string> certificateNames(X509* cert) {
  std::vector<std::string> names;
  if (cert == nullptr) return names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && names.size() < kMaxRejectedNames; ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type == GEN_DNS) {
        names.push_back(asn1Text(name->d.dNSName));
      } else if (name->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = name->d.iPAddress;
        char text[64] = {};
        const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
        if (inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr) {
          names.emplace_back(text);
        }
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    X509_NAME* subject = X509_get_subject_name(cert);
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index >= 0) {
      names.push_back(asn1Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index))));
    }
  }
  return names;
}

// OpenSSL's verdict is returned unchanged; the callback exists only so that a failed handshake
// can say why (in particular a name mismatch, which the exception text does not tell).
int recordVerification(int preverified, X509_STORE_CTX* store) {
  if (preverified == 0 && !t_rejection) {
    const int error = X509_STORE_CTX_get_error(store);
    CertificateRejection rejection;
    rejection.name_mismatch =
        error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH;
    rejection.reason = X509_verify_cert_error_string(error);
    rejection.names = certificateNames(X509_STORE_CTX_get_current_cert(store));
    t_rejection = std::move(rejection);
  }
  return preverified;
}

// What a trust file looked like: {exists, device, inode, size, mtime s, mtime ns, ctime ns}.
// ctime catches a replacement that kept size and mtime (e.g. `cp -p`).
using FileStamp = std::array<std::int64_t, 7>;

FileStamp stampOf(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return FileStamp{};
  return {1,
          static_cast<std::int64_t>(info.st_dev),
          static_cast<std::int64_t>(info.st_ino),
          static_cast<std::int64_t>(info.st_size),
          static_cast<std::int64_t>(info.st_mtim.tv_sec),
          static_cast<std::int64_t>(info.st_mtim.tv_nsec),
          static_cast<std::int64_t>(info.st_ctim.tv_sec) * 1000000000 +
              static_cast<std::int64_t>(info.st_ctim.tv_nsec)};
}

// Where loadDefaultCAs (SSL_CTX_set_default_verify_paths) reads the system store from: the
// SSL_CERT_FILE / SSL_CERT_DIR overrides, else OpenSSL's built-in paths. (A list of directories
// in SSL_CERT_DIR is stamped as one path that does not exist: such a store is not watched.)
std::string defaultTrustPath(const char* env_name, const char* built_in) {
  const char* overridden = std::getenv(env_name);
  return overridden != nullptr ? overridden : built_in;
}

// The trust files a context built now would read. A context is reused only while these are
// unchanged, so a CA file rotated in place (same path) or an updated system store is picked up
// by the next connection without a restart, as when every connection built its own context.
// Keying on the path alone would pin the old CA until the process ends; not caching across
// reloads would still pin it between reloads. Three stat() calls per connection are cheap next
// to building a context.
std::vector<FileStamp> trustStamps(const TlsOptions& options) {
  if (options.insecure_skip_verify) return {};
  return {stampOf(options.ca_file),
          stampOf(defaultTrustPath(X509_get_default_cert_file_env(), X509_get_default_cert_file())),
          stampOf(defaultTrustPath(X509_get_default_cert_dir_env(), X509_get_default_cert_dir()))};
}

// Hosts come partly from the server (the WebSocket URL), so the cache is bounded: past this many
// keys it starts over (contexts in use stay alive through their references).
constexpr std::size_t kMaxSharedContexts = 64;

struct SharedContext {
  std::vector<FileStamp> stamps;
  Poco::Net::Context::Ptr context;
};

}  // namespace

void clearCertificateRejection() noexcept { t_rejection.reset(); }

std::optional<CertificateRejection> lastCertificateRejection() { return t_rejection; }

Poco::AutoPtr<Poco::Net::Context> makeClientContext(const TlsOptions& options,
                                                    const std::string& host) {
  const std::string expected_host =
      options.server_name.empty() ? stripBrackets(host) : options.server_name;
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
    // AcceptCertificateHandler silently ignore an untrusted chain) with one that keeps
    // OpenSSL's verdict.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, recordVerification);
    requireHost(ctx, expected_host);
  }
  return context;
}

Poco::AutoPtr<Poco::Net::Context> sharedClientContext(const TlsOptions& options,
                                                      const std::string& host, ContextUse use) {
  using Key = std::tuple<std::string, bool, std::string, std::string, ContextUse>;
  static std::mutex mutex;
  static std::map<Key, SharedContext> contexts;

  Key key{options.insecure_skip_verify ? std::string() : options.ca_file,
          options.insecure_skip_verify, options.server_name, host, use};
  // Stamped before building: a file changing while it is read leaves a stamp older than the
  // content, which only causes one more rebuild.
  auto stamps = trustStamps(options);
  std::lock_guard<std::mutex> lock(mutex);
  auto found = contexts.find(key);
  if (found != contexts.end() && found->second.stamps == stamps) return found->second.context;

  Poco::Net::Context::Ptr context = makeClientContext(options, host);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  // OpenSSL 3 reports a peer that drops TCP without close_notify as an SSL error; for a
  // WebSocket that is an ordinary connection drop (frames carry their own lengths, so a
  // truncated frame is still detected), reported as WsClosed 1006 like any other drop. Set
  // before the context is shared: it is never modified afterwards.
  if (use == ContextUse::WebSocket) {
    SSL_CTX_set_options(context->sslContext(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  }
#endif
  if (found == contexts.end() && contexts.size() >= kMaxSharedContexts) contexts.clear();
  contexts[key] = SharedContext{std::move(stamps), context};
  return context;
}

void checkTrustSettings(const TlsOptions& options) {
  makeClientContext(options, options.server_name.empty() ? "localhost" : options.server_name);
}

}  // namespace hme::transport
