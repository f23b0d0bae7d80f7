#pragma once
/// HTTP Basic authentication against bcrypt hashes, with exporter-toolkit's defences:
/// - a user that does not exist still costs one bcrypt (against a dummy hash of the highest cost
///   configured), so the response time does not tell whether the user exists;
/// - the computed hash is compared in constant time;
/// - bcrypt runs one at a time, which bounds the CPU an unauthenticated client can burn to one
///   core;
/// - successful verifications are cached (keyed by a salted SHA-256 of user, hash and password),
///   so a scraper with the right password costs one bcrypt, not one per scrape. Failures are not
///   cached: every wrong attempt costs a bcrypt whether or not the user exists.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace hme::web {

/// User name and password from an `Authorization: Basic …` header.
struct BasicCredentials {
  std::string user;
  std::string password;
};

/// Parses an Authorization header value: scheme `Basic` (any case), one space or more, then
/// strict base64 (padding required) of `user:password` (split at the first ':'). nullopt for
/// anything else. Pure.
std::optional<BasicCredentials> parseBasicAuthorization(std::string_view header);

/// Checks `password` against a bcrypt hash or bcrypt setting (`$2b$10$` + 22 salt characters)
/// with libcrypt's crypt_r, comparing the result in constant time. False for a password with a
/// NUL byte or one longer than libcrypt accepts, and for a malformed hash. Thread-safe.
bool bcryptVerify(std::string_view password, const std::string& hash);

/// Makes a bcrypt setting (`$2b$<cost>$<22 random salt characters>`) with libcrypt's
/// crypt_gensalt and the system's randomness. Throws std::runtime_error if libcrypt cannot.
std::string bcryptSetting(int cost);

/// The check behind every request when `basic_auth_users` is configured. Thread-safe.
class BasicAuthenticator {
 public:
  /// Runs one password check; returns whether `password` matches `hash`.
  using Verifier = std::function<bool(std::string_view password, const std::string& hash)>;

  /// `users` maps user names to bcrypt hashes (validated by the web config loader). `verify`
  /// defaults to bcryptVerify; tests inject a recording one. Throws std::runtime_error if the
  /// dummy hash cannot be made.
  explicit BasicAuthenticator(std::map<std::string, std::string> users,
                              Verifier verify = bcryptVerify);

  /// True if `authorization` (the header value; empty when absent) names a configured user with
  /// the right password. A missing or malformed header fails at once; any parsed credentials
  /// cost one verification unless they succeeded before.
  bool authorize(std::string_view authorization);

  /// How many times the verifier ran (cache hits excluded).
  std::uint64_t verifications() const { return verifications_.load(); }

  /// The setting unknown users are checked against: bcrypt with the highest configured cost.
  const std::string& dummyHash() const { return dummy_hash_; }

 private:
  std::string cacheKey(const std::string& user, const std::string& hash,
                       const std::string& password) const;

  const std::map<std::string, std::string> users_;
  const Verifier verify_;
  std::string dummy_hash_;
  std::string cache_salt_;  // random per process: a memory dump yields no plain SHA-256
  std::mutex verify_mutex_;
  std::mutex cache_mutex_;
  std::unordered_set<std::string> cache_;
  std::atomic<std::uint64_t> verifications_{0};
};

}  // namespace hme::web
