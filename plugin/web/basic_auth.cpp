#include "plugin/web/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <stdexcept>

#include "plugin/web/web_config.h"

namespace hme::web {
namespace {

// Successful logins are few (one per scraper and password); the bound only matters if a
// configured user's password is known to an attacker who then varies the user name.
constexpr std::size_t kMaxCacheEntries = 256;
constexpr std::size_t kCacheSaltBytes = 32;

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding, as Go's r.BasicAuth() (exporter-toolkit) accepts it.
std::optional<std::string> decodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[k] = base64Value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const unsigned triple = (static_cast<unsigned>(v[0]) << 18) |
                            (static_cast<unsigned>(v[1]) << 12) |
                            (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out.push_back(static_cast<char>((triple >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((triple >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(triple & 0xFF));
  }
  return out;
}

bool iequalsAscii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int costOf(const std::string& hash) { return (hash[4] - '0') * 10 + (hash[5] - '0'); }

}  // namespace

std::optional<BasicCredentials> parseBasicAuthorization(std::string_view header) {
  const auto space = header.find(' ');
  if (space == std::string_view::npos || !iequalsAscii(header.substr(0, space), "Basic")) {
    return std::nullopt;
  }
  std::string_view encoded = header.substr(space);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  const auto decoded = decodeBase64(encoded);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool bcryptVerify(std::string_view password, const std::string& hash) {
  if (password.size() >= CRYPT_MAX_PASSPHRASE_SIZE ||
      password.find('\0') != std::string_view::npos) {
    return false;
  }
  // struct crypt_data is 32 KiB: too big for a worker thread's stack habits, so on the heap.
  // crypt_r wants it zeroed before its first use.
  auto data = std::make_unique<crypt_data>();
  std::string phrase(password);
  const char* computed = crypt_r(phrase.c_str(), hash.c_str(), data.get());
  // libcrypt signals failure with a token starting with '*' (or, in some builds, NULL).
  bool same = false;
  if (computed != nullptr && computed[0] != '*') {
    const std::string_view result(computed);
    same =
        result.size() == hash.size() && CRYPTO_memcmp(result.data(), hash.data(), hash.size()) == 0;
  }
  // crypt_data keeps a copy of the password; neither copy should outlive the check.
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  OPENSSL_cleanse(phrase.data(), phrase.size());
  return same;
}

std::string bcryptSetting(int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // A null random-bytes argument makes libcrypt read the system's randomness itself.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting,
                       sizeof setting) == nullptr) {
    throw std::runtime_error("cannot make a bcrypt salt (libcrypt without bcrypt support?)");
  }
  return setting;
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users, Verifier verify)
    : users_(std::move(users)), verify_(std::move(verify)) {
  int cost = 10;  // exporter-toolkit's dummy hash cost; raised to the costliest configured hash
  for (const auto& [user, hash] : users_) {
    if (isBcryptHash(hash)) cost = std::max(cost, costOf(hash));
  }
  dummy_hash_ = bcryptSetting(cost);
  cache_salt_.resize(kCacheSaltBytes);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(cache_salt_.data()),
                 static_cast<int>(cache_salt_.size())) != 1) {
    throw std::runtime_error("cannot read random bytes for the credential cache");
  }
}

std::string BasicAuthenticator::cacheKey(const std::string& user, const std::string& hash,
                                         const std::string& password) const {
  // Length-prefixed fields, so ("a:b", "c") and ("a", "b:c") never collide.
  std::string material = cache_salt_;
  for (const std::string* field : {&user, &hash, &password}) {
    material += std::to_string(field->size());
    material.push_back(':');
    material += *field;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const bool ok =
      EVP_Digest(material.data(), material.size(), digest, &length, EVP_sha256(), nullptr) == 1;
  OPENSSL_cleanse(material.data(), material.size());
  if (!ok) throw std::runtime_error("SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool BasicAuthenticator::authorize(std::string_view authorization) {
  const auto credentials = parseBasicAuthorization(authorization);
  if (!credentials) return false;
  const auto found = users_.find(credentials->user);
  const bool known = found != users_.end();
  // Same path for known and unknown users: a cache look-up (only successes are cached, so an
  // unknown user always misses), then one verification.
  const std::string& hash = known ? found->second : dummy_hash_;
  const std::string key = cacheKey(credentials->user, hash, credentials->password);
  {
    std::lock_guard lock(cache_mutex_);
    if (cache_.count(key) != 0) return known;
  }
  bool ok = false;
  {
    std::lock_guard lock(verify_mutex_);
    ++verifications_;
    ok = verify_(credentials->password, hash);
  }
  if (!(ok && known)) return false;
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.insert(key);
  return true;
}

}  // namespace hme::web
