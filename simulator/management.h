#pragma once
/// The management side of the simulated Huawei Cloud Meeting service (spec/discovery.md): App ID
/// login with signature check and a per-user token quota, the online-meeting list with paging,
/// online details, ongoing webinars, the gateway's rate limit, and a webhook sender that signs
/// its requests. Served on the simulator's HTTPS port.
///
/// Every public method is thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Poco {
class URI;
namespace Net {
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Net
}  // namespace Poco

namespace hme::simulator {

/// Where the webhook sender posts, and how it signs.
struct WebhookTarget {
  std::string url;             ///< http:// or https://host:port/path; empty: no webhooks
  std::string subscriber_id;   ///< sent as `appID`
  std::string subscriber_key;  ///< the HMAC key (a secret)
  std::string ca_file;         ///< for an https:// URL: the CA to trust (empty: system store)
};

/// Settings of the management side. Disabled by default: its paths then answer 404.
struct ManagementOptions {
  bool enabled = false;
  std::string app_id = "hme-sim-app";
  std::string app_key;  ///< the App key (a secret); required when enabled
  /// scheduserName of meetings whose spec has no scheduler: they belong to the administrator
  /// that the App ID logs in as.
  std::string admin_name = "Administrator";
  std::chrono::seconds access_token_lifetime{std::chrono::hours(12)};
  std::size_t token_quota = 64;     ///< live tokens per user; a new login evicts the oldest
  std::size_t max_page_size = 500;  ///< a page never holds more items (even if limit asks more)
  /// Withhold the `chair` password (list and confDetail) of meetings scheduled by other users.
  bool withhold_chair_for_others = false;
  /// false: the online list carries no `chair` entry at all, only confDetail does.
  bool chair_password_in_list = true;
  int rate_limit = 100;  ///< calls per API and window; beyond: 429 MMC.100000429
  std::chrono::milliseconds rate_window{std::chrono::minutes(1)};
  WebhookTarget webhook;  ///< meeting.started / meeting.end are posted here automatically
};

/// Which management endpoint a call went to.
enum class ManagementApi { Login, OnlineList, ConfDetail, WebinarList };

/// One management call the simulator answered, in arrival order.
struct ManagementCall {
  ManagementApi api = ManagementApi::Login;
  int status = 0;
  std::string error_code;   ///< of an error answer
  std::int64_t offset = 0;  ///< list calls: as asked
  std::int64_t limit = 0;
  std::size_t items = 0;  ///< list calls: items returned
  std::chrono::system_clock::time_point at;
};

/// Totals of the management calls.
struct ManagementCounters {
  std::size_t logins = 0;          ///< logins answered with a token
  std::size_t logins_refused = 0;  ///< bad signature, App ID, body or expired signature
  std::size_t list_calls = 0;      ///< online-list calls, any answer
  std::size_t detail_calls = 0;    ///< confDetail calls, any answer
  std::size_t webinar_calls = 0;   ///< ongoing-webinar calls, any answer
  std::size_t invalid_token = 0;   ///< calls refused for a missing, unknown or expired token
  std::size_t rate_limited = 0;    ///< calls answered 429
  std::size_t tokens_evicted = 0;  ///< tokens pushed out by the quota
  std::size_t live_tokens = 0;
};

/// A scripted refusal of management calls.
struct ManagementRefusal {
  ManagementApi api = ManagementApi::OnlineList;
  int status = 429;
  std::string error_code = "MMC.100000429";
  int count = 1;  ///< calls to refuse
};

/// One run (occurrence) of a meeting, as the management side saw it.
struct MeetingRun {
  std::string meeting_id;
  std::string conf_uuid;
  std::chrono::system_clock::time_point started;
  std::optional<std::chrono::system_clock::time_point> ended;
};

/// A webhook event to send now (for tests), with ways to get it wrong.
struct WebhookEvent {
  std::string event = "meeting.started";
  std::string meeting_id;
  std::string conf_uuid;
  std::chrono::milliseconds clock_offset{0};  ///< added to the timestamp (stale: −6 min)
  bool uppercase_signature = false;           ///< send the hex signature in upper case
  std::optional<std::string> signing_key;     ///< sign with this key instead of the target's
};

/// The answer to one webhook request.
struct WebhookDelivery {
  std::string event;
  std::string meeting_id;
  int status = 0;     ///< HTTP status; 0 if the request could not be sent
  std::string body;   ///< response body (or the error)
  std::string nonce;  ///< the nonce that was sent
  std::chrono::system_clock::time_point at;
};

/// A running meeting as the management side lists it.
struct ConferenceView {
  std::string meeting_id;
  std::string conf_uuid;
  std::string subject;
  std::string scheduler;  ///< empty: the administrator
  bool webinar = false;
  std::string host_password;
  std::string guest_password;
  std::int64_t start_ms = 0;
  std::size_t participants = 0;
};

/// The `confUUID` of a meeting's `run`-th occurrence: 36 characters in UUID form, stable.
std::string conferenceUuid(const std::string& meeting_id, std::uint64_t run);

/// The management endpoints. Owned by the Simulator; `conferences` reads the running meetings
/// (it must not call back into this object), `changed` wakes Simulator::waitFor.
class Management {
 public:
  Management(ManagementOptions options, std::function<std::vector<ConferenceView>()> conferences,
             std::function<void()> changed);
  /// Stops the webhook sender (a request in flight finishes first).
  ~Management();
  Management(const Management&) = delete;
  Management& operator=(const Management&) = delete;

  /// True if `path` is a management path and the side is enabled.
  bool handles(const std::string& path) const;
  /// Answers one management request. Never throws.
  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
              const Poco::URI& uri);

  /// A meeting started: recorded as a new run and posted as meeting.started to the webhook
  /// target, if any (asynchronously, in order). Cheap: may be called under the caller's locks.
  void meetingStarted(const ConferenceView& conference);
  /// A meeting ended: its run is closed and meeting.end posted like meetingStarted.
  void meetingEnded(const ConferenceView& conference);

  // --- Switches and faults ---------------------------------------------------------------------

  /// See ManagementOptions::withhold_chair_for_others.
  void setWithholdChairForOthers(bool withhold);
  /// See ManagementOptions::chair_password_in_list.
  void setChairPasswordInList(bool in_list);
  /// Refuses the next `count` calls of one endpoint as described.
  void refuseCalls(const ManagementRefusal& refusal);
  /// Changes the rate limit (calls per API and window).
  void setRateLimit(int calls, std::chrono::milliseconds window);
  /// Makes every access token expire now.
  void expireAccessTokens();
  /// Replaces the webhook target (an empty URL stops automatic webhooks).
  void setWebhookTarget(const WebhookTarget& target);
  /// Signs and posts one event to the target now and returns the answer (blocks).
  WebhookDelivery sendWebhook(const WebhookEvent& event);
  /// Posts `body` as it is to the target now (for malformed requests) and returns the answer.
  WebhookDelivery sendRawWebhook(const std::string& body);

  // --- Observations ----------------------------------------------------------------------------

  /// Totals of the calls so far.
  ManagementCounters counters() const;
  /// Every management call, in arrival order (the latest 100000).
  std::vector<ManagementCall> calls() const;
  /// Every run that started, in order (the latest 100000).
  std::vector<MeetingRun> runs() const;
  /// Every webhook request sent (automatic or not), in order.
  std::vector<WebhookDelivery> webhookDeliveries() const;
  /// Access tokens issued, for secret scans.
  std::vector<std::string> issuedTokens() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hme::simulator
