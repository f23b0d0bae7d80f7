#include "plugin/discovery/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace hme::discovery {

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // HMAC() accepts an empty key; a null data pointer with length 0 is fine too.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
           &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(std::size_t{2} * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

std::string appAuthSignature(std::string_view app_id, std::string_view user_id,
                             std::int64_t expire_time, std::string_view nonce,
                             std::string_view app_key) {
  std::string data;
  data.append(app_id).append(":").append(user_id).append(":");
  data.append(std::to_string(expire_time)).append(":").append(nonce);
  return hmacSha256Hex(app_key, data);
}

std::string webhookSignature(std::string_view subscriber_key, std::string_view app_id,
                             std::string_view timestamp, std::string_view nonce,
                             std::string_view event_info) {
  std::string data;
  data.reserve(app_id.size() + timestamp.size() + nonce.size() + event_info.size());
  data.append(app_id).append(timestamp).append(nonce).append(event_info);
  return hmacSha256Hex(subscriber_key, data);
}

namespace {

bool isHex(std::string_view text) noexcept {
  for (char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool hexEqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  // Whether the input is hex at all is no secret; the comparison below is only sound for hex.
  if (a.size() != b.size() || !isHex(a) || !isHex(b)) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Hex letters differ from their upper case only in bit 0x20; digits have it set already.
    const auto x = static_cast<unsigned char>(a[i] | 0x20);
    const auto y = static_cast<unsigned char>(b[i] | 0x20);
    difference = static_cast<unsigned char>(difference | (x ^ y));
  }
  return difference == 0;
}

}  // namespace hme::discovery
