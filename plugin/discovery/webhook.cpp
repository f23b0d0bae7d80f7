#include "plugin/discovery/webhook.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "plugin/discovery/json_fields.h"
#include "plugin/discovery/signature.h"

namespace hme::discovery {
namespace {

constexpr int kMaxDepth = 64;

constexpr std::array<std::string_view, 10> kKnownEvents = {
    "meeting.verify", "meeting.started", "meeting.end",    "meeting.conclude", "meeting.join",
    "meeting.left",   "meeting.create",  "meeting.modify", "meeting.cancel",   "record.finish"};

// Finds the raw text of each top-level member of a JSON object, so that `eventInfo` can be
// verified exactly as it was signed (re-serializing it would change spacing and key order).
// Lenient about the inside of values (Poco validates the whole body separately), strict about
// the member structure.
class TopLevelScanner {
 public:
  explicit TopLevelScanner(std::string_view text) : text_(text) {}

  /// Key → raw value text; nullopt if the structure is broken, a key repeats or a key contains
  /// an escape (so no two spellings of one key can disagree with the full parser).
  std::optional<std::vector<std::pair<std::string_view, std::string_view>>> members() {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    skipSpace();
    if (!take('{')) {
      return std::nullopt;
    }
    skipSpace();
    if (take('}')) {
      return finish(std::move(out));
    }
    for (;;) {
      skipSpace();
      const std::size_t key_start = pos_;
      if (!skipString()) {
        return std::nullopt;
      }
      const std::string_view key = text_.substr(key_start + 1, pos_ - key_start - 2);
      if (key.find('\\') != std::string_view::npos) {
        return std::nullopt;
      }
      for (const auto& member : out) {
        if (member.first == key) {
          return std::nullopt;
        }
      }
      skipSpace();
      if (!take(':')) {
        return std::nullopt;
      }
      skipSpace();
      const std::size_t value_start = pos_;
      if (!skipValue(1)) {
        return std::nullopt;
      }
      out.emplace_back(key, text_.substr(value_start, pos_ - value_start));
      skipSpace();
      if (take('}')) {
        return finish(std::move(out));
      }
      if (!take(',')) {
        return std::nullopt;
      }
    }
  }

 private:
  std::optional<std::vector<std::pair<std::string_view, std::string_view>>> finish(
      std::vector<std::pair<std::string_view, std::string_view>> out) {
    skipSpace();
    if (pos_ != text_.size()) {
      return std::nullopt;
    }
    return out;
  }

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool skipString() {
    if (!take('"')) {
      return false;
    }
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') {
        return true;
      }
      if (c == '\\') {
        ++pos_;  // the escaped character cannot end the string
      }
    }
    return false;
  }

