#include "plugin/discovery/management_api.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "plugin/discovery/json_fields.h"
#include "plugin/discovery/signature.h"

namespace hme::discovery {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::size_t kMaxTextBytes = 256;
constexpr std::size_t kMaxIdBytes = 32;
constexpr std::int64_t kMaxTokenLifetimeSeconds = std::int64_t{7} * 24 * 3600;
constexpr std::int64_t kFallbackTokenLifetimeSeconds = 3600;
constexpr int kClientType = 72;
constexpr std::size_t kMaxJsonDepth = 32;

std::optional<std::int64_t> decimal(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return value;
}

// An integer given as a JSON number or a decimal string.
std::optional<std::int64_t> integer(const Object& object, const std::string& key) {
  if (!object.has(key)) {
    return std::nullopt;
  }
  const Poco::Dynamic::Var& value = object.get(key);
  try {
    if (value.isString()) {
      return decimal(value.toString());
    }
    if (value.isInteger()) {
      return value.convert<std::int64_t>();
    }
    if (value.isNumeric()) {
      const double d = value.convert<double>();
      if (std::isfinite(d) && std::abs(d) < 9e18) {
        return static_cast<std::int64_t>(d);
      }
    }
  } catch (const Poco::Exception&) {
  }
  return std::nullopt;
}

bool boolean(const Object& object, const std::string& key) {
  if (!object.has(key)) {
    return false;
  }
  const Poco::Dynamic::Var& value = object.get(key);
  try {
    if (value.isBoolean()) {
      return value.convert<bool>();
    }
    if (value.isString()) {
      return value.toString() == "true" || value.toString() == "1";
    }
    if (value.isInteger()) {
      return value.convert<int>() != 0;
    }
  } catch (const Poco::Exception&) {
  }
  return false;
}

// Printable text only, bounded: it ends up on the status page and in logs.
std::string sanitize(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (out.size() >= kMaxTextBytes) {
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  return out;
}

bool validMeetingId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdBytes &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool validUuid(std::string_view id) {
  return id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
         });
}

// A host password as the control-token call can send it: no control characters.
bool usablePassword(std::string_view password) {
  return !password.empty() && password.size() <= 256 &&
         std::none_of(password.begin(), password.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u < 0x20 || u == 0x7f;
         });
}

config::Secret chairFromEntries(const Object& conference) {
  if (!conference.isArray("passwordEntry")) {
    return {};
  }
  const Array::Ptr entries = conference.getArray("passwordEntry");
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const Object::Ptr entry = entries->getObject(static_cast<unsigned>(i));
    if (!entry || detail::stringMember(*entry, "conferenceRole").value_or("") != "chair") {
      continue;
    }
    const std::string password = detail::stringMember(*entry, "password").value_or("");
    if (usablePassword(password)) {
      return config::Secret(password);
    }
  }
  return {};
}

std::optional<ListedMeeting> conferenceInfo(const Object& conference) {
  ListedMeeting meeting;
  meeting.meeting_id = detail::stringMember(conference, "conferenceID").value_or("");
  if (!validMeetingId(meeting.meeting_id)) {
    return std::nullopt;
  }
  meeting.conf_uuid = detail::stringMember(conference, "confUUID").value_or("");
  if (!validUuid(meeting.conf_uuid)) {
    meeting.conf_uuid.clear();
  }
  meeting.subject = sanitize(detail::stringMember(conference, "subject").value_or(""));
  meeting.scheduler = sanitize(detail::stringMember(conference, "scheduserName").value_or(""));
  meeting.state = sanitize(detail::stringMember(conference, "conferenceState").value_or(""));
  meeting.webinar = boolean(conference, "webinar");
  meeting.chair_password = chairFromEntries(conference);
  return meeting;
}

std::optional<ListedMeeting> webinarInfo(const Object& webinar) {
  ListedMeeting meeting;
  // The webinar API spells it conferenceId; accept the online list's spelling too.
  meeting.meeting_id = detail::stringMember(webinar, "conferenceId")
                           .value_or(detail::stringMember(webinar, "conferenceID").value_or(""));
  if (!validMeetingId(meeting.meeting_id)) {
    return std::nullopt;
  }
  meeting.conf_uuid = detail::stringMember(webinar, "confUUID").value_or("");
  if (!validUuid(meeting.conf_uuid)) {
    meeting.conf_uuid.clear();
  }
  meeting.subject = sanitize(detail::stringMember(webinar, "subject").value_or(""));
  meeting.scheduler = sanitize(detail::stringMember(webinar, "scheduserName").value_or(""));
  meeting.state = sanitize(detail::stringMember(webinar, "conferenceState").value_or(""));
  meeting.webinar = true;
  const std::string chair = detail::stringMember(webinar, "chairPasswd").value_or("");
  if (usablePassword(chair)) {
    meeting.chair_password = config::Secret(chair);
  }
  return meeting;
}

template <typename ItemParser>
std::optional<Page> parsePage(std::string_view body, ItemParser&& item) {
  const Object::Ptr object = detail::parseObject(body, kMaxJsonDepth);
  if (!object || !object->isArray("data")) {
    return std::nullopt;
  }
  Page page;
  const Array::Ptr data = object->getArray("data");
  for (std::size_t i = 0; i < data->size(); ++i) {
    const Object::Ptr entry = data->getObject(static_cast<unsigned>(i));
    auto meeting = entry ? item(*entry) : std::nullopt;
    if (meeting) {
      page.items.push_back(std::move(*meeting));
    } else {
      ++page.dropped;
    }
  }
  page.count = std::max<std::int64_t>(0, integer(*object, "count").value_or(0));
  return page;
}

