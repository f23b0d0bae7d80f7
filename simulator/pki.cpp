#include "simulator/pki.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace hme::simulator {

namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void fail(const std::string& step) {
  throw std::runtime_error("pki: " + step + " failed");
}

void check(int rc, const char* step) {
  if (rc <= 0) {
    fail(step);
  }
}

KeyPtr newKey() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    fail("EC key generation");
  }
  return key;
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    fail("extension " + value);
  }
  const int rc = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(rc, "X509_add_ext");
}

// A certificate for `subject_cn` naming `issuer` (nullptr: itself) as issuer; signed later.
CertPtr newCert(const std::string& subject_cn, EVP_PKEY* key, X509* issuer, int valid_days) {
  CertPtr cert(X509_new());
  if (!cert) {
    fail("X509_new");
  }
  check(X509_set_version(cert.get(), 2), "X509_set_version");
  unsigned char serial[8];
  check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
  serial[0] &= 0x7f;  // a positive serial number
  std::uint64_t serial_value = 0;
  for (unsigned char byte : serial) {
    serial_value = (serial_value << 8) | byte;
  }
  check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial_value), "serial");
  // Backdated an hour so small clock differences between processes do not matter.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr) {
    fail("notBefore");
  }
  if (X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 86400) ==
      nullptr) {
    fail("notAfter");
  }
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("hme simulator"), -1, -1,
                                   0),
        "subject O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1,
                                   -1, 0),
        "subject CN");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)), "issuer");
  return cert;
}

void writeFile(const std::string& path, BIO* pem, mode_t mode) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(pem, &data);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    throw std::runtime_error("pki: cannot write " + path + ": " +
                             std::generic_category().message(errno));
  }
  // open() keeps an existing file's mode; the key must not stay readable by others.
  if (::fchmod(fd, mode) != 0) {
    ::close(fd);
    throw std::runtime_error("pki: cannot chmod " + path);
  }
  long written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, static_cast<std::size_t>(size - written));
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("pki: cannot write " + path);
    }
    written += n;
  }
  if (::close(fd) != 0) {
    throw std::runtime_error("pki: cannot write " + path);
  }
}

BioPtr memoryBio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    fail("BIO_new");
  }
  return bio;
}

}  // namespace

PkiFiles generatePki(const std::string& directory, const PkiOptions& options) {
  if (options.dns_names.empty() && options.ip_addresses.empty()) {
    throw std::runtime_error("pki: the server certificate needs at least one name");
  }
  KeyPtr ca_key = newKey();
  CertPtr ca = newCert("hme simulator throwaway CA", ca_key.get(), nullptr, options.valid_days + 1);
  addExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()), "signing the CA");

  KeyPtr server_key = newKey();
  const std::string cn =
      options.dns_names.empty() ? options.ip_addresses.front() : options.dns_names.front();
  CertPtr server = newCert(cn, server_key.get(), ca.get(), options.valid_days);
  std::string san;
  for (const std::string& dns : options.dns_names) {
    san += (san.empty() ? "DNS:" : ",DNS:") + dns;
  }
  for (const std::string& ip : options.ip_addresses) {
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  }
  addExtension(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExtension(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  addExtension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  addExtension(server.get(), ca.get(), NID_subject_alt_name, san);
  addExtension(server.get(), ca.get(), NID_subject_key_identifier, "hash");
  addExtension(server.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(server.get(), ca_key.get(), EVP_sha256()), "signing the server certificate");

  PkiFiles files{directory + "/ca.pem", directory + "/server.pem", directory + "/server.key"};
  BioPtr ca_pem = memoryBio();
  check(PEM_write_bio_X509(ca_pem.get(), ca.get()), "PEM CA");
  writeFile(files.ca_file, ca_pem.get(), 0644);
  BioPtr cert_pem = memoryBio();
  check(PEM_write_bio_X509(cert_pem.get(), server.get()), "PEM certificate");
  writeFile(files.cert_file, cert_pem.get(), 0644);
  BioPtr key_pem = memoryBio();
  check(PEM_write_bio_PrivateKey(key_pem.get(), server_key.get(), nullptr, nullptr, 0, nullptr,
                                 nullptr),
        "PEM key");
  writeFile(files.key_file, key_pem.get(), 0600);
  return files;
}

}  // namespace hme::simulator
