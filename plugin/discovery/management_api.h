#pragma once
/// The management API of enterprise mode (spec/discovery.md §1–2) as pure functions: request
/// bodies and paths in, parsed answers out. No sockets: ManagementClient does the I/O. All
/// functions are thread-safe and never throw except std::bad_alloc; answers are untrusted, so
/// anything malformed is reported as nullopt (or an item is left out), never as an exception.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace hme::discovery {

/// The largest `limit` the list calls accept.
inline constexpr std::int64_t kMaxPageSize = 500;

/// An access token from the App ID login.
struct AccessToken {
  config::Secret token;                                   ///< `accessToken`
  std::chrono::seconds lifetime{std::chrono::hours(12)};  ///< how long it is valid from now
};

/// One running meeting or webinar as a management list or detail reports it. Text fields are
/// sanitized (printable, at most 256 bytes); the ID is digits only.
struct ListedMeeting {
  std::string meeting_id;  ///< `conferenceID` (`conferenceId` in the webinar list)
  std::string conf_uuid;   ///< `confUUID`, unique per occurrence; empty if absent
  std::string subject;
  std::string scheduler;  ///< `scheduserName`
  std::string state;      ///< `conferenceState` (`Created`, `Destroyed`, …); empty if absent
  bool webinar = false;   ///< from the webinar list, or `webinar: true` in the online list
  /// The host password: the `chair` entry of `passwordEntry`, or the webinar's `chairPasswd`.
  /// Empty if the answer did not carry one (a `general` password is never taken).
  config::Secret chair_password;
};

/// One page of a list call.
struct Page {
  std::int64_t count = 0;  ///< the total the server reports (`count`)
  std::vector<ListedMeeting> items;
  std::size_t dropped = 0;  ///< items left out because they had no valid meeting ID
};

/// The gateway's `X-APIG-Ratelimit-Api` header: `remain:99,limit:100,time:1 minute`.
struct RateLimit {
  std::int64_t remain = 0;
  std::int64_t limit = 0;
  std::chrono::milliseconds window{std::chrono::minutes(1)};  ///< `time`; 1 minute if unreadable
};

/// The App ID login request body: `{"appId","clientType":72,"expireTime","nonce","userId":""}`.
std::string appAuthBody(std::string_view app_id, std::int64_t expire_time, std::string_view nonce);

/// The `Authorization` header value of the login: `HMAC-SHA256 signature=<hex>`.
std::string appAuthAuthorization(std::string_view app_id, std::int64_t expire_time,
                                 std::string_view nonce, const config::Secret& app_key);

/// Parses the login answer. The lifetime is the smaller plausible one of `validPeriod` (seconds)
/// and `expireTime` (Unix seconds) − `now_unix_seconds`, in (0, 7 days]; one hour if neither is
/// plausible. nullopt if `accessToken` is missing or not a visible-ASCII token.
std::optional<AccessToken> parseAccessToken(std::string_view body, std::int64_t now_unix_seconds);

/// Path and query of one online-list page (`queryAll=true`).
std::string onlineListPath(std::int64_t offset, std::int64_t limit);
/// Path and query of one ongoing-webinar page.
std::string webinarListPath(std::int64_t offset, std::int64_t limit);
/// Path and query of the online details of one meeting.
std::string confDetailPath(std::string_view meeting_id);

/// Parses an online-list page (`{"count","data":[ConferenceInfo…]}`). nullopt if `data` is not a
/// list.
std::optional<Page> parseOnlinePage(std::string_view body);
/// Parses an ongoing-webinar page (`{"count","data":[{"conferenceId","chairPasswd",…}]}`); every
/// item is marked `webinar`. nullopt if `data` is not a list.
std::optional<Page> parseWebinarPage(std::string_view body);
/// Parses a confDetail answer (`{"conferenceData": ConferenceInfo}`). nullopt if there is no
/// `conferenceData` object with a valid meeting ID.
std::optional<ListedMeeting> parseConfDetail(std::string_view body);

/// Parses an `X-APIG-Ratelimit-Api` value. nullopt if `remain` is missing or not a number.
std::optional<RateLimit> parseRateLimit(std::string_view header);

/// A fresh random nonce for the login (32 hex characters).
std::string newNonce();

}  // namespace hme::discovery
