#pragma once
/// The two HMAC-SHA256 signatures of enterprise mode (spec/discovery.md §1 and §3): the App ID
/// login signature the exporter computes, and the webhook signature it checks. Pure functions
/// over OpenSSL's HMAC; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

namespace hme::discovery {

/// Lower-case hex of HMAC-SHA256(key, data). Throws std::runtime_error if OpenSSL fails (it does
/// not for valid input).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

/// The App ID login signature: hex(HMAC-SHA256(key = app_key,
/// data = app_id + ":" + user_id + ":" + expire_time + ":" + nonce)). An empty `user_id` logs in as
/// the enterprise's default administrator (both colons stay). Throws like hmacSha256Hex.
std::string appAuthSignature(std::string_view app_id, std::string_view user_id,
                             std::int64_t expire_time, std::string_view nonce,
                             std::string_view app_key);

/// The webhook signature: hex(HMAC-SHA256(key = subscriber_key,
/// data = app_id + timestamp + nonce + event_info)), where `timestamp` is the decimal text as
/// sent and `event_info` the raw JSON text of the event. Throws like hmacSha256Hex.
std::string webhookSignature(std::string_view subscriber_key, std::string_view app_id,
                             std::string_view timestamp, std::string_view nonce,
                             std::string_view event_info);

/// True if `a` and `b` are the same hex string, ignoring letter case (false if either holds a
/// non-hex character). Equal-length hex inputs take the same time whatever their content (no
/// early exit), so a signature cannot be guessed byte by byte. Never throws.
bool hexEqualsIgnoreCase(std::string_view a, std::string_view b) noexcept;

}  // namespace hme::discovery