std::string pageQuery(std::int64_t offset, std::int64_t limit) {
  return "offset=" + std::to_string(offset) + "&limit=" + std::to_string(limit);
}

}  // namespace

std::string appAuthBody(std::string_view app_id, std::int64_t expire_time, std::string_view nonce) {
  Object::Ptr body = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  body->set("appId", std::string(app_id));
  body->set("clientType", kClientType);
  body->set("expireTime", expire_time);
  body->set("nonce", std::string(nonce));
  body->set("userId", std::string());
  std::ostringstream out;
  body->stringify(out);
  return out.str();
}

std::string appAuthAuthorization(std::string_view app_id, std::int64_t expire_time,
                                 std::string_view nonce, const config::Secret& app_key) {
  return "HMAC-SHA256 signature=" +
         appAuthSignature(app_id, "", expire_time, nonce, app_key.reveal());
}

std::optional<AccessToken> parseAccessToken(std::string_view body, std::int64_t now_unix_seconds) {
  const Object::Ptr object = detail::parseObject(body, kMaxJsonDepth);
  if (!object) {
    return std::nullopt;
  }
  const std::string token = detail::stringMember(*object, "accessToken").value_or("");
  const bool plausible =
      !token.empty() && token.size() <= 4096 &&
      std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!plausible) {
    return std::nullopt;
  }
  std::int64_t lifetime = std::numeric_limits<std::int64_t>::max();
  const auto consider = [&](std::optional<std::int64_t> seconds) {
    if (seconds && *seconds > 0 && *seconds <= kMaxTokenLifetimeSeconds) {
      lifetime = std::min(lifetime, *seconds);
    }
  };
  consider(integer(*object, "validPeriod"));
  if (const auto expire = integer(*object, "expireTime")) {
    consider(*expire - now_unix_seconds);
  }
  if (lifetime == std::numeric_limits<std::int64_t>::max()) {
    lifetime = kFallbackTokenLifetimeSeconds;
  }
  return AccessToken{config::Secret(token), std::chrono::seconds(lifetime)};
}

std::string onlineListPath(std::int64_t offset, std::int64_t limit) {
  return "/v1/mmc/management/conferences/online?queryAll=true&" + pageQuery(offset, limit);
}

std::string webinarListPath(std::int64_t offset, std::int64_t limit) {
  return "/v1/wss/webinar/open/conferences/ongoing?" + pageQuery(offset, limit);
}

std::string confDetailPath(std::string_view meeting_id) {
  // Meeting IDs are digits (checked where they are parsed), so no escaping is needed.
  return "/v1/mmc/management/conferences/online/confDetail?conferenceID=" + std::string(meeting_id);
}

std::optional<Page> parseOnlinePage(std::string_view body) {
  return parsePage(body, [](const Object& item) { return conferenceInfo(item); });
}

std::optional<Page> parseWebinarPage(std::string_view body) {
  return parsePage(body, [](const Object& item) { return webinarInfo(item); });
}

std::optional<ListedMeeting> parseConfDetail(std::string_view body) {
  const Object::Ptr object = detail::parseObject(body, kMaxJsonDepth);
  if (!object || !object->isObject("conferenceData")) {
    return std::nullopt;
  }
  return conferenceInfo(*object->getObject("conferenceData"));
}

std::optional<RateLimit> parseRateLimit(std::string_view header) {
  RateLimit limit;
  bool has_remain = false;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view key = item.substr(0, colon);
    std::string_view value = item.substr(colon + 1);
    while (!key.empty() && key.front() == ' ') {
      key.remove_prefix(1);
    }
    while (!key.empty() && key.back() == ' ') {
      key.remove_suffix(1);
    }
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (key == "remain") {
      if (const auto n = decimal(value)) {
        limit.remain = *n;
        has_remain = true;
      }
    } else if (key == "limit") {
      limit.limit = decimal(value).value_or(0);
    } else if (key == "time") {
      // "1 minute", "30 second", "1 hour" (plural forms too).
      const auto space = value.find(' ');
      const auto n = decimal(value.substr(0, space));
      const std::string_view unit =
          space == std::string_view::npos ? std::string_view() : value.substr(space + 1);
      std::int64_t unit_ms = 0;
      if (unit.rfind("second", 0) == 0) {
        unit_ms = 1000;
      }
      if (unit.rfind("minute", 0) == 0) {
        unit_ms = 60'000;
      }
      if (unit.rfind("hour", 0) == 0) {
        unit_ms = 3'600'000;
      }
      if (n && *n > 0 && unit_ms > 0 && *n <= 86'400'000 / unit_ms) {
        limit.window = std::chrono::milliseconds(*n * unit_ms);
      }
    }
  }
  if (!has_remain) {
    return std::nullopt;
  }
  return limit;
}

std::string newNonce() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device entropy;
  std::string nonce;
  for (int i = 0; i < 32; ++i) {
    nonce.push_back(kHex[entropy() % 16]);
  }
  return nonce;
}

}  // namespace hme::discovery