  bool skipValue(int depth) {
    if (pos_ >= text_.size() || depth > kMaxDepth) {
      return false;
    }
    const char c = text_[pos_];
    if (c == '"') {
      return skipString();
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      skipSpace();
      if (take(close)) {
        return true;
      }
      for (;;) {
        skipSpace();
        if (c == '{') {
          if (!skipString()) {
            return false;
          }
          skipSpace();
          if (!take(':')) {
            return false;
          }
          skipSpace();
        }
        if (!skipValue(depth + 1)) {
          return false;
        }
        skipSpace();
        if (take(close)) {
          return true;
        }
        if (!take(',')) {
          return false;
        }
      }
    }
    // A number or a literal: everything up to the next delimiter.
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view(",}] \t\r\n").find(text_[pos_]) == std::string_view::npos) {
      ++pos_;
    }
    return pos_ > start;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::optional<std::int64_t> parseDecimal(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string eventLabel(const std::string& event) {
  for (std::string_view known : kKnownEvents) {
    if (event == known) {
      return event;
    }
  }
  return "other";
}

std::string jsonText(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

WebhookVerdict reject(WebhookVerdict verdict, int status, const char* result, const char* why) {
  verdict.status = status;
  verdict.result = result;
  Poco::JSON::Object::Ptr body = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  body->set("error", std::string(why));
  verdict.body = jsonText(body);
  return verdict;
}

}  // namespace

WebhookVerdict evaluateWebhook(std::string_view body, const config::WebhookConfig& webhook,
                               std::int64_t now_ms) {
  WebhookVerdict verdict;
  if (body.size() > kMaxWebhookBodyBytes) {
    return reject(std::move(verdict), 400, "invalid", "body too large");
  }
  const auto members = TopLevelScanner(body).members();
  const Poco::JSON::Object::Ptr object =
      detail::parseObject(body, static_cast<std::size_t>(kMaxDepth));
  if (!members || !object) {
    return reject(std::move(verdict), 400, "invalid", "not a JSON object");
  }
  const auto raw = [&](std::string_view key) -> std::optional<std::string_view> {
    for (const auto& [name, value] : *members) {
      if (name == key) {
        return value;
      }
    }
    return std::nullopt;
  };

  // eventInfo: the raw object text, or the content of a string that holds the object.
  std::string event_info;
  const auto raw_event = raw("eventInfo");
  if (raw_event && !raw_event->empty() && raw_event->front() == '{') {
    event_info = std::string(*raw_event);
  } else if (auto text = detail::stringMember(*object, "eventInfo")) {
    event_info = std::move(*text);
  } else {
    return reject(std::move(verdict), 400, "invalid", "eventInfo missing");
  }
  const Poco::JSON::Object::Ptr event =
      detail::parseObject(event_info, static_cast<std::size_t>(kMaxDepth));
  const auto event_name = event ? detail::stringMember(*event, "event") : std::nullopt;
  if (!event_name) {
    return reject(std::move(verdict), 400, "invalid", "eventInfo.event missing");
  }
  verdict.event = eventLabel(*event_name);
  try {
    const auto payload = event->getObject("payload");
    const auto info = payload ? payload->getObject("meetingInfo") : nullptr;
    if (info) {
      verdict.meeting_id = detail::stringMember(*info, "meetingID").value_or("");
    }
  } catch (const Poco::Exception&) {
    // payload or meetingInfo of another type: the meeting ID is informative only.
  }
  if (!std::all_of(verdict.meeting_id.begin(), verdict.meeting_id.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      verdict.meeting_id.size() > 32) {
    verdict.meeting_id.clear();
  }

  const auto app_id = detail::stringMember(*object, "appID");
  const auto nonce = detail::stringMember(*object, "nonce");
  const auto signature = detail::stringMember(*object, "signature");
  const auto raw_timestamp = raw("timestamp");
  if (!app_id || !nonce || !signature || !raw_timestamp) {
    return reject(std::move(verdict), 400, "invalid",
                  "appID, timestamp, nonce or signature missing");
  }
  std::string timestamp(*raw_timestamp);
  if (!timestamp.empty() && timestamp.front() == '"') {
    timestamp = detail::stringMember(*object, "timestamp").value_or("");
  }
  const auto timestamp_value = parseDecimal(timestamp);
  if (!timestamp_value || *timestamp_value < 0) {
    return reject(std::move(verdict), 400, "invalid", "timestamp is not a number");
  }

  const std::string expected =
      webhookSignature(webhook.subscriber_key.reveal(), *app_id, timestamp, *nonce, event_info);
  if (*app_id != webhook.subscriber_id || !hexEqualsIgnoreCase(*signature, expected)) {
    return reject(std::move(verdict), 401, "bad_signature", "signature mismatch");
  }
  // Huawei sends milliseconds; a seconds value is accepted too rather than refused as stale.
  const std::int64_t sent_ms =
      *timestamp_value < 100'000'000'000 ? *timestamp_value * 1000 : *timestamp_value;
  if (sent_ms < now_ms - kWebhookMaxSkewMs || sent_ms > now_ms + kWebhookMaxSkewMs) {
    return reject(std::move(verdict), 401, "stale", "timestamp outside 5 minutes");
  }

  verdict.status = 200;
  verdict.result = "ok";
  Poco::JSON::Object::Ptr answer = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  if (*event_name == "meeting.verify") {
    answer->set("event", std::string("meeting.verify"));
    answer->set("nonce", *nonce);
  } else {
    answer->set("result", std::string("ok"));
  }
  verdict.body = jsonText(answer);
  verdict.trigger_pass = *event_name == "meeting.started" || *event_name == "meeting.end" ||
                         *event_name == "meeting.conclude";
  return verdict;
}

}  // namespace hme::discovery
