#pragma once
/// HTTPS calls of enterprise mode (spec/discovery.md §1–2): App ID login, the online-meeting
/// list, online details and the ongoing-webinar list. Each answer carries the gateway's
/// rate-limit header next to its value.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "plugin/discovery/management_api.h"
#include "plugin/transport/result.h"
#include "plugin/transport/tls.h"

namespace hme::discovery {

/// The outcome of one management call.
template <class T>
struct Answer {
  transport::Result<T> result;
  std::optional<RateLimit> rate_limit;  ///< `X-APIG-Ratelimit-Api`, if the answer had one
};

/// True if `failure` says the access token is no longer valid (HTTP 401 or USG.000000004):
/// log in again.
bool isTokenInvalid(const transport::Failure& failure);

/// Client for the management endpoints of one API base URL (the `api.url` setting).
///
/// Each call opens its own HTTPS connection (calls are seconds to minutes apart) with the
/// timeouts of `api.timeout`, and never throws. Failures follow the transport's model:
/// RateLimited for 429 or an `MMC.100000429` body (also inside a 2xx answer), Rejected for other
/// 4xx (with the error code, e.g. USG.000000004), ServerError for 5xx, BadResponse when a 2xx
/// body lacks what is needed, TooLarge above 8 MiB, plus network errors. No failure detail
/// contains the App key or the access token.
/// Thread-safety: the const calls may run concurrently.
class ManagementClient {
 public:
  /// Throws std::invalid_argument if `api_url` is not an https URL with a host, or the TLS
  /// settings cannot be loaded.
  ManagementClient(const std::string& api_url, const transport::TlsOptions& tls,
                   std::chrono::milliseconds timeout);
  ~ManagementClient();
  ManagementClient(const ManagementClient&) = delete;
  ManagementClient& operator=(const ManagementClient&) = delete;

  /// POST /v2/usg/acs/auth/appauth as the default administrator (empty userId), signed with
  /// `app_key`; the signature expires 10 minutes from now.
  Answer<AccessToken> login(const std::string& app_id, const config::Secret& app_key) const;
  /// GET one page of /v1/mmc/management/conferences/online (queryAll=true).
  Answer<Page> onlinePage(const config::Secret& token, std::int64_t offset,
                          std::int64_t limit) const;
  /// GET one page of /v1/wss/webinar/open/conferences/ongoing.
  Answer<Page> webinarPage(const config::Secret& token, std::int64_t offset,
                           std::int64_t limit) const;
  /// GET /v1/mmc/management/conferences/online/confDetail for one meeting.
  Answer<ListedMeeting> confDetail(const config::Secret& token,
                                   const std::string& meeting_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hme::discovery
