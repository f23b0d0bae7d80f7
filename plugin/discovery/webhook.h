#pragma once
/// The enterprise webhook receiver's decisions (spec/discovery.md §3), as a pure function of the
/// request body, the subscriber settings and the current time: no sockets, no clock of its own.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"

namespace hme::discovery {

/// Webhook requests older (or newer) than this are refused as stale.
inline constexpr std::int64_t kWebhookMaxSkewMs = std::int64_t{5} * 60 * 1000;
/// The largest webhook body accepted.
inline constexpr std::size_t kMaxWebhookBodyBytes = std::size_t{64} * 1024;

/// How the receiver answers one webhook request, and what to count and do.
struct WebhookVerdict {
  int status = 400;  ///< HTTP status: 200, 400 (malformed) or 401 (signature, app ID or age)
  std::string body;  ///< JSON response body
  /// `event` label: a documented event name (`meeting.verify`, `meeting.started`, …), `other`
  /// for any other name, `unknown` when the body has no readable event.
  std::string event = "unknown";
  /// `result` label: `ok`, `invalid` (malformed body), `bad_signature` (or wrong appID), `stale`.
  std::string result = "invalid";
  bool trigger_pass = false;  ///< meeting.started / meeting.end / meeting.conclude, verified
  std::string meeting_id;     ///< payload.meetingInfo.meetingID if present (public)
};

/// Checks one webhook request and decides the answer:
/// - the body must be a JSON object with string `appID`, `nonce`, `signature`, a `timestamp`
///   (number or decimal string; Unix ms, or seconds if below 10^11) and an `eventInfo` object
///   (or a string holding one) with a string `event`; otherwise 400 `invalid`;
/// - `appID` must equal `webhook.subscriber_id` and `signature` must equal
///   hex(HMAC-SHA256(subscriber_key, appID + timestamp + nonce + eventInfo)) in any letter case,
///   where timestamp and eventInfo are the raw texts from the body (an eventInfo string is used
///   decoded); otherwise 401 `bad_signature`;
/// - the timestamp must be within kWebhookMaxSkewMs of `now_ms`; otherwise 401 `stale`;
/// - `meeting.verify` is answered `{"event":"meeting.verify","nonce":<the top-level nonce>}`,
///   every other event with `{"result":"ok"}`.
/// Never throws except std::bad_alloc; the body is untrusted and never echoed except the nonce.
WebhookVerdict evaluateWebhook(std::string_view body, const config::WebhookConfig& webhook,
                               std::int64_t now_ms);

}  // namespace hme::discovery
