#include "plugin/protocol/decoder.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

namespace hme::protocol {
namespace {

namespace m = hme::metrics;
using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

/// Thrown by the helpers below when a frame is valid JSON but cannot be applied. It keeps the
/// per-field code free of error plumbing and never leaves `decode`, which turns it into a
/// Rejection. `what()` names fields only, never values.
class Unusable : public std::exception {
 public:
  explicit Unusable(std::string detail) : detail_(std::move(detail)) {}
  const char* what() const noexcept override { return detail_.c_str(); }

 private:
  std::string detail_;
};

// Real frames nest about five levels. Poco's parser recurses per level and its own default is
// 128; 64 leaves room for unknown payloads and keeps hostile nesting far from the stack limit.
constexpr std::size_t kMaxDepth = 64;
// The shape log line: enough to recognise a payload, short enough for a log.
constexpr std::size_t kMaxShapeChars = 400;
constexpr int kMaxShapeDepth = 4;
constexpr std::size_t kMaxShapeKeyChars = 40;

Var parseJson(const std::string& text) {
  Poco::JSON::Parser parser;
  parser.setDepth(kMaxDepth);
  return parser.parse(text);
}

Object::Ptr asObject(const Var& value) {
  if (value.type() == typeid(Object::Ptr)) {
    return value.extract<Object::Ptr>();
  }
  return nullptr;
}

Array::Ptr asArray(const Var& value) {
  if (value.type() == typeid(Array::Ptr)) {
    return value.extract<Array::Ptr>();
  }
  return nullptr;
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && isSpace(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

/// The value of `key`, also matching a key that differs only by surrounding whitespace (the
/// official examples have `"returnDesc "`). An exact match wins. JSON null counts as absent.
const Var* find(const Object& object, std::string_view key) {
  const Var* found = nullptr;
  for (const auto& [name, value] : object) {
    if (name == key) {
      found = &value;
      break;
    }
    if (found == nullptr && trim(name) == key) {
      found = &value;
    }
  }
  return found != nullptr && !found->isEmpty() ? found : nullptr;
}

/// The first of `keys` present in `object`.
const Var* findAny(const Object& object, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    if (const Var* value = find(object, key)) {
      return value;
    }
  }
  return nullptr;
}

[[noreturn]] void unusable(std::string_view key, std::string_view problem) {
  throw Unusable(std::string(key) + " " + std::string(problem));
}

template <typename T>
std::optional<T> parseWhole(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> integralDouble(double value) {
  // 2^63 is exactly representable; anything at or beyond it does not fit in int64.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(value) || std::trunc(value) != value || value >= kLimit || value < -kLimit) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value);
}

// Numeric fields: a JSON number, a bool, or a string holding a number (the service sends both).
// An empty string means "no value"; anything else that is not a number makes the frame unusable.
std::optional<std::int64_t> toInt64(const Var& value, std::string_view key) {
  if (value.isBoolean()) {
    return value.extract<bool>() ? 1 : 0;
  }
  if (value.isInteger()) {
    if (!value.isSigned() &&
        value.convert<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      unusable(key, "is out of range");
    }
    return value.convert<std::int64_t>();
  }
  if (value.isNumeric()) {
    if (auto whole = integralDouble(value.convert<double>())) {
      return whole;
    }
    unusable(key, "is not an integer");
  }
  if (value.isString()) {
    std::string_view text = trim(value.extract<std::string>());
    if (text.empty()) {
      return std::nullopt;
    }
    if (auto whole = parseWhole<std::int64_t>(text)) {
      return whole;
    }
    if (auto real = parseWhole<double>(text)) {
      if (auto whole = integralDouble(*real)) {
        return whole;
      }
    }
    unusable(key, "is not an integer");
  }
  unusable(key, "is not a number");
}

std::optional<double> toDouble(const Var& value, std::string_view key) {
  if (value.isBoolean()) {
    return value.extract<bool>() ? 1.0 : 0.0;
  }
  if (value.isNumeric()) {
    return value.convert<double>();
  }
  if (value.isString()) {
    std::string_view text = trim(value.extract<std::string>());
    if (text.empty()) {
      return std::nullopt;
    }
    if (auto real = parseWhole<double>(text); real && std::isfinite(*real)) {
      return real;
    }
  }
  unusable(key, "is not a number");
}

// String fields: a JSON string, or a number rendered in decimal (e.g. a phone number or result
// code sent as a number).
std::string toString(const Var& value, std::string_view key) {
  if (value.isString()) {
    return value.extract<std::string>();
  }
  if (value.isBoolean()) {
    unusable(key, "is not a string");
  }
  if (value.isInteger()) {
    return value.isSigned() ? std::to_string(value.convert<std::int64_t>())
                            : std::to_string(value.convert<std::uint64_t>());
  }
  if (value.isNumeric()) {
    const double real = value.convert<double>();
    if (auto whole = integralDouble(real)) {
      return std::to_string(*whole);
    }
    std::array<char, 32> buffer{};
    auto [ptr, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), real);
    if (ec != std::errc()) {
      unusable(key, "is not a string");
    }
    return std::string(buffer.data(), ptr);
  }
  unusable(key, "is not a string");
}

std::optional<std::int64_t> optInt64(const Object& object, std::string_view key) {
  const Var* value = find(object, key);
  return value != nullptr ? toInt64(*value, key) : std::nullopt;
}

std::optional<int> optInt(const Object& object, std::string_view key) {
  const auto wide = optInt64(object, key);
  if (!wide) {
    return std::nullopt;
  }
  if (*wide < std::numeric_limits<int>::min() || *wide > std::numeric_limits<int>::max()) {
    unusable(key, "is out of range");
  }
  return static_cast<int>(*wide);
}

std::optional<double> optDouble(const Object& object, std::string_view key) {
  const Var* value = find(object, key);
  return value != nullptr ? toDouble(*value, key) : std::nullopt;
}

std::optional<std::string> optString(const Object& object, std::string_view key) {
  const Var* value = find(object, key);
  return value != nullptr ? std::optional<std::string>(toString(*value, key)) : std::nullopt;
}

// pinfoMap flags are "0"/"1"; JSON booleans and numbers are accepted too, non-zero meaning set.
std::optional<bool> optFlag(const Object& object, std::string_view key) {
  const auto number = optInt64(object, key);
  return number ? std::optional<bool>(*number != 0) : std::nullopt;
}

/// The first non-empty string among `keys`, or "".
std::string firstNonEmpty(const Object& object, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    if (auto text = optString(object, key); text && !trim(*text).empty()) {
      return *text;
    }
  }
  return {};
}

/// `msgMode` 0 (or absent: some doc tables say it is always 0) is a full snapshot, 1 incremental.
bool isFull(const Object& root) {
  const auto mode = optInt64(root, "msgMode");
  if (!mode || *mode == 0) {
    return true;
  }
  if (*mode == 1) {
    return false;
  }
  unusable("msgMode", "is neither 0 nor 1");
}

/// An item's `mode`: 0 or absent = add/update, 1 = remove.
m::ItemMode itemMode(const Object& item) {
  const auto mode = optInt64(item, "mode");
  if (!mode || *mode == 0) {
    return m::ItemMode::Upsert;
  }
  if (*mode == 1) {
    return m::ItemMode::Remove;
  }
  unusable("mode", "is neither 0 nor 1");
}

/// The `data` payload, parsed once more when it arrives as a string holding JSON (double
/// encoding, as in client frames). Absent, null and empty-string data are all "absent".
std::optional<Var> payload(const Object& root) {
  const Var* data = find(root, "data");
  if (data == nullptr) {
    return std::nullopt;
  }
  if (!data->isString()) {
    return std::optional<Var>(std::in_place, *data);
  }
  const std::string& text = data->extract<std::string>();
  if (trim(text).empty()) {
    return std::nullopt;
  }
  try {
    return std::optional<Var>(std::in_place, parseJson(text));
  } catch (...) {
    throw Unusable("data is a string but not valid JSON");
  }
}

/// `data` as an array. Absent data is an error when `required`, else an empty list.
Array::Ptr dataArray(const Object& root, bool required) {
  const auto data = payload(root);
  if (!data) {
    if (required) {
      throw Unusable("data is missing");
    }
    return new Array;
  }
  Array::Ptr array = asArray(*data);
  if (!array) {
    throw Unusable("data is not an array");
  }
  return array;
}

/// Calls `apply(item)` for each element of `array`; every element must be an object. One
/// malformed item rejects the whole frame: applying part of a list would leave state that
/// matches neither the old nor the new server view.
template <typename Apply>
void forEachItem(const Array& array, Apply apply) {
  for (const Var& element : array) {
    Object::Ptr item = asObject(element);
    if (!item) {
      throw Unusable("a data item is not an object");
    }
    apply(*item);
  }
}

std::string requiredId(const Object& item, std::initializer_list<std::string_view> keys,
                       std::string_view what) {
  std::string id = firstNonEmpty(item, keys);
  if (id.empty()) {
    unusable("a data item", std::string("has no ") + std::string(what));
  }
  return id;
}

/// Fields documented at the top level that are also accepted nested under a `data` object: a
/// copy of `data` with the top-level keys laid over it (the documented place wins).
Object flatFields(const Object& root, bool data_must_be_object) {
  Object merged;
  if (const auto data = payload(root)) {
    if (Object::Ptr nested = asObject(*data)) {
      merged = *nested;
    } else if (data_must_be_object) {
      throw Unusable("data is not an object");
    }
  }
  for (const auto& [name, value] : root) {
    merged.set(name, value);
  }
  return merged;
}

m::ClientType clientType(std::string_view text) {
  auto equals = [text](std::string_view word) {
    if (text.size() != word.size()) {
      return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char a =
          text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
      if (a != word[i]) {
        return false;
      }
    }
    return true;
  };
  if (equals("desktop")) {
    return m::ClientType::Desktop;
  }
  if (equals("mobile")) {
    return m::ClientType::Mobile;
  }
  if (equals("pad")) {
    return m::ClientType::Pad;
  }
  return m::ClientType::Other;
}

Object::Ptr pinfoMap(const Object& item) {
  const Var* info = find(item, "pinfoMap");
  if (info == nullptr) {
    return nullptr;
  }
  Object::Ptr object = asObject(*info);
  if (!object) {
    throw Unusable("pinfoMap is not an object");
  }
  return object;
}

m::ConfBasicInfo decodeConfBasicInfo(const Object& root) {
  const Object fields = flatFields(root, true);
  m::ConfBasicInfo info;
  info.display_id = optString(fields, "displayID");
  info.title = optString(fields, "title");
  info.start_time_ms = optInt64(fields, "startTime");
  info.scheduled_start_time_ms = optInt64(fields, "scheduledStartTime");
  info.conf_mode = optString(fields, "confMode");
  info.media = optInt(fields, "media");
  return info;
}

m::ConfDynamicInfo decodeConfDynamicInfo(const Object& root) {
  const Object fields = flatFields(root, true);
  m::ConfDynamicInfo info;
  info.state = optString(fields, "state");
  info.end_time_ms = optInt64(fields, "endTime");
  info.lock = optInt(fields, "lock");
  info.mute = optInt(fields, "mute");
  info.lock_sharing = optInt(fields, "lockSharing");
  info.rec_state = optInt(fields, "recState");
  info.forbidden_chat = optInt(fields, "forbiddenChat");
  info.audience_total_count = optInt64(fields, "audienceTotalCount");
  info.pic_num = optInt64(fields, "picNum");
  return info;
}

m::ParticipantsUpdate decodeParticipants(const Object& root) {
  m::ParticipantsUpdate update;
  update.full = isFull(root);
  forEachItem(*dataArray(root, true), [&update](const Object& item) {
    m::ParticipantChange change;
    change.pid = requiredId(item, {"pid"}, "pid");
    change.mode = itemMode(item);
    if (Object::Ptr info = pinfoMap(item)) {
      m::ParticipantFields& f = change.fields;
      f.name = optString(*info, "NAME");
      f.role = optInt(*info, "ROLE");
      f.state = optInt(*info, "STATE");
      f.muted = optFlag(*info, "MUTE");
      f.video = optFlag(*info, "VIDEO");
      f.hand_raised = optFlag(*info, "HAND");
      f.sharing = optFlag(*info, "SHARE");
      f.is_cohost = optFlag(*info, "IS_COHOST");
      // The doc table misspells the key; the wire uses the correct spelling.
      if (const Var* login = findAny(*info, {"CLIENT_LOGIN_TYPE", "CLICENT_LOGIN_TYPE"})) {
        f.client = clientType(trim(toString(*login, "CLIENT_LOGIN_TYPE")));
      }
    }
    update.items.push_back(std::move(change));
  });
  return update;
}

m::AttendeesUpdate decodeAttendees(const Object& root) {
  m::AttendeesUpdate update;
  update.full = isFull(root);
  forEachItem(*dataArray(root, true), [&update](const Object& item) {
    m::AttendeeChange change;
    change.key = requiredId(item, {"participantID", "userUUID", "phone", "email", "name"},
                            "participantID, userUUID, phone, email or name");
    change.mode = itemMode(item);
    update.items.push_back(std::move(change));
  });
  return update;
}

m::SpeakersUpdate decodeSpeakers(const Object& root) {
  m::SpeakersUpdate update;
  // No data means nobody is speaking (spec §6.6).
  forEachItem(*dataArray(root, false), [&update](const Object& item) {
    m::Speaker speaker;
    speaker.pid = requiredId(item, {"pid", "participantID"}, "pid");
    speaker.volume = optDouble(item, "speakingVolume").value_or(0.0);
    update.speakers.push_back(std::move(speaker));
  });
  return update;
}

/// Names of the NetCondition figure fields, also used to recognise NetworkQualityNotify items.
constexpr std::array<std::string_view, 17> kNetFields = {"netInfo",
                                                         "delay",
                                                         "jitter",
                                                         "outJitter",
                                                         "lostPacketRate",
                                                         "audioOutLossPacketRate",
                                                         "videoInLossPacketRate",
                                                         "videoOutLossPacketRate",
                                                         "assistVideoInLossPacketRate",
                                                         "assistVideoOutLossPacketRate",
                                                         "fluxOut",
                                                         "fluxIn",
                                                         "videoFluxOut",
                                                         "videoFluxIn",
                                                         "assistVideoFluxOut",
                                                         "assistVideoFluxIn",
                                                         "bandwidth"};

m::NetFigures netFigures(const Object& item) {
  m::NetFigures f;
  f.net_info = optString(item, "netInfo");
  f.delay_ms = optDouble(item, "delay");
  f.jitter_up_ms = optDouble(item, "jitter");
  f.jitter_down_ms = optDouble(item, "outJitter");
  f.audio_loss_up = optDouble(item, "lostPacketRate");
  f.audio_loss_down = optDouble(item, "audioOutLossPacketRate");
  f.video_loss_up = optDouble(item, "videoInLossPacketRate");
  f.video_loss_down = optDouble(item, "videoOutLossPacketRate");
  f.screen_loss_up = optDouble(item, "assistVideoInLossPacketRate");
  f.screen_loss_down = optDouble(item, "assistVideoOutLossPacketRate");
  // The service names audio traffic from its own point of view: fluxOut is terminal → server.
  f.audio_flux_up = optDouble(item, "fluxOut");
  f.audio_flux_down = optDouble(item, "fluxIn");
  f.video_flux_up = optDouble(item, "videoFluxOut");
  f.video_flux_down = optDouble(item, "videoFluxIn");
  f.screen_flux_up = optDouble(item, "assistVideoFluxOut");
  f.screen_flux_down = optDouble(item, "assistVideoFluxIn");
  return f;
}

m::NetConditionUpdate netConditions(const Object& root, const Array& items) {
  m::NetConditionUpdate update;
  update.full = isFull(root);
  forEachItem(items, [&update](const Object& item) {
    m::NetConditionChange change;
    change.pid = requiredId(item, {"participantID", "pid"}, "participantID");
    change.mode = itemMode(item);
    change.figures = netFigures(item);
    update.items.push_back(std::move(change));
  });
  return update;
}

m::NetConditionUpdate decodeNetConditions(const Object& root) {
  return netConditions(root, *dataArray(root, true));
}

/// NetworkQualityNotify's payload is undocumented: it is mapped only when every item looks like
/// a NetConditionNotify item (an id and at least one figure field) and maps cleanly.
std::optional<m::NetConditionUpdate> decodeNetworkQuality(const Object& root) {
  try {
    const auto data = payload(root);
    Array::Ptr items = data ? asArray(*data) : nullptr;
    if (!items || items->size() == 0) {
      return std::nullopt;
    }
    for (const Var& element : *items) {
      Object::Ptr item = asObject(element);
      if (!item || firstNonEmpty(*item, {"participantID", "pid"}).empty()) {
        return std::nullopt;
      }
      bool has_figure = false;
      for (std::string_view key : kNetFields) {
        has_figure = has_figure || find(*item, key) != nullptr;
      }
      if (!has_figure) {
        return std::nullopt;
      }
    }
    return netConditions(root, *items);
  } catch (const Unusable&) {
    return std::nullopt;
  }
}

m::InviteResults decodeInviteResults(const Object& root) {
  m::InviteResults results;
  results.full = isFull(root);
  forEachItem(*dataArray(root, true), [&results](const Object& item) {
    m::InviteResult result;
    result.call_number = optString(item, "callNumber").value_or("");
    // The doc table says errorCode; the wire says resultCode.
    const Var* code = findAny(item, {"resultCode", "errorCode"});
    if (code == nullptr) {
      throw Unusable("a data item has no resultCode");
    }
    result.code = std::string(trim(toString(*code, "resultCode")));
    if (result.code.empty()) {
      throw Unusable("a data item has an empty resultCode");
    }
    results.items.push_back(std::move(result));
  });
  return results;
}

m::WaitingListUpdate decodeWaitingList(const Object& root) {
  m::WaitingListUpdate update;
  update.full = isFull(root);
  forEachItem(*dataArray(root, true), [&update](const Object& item) {
    m::WaitingChange change;
    change.pid = requiredId(item, {"pid"}, "pid");
    change.mode = itemMode(item);
    if (Object::Ptr info = pinfoMap(item)) {
      change.waiting_state = optInt(*info, "WAITINGSTATE");
    }
    update.items.push_back(std::move(change));
  });
  return update;
}

m::InterpreterGroupsUpdate decodeInterpreterGroups(const Object& root) {
  m::InterpreterGroupsUpdate update;
  update.full = isFull(root);
  forEachItem(*dataArray(root, true), [&update](const Object& item) {
    update.group_ids.push_back(requiredId(item, {"groupId"}, "groupId"));
  });
  return update;
}

m::CustomMultiPic decodeCustomMultiPic(const Object& root) {
  // Undocumented type: a `data` of another shape is tolerated, only picNum is read.
  m::CustomMultiPic pic;
  pic.pic_num = optInt64(flatFields(root, false), "picNum");
  return pic;
}

// --- shape description (for payloads we do not understand) ---------------------------------

std::string safeKey(std::string_view key) {
  std::string out;
  for (char c : trim(key).substr(0, kMaxShapeKeyChars)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || c == '.';
    out.push_back(plain ? c : '?');
  }
  return out;
}

void describe(const Var& value, int depth, std::string& out) {
  if (out.size() > kMaxShapeChars) {
    return;
  }
  if (Object::Ptr object = asObject(value)) {
    if (depth >= kMaxShapeDepth) {
      out += "{...}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& [name, member] : *object) {
      if (out.size() > kMaxShapeChars) {
        break;
      }
      out += first ? "" : ",";
      first = false;
      out += safeKey(name);
      out += ':';
      describe(member, depth + 1, out);
    }
    out += '}';
  } else if (Array::Ptr array = asArray(value)) {
    if (array->size() == 0) {
      out += "[]";
    } else if (depth >= kMaxShapeDepth) {
      out += "[...]";
    } else {
      // The first element stands for all of them: enough to recognise a list payload.
      out += '[';
      describe(array->get(0), depth + 1, out);
      out += array->size() > 1 ? ",...]" : "]";
    }
  } else if (value.isEmpty()) {
    out += "null";
  } else if (value.isBoolean()) {
    out += "bool";
  } else if (value.isNumeric()) {
    out += "number";
  } else if (value.isString()) {
    out += "string";
  } else {
    out += "?";
  }
}

std::string describeShape(const Object::Ptr& root) {
  std::string out;
  describe(Var(root), 0, out);
  if (out.size() > kMaxShapeChars) {
    out.resize(kMaxShapeChars);
    out += "...";
  }
  return out;
}

// --- dispatch ---------------------------------------------------------------------------------

using PushDecoder = m::EventBody (*)(const Object&);

struct PushType {
  std::string_view action;
  PushDecoder decode;
};

template <typename Event, Event (*Fn)(const Object&)>
m::EventBody wrap(const Object& root) {
  return Fn(root);
}

m::EventBody countedOnly(const Object& /*root*/) { return m::CountedOnly{}; }

// NetworkQualityNotify is absent here: its shape is unknown and handled in decodeObject.
constexpr std::array<PushType, 11> kPushTypes = {{
    {"ConfBasicInfoNotify", wrap<m::ConfBasicInfo, decodeConfBasicInfo>},
    {"ConfDynamicInfoNotify", wrap<m::ConfDynamicInfo, decodeConfDynamicInfo>},
    {"ParticipantsNotify", wrap<m::ParticipantsUpdate, decodeParticipants>},
    {"AttendeesNotify", wrap<m::AttendeesUpdate, decodeAttendees>},
    {"SpeakerChangeNotify", wrap<m::SpeakersUpdate, decodeSpeakers>},
    {"NetConditionNotify", wrap<m::NetConditionUpdate, decodeNetConditions>},
    {"InviteResultNotify", wrap<m::InviteResults, decodeInviteResults>},
    {"WaitingListNotify", wrap<m::WaitingListUpdate, decodeWaitingList>},
    {"InterpreterGroupNotify", wrap<m::InterpreterGroupsUpdate, decodeInterpreterGroups>},
    {"CustomMultiPicNotify", wrap<m::CustomMultiPic, decodeCustomMultiPic>},
    // Caption text is meeting content: it is counted, never read.
    {"RealTimeSubtitleNotify", countedOnly},
}};

constexpr std::string_view kNetworkQuality = "NetworkQualityNotify";

SubscribeReply decodeSubscribeReply(const Object& root) {
  SubscribeReply reply;
  reply.sequence = optString(root, "sequence").value_or("");
  // The documented success reply nests the code in `data`; the failure reply is undocumented, so
  // a code at the top level is accepted too.
  const Object fields = flatFields(root, false);
  const auto code = optInt(fields, "returnCode");
  if (!code) {
    throw Unusable("returnCode is missing");
  }
  reply.return_code = *code;
  reply.return_desc = optString(fields, "returnDesc").value_or("");
  return reply;
}

HeartbeatEcho decodeHeartbeat(const Object& root) {
  HeartbeatEcho echo;
  echo.sequence = std::string(trim(optString(root, "sequence").value_or("")));
  if (echo.sequence.empty()) {
    throw Unusable("sequence is missing");
  }
  return echo;
}

Decoded rejected(m::RejectReason reason, std::string detail) {
  Decoded out;
  out.message = Rejection{reason, std::move(detail)};
  return out;
}

const PushType* findPushType(std::string_view action) {
  for (const PushType& type : kPushTypes) {
    if (type.action == action) {
      return &type;
    }
  }
  return nullptr;
}

/// Decodes a parsed frame; throws Unusable (or anything from Poco) when it cannot be applied.
/// `action` receives the known type name as soon as it is recognised, for the rejection detail
/// (an unknown action is frame content and never goes there).
Decoded decodeObject(const Object::Ptr& root, std::string& action) {
  const Var* action_value = find(*root, "action");
  if (action_value == nullptr || !action_value->isString()) {
    throw Unusable("no string action");
  }
  const std::string_view name = trim(action_value->extract<std::string>());
  const PushType* type = findPushType(name);
  Decoded out;
  if (name != "HeartBeat" && name != "Subscribe" && name != kNetworkQuality && type == nullptr) {
    out.action = "unknown";
    out.message = Push{m::CountedOnly{}};
    out.unrecognized_shape = describeShape(root);
    return out;
  }
  action = std::string(name);
  if (type != nullptr) {
    out.message = Push{type->decode(*root)};
  } else if (name == "HeartBeat") {
    out.message = decodeHeartbeat(*root);
  } else if (name == "Subscribe") {
    out.message = decodeSubscribeReply(*root);
  } else if (auto update = decodeNetworkQuality(*root)) {
    out.message = Push{std::move(*update)};
  } else {
    out.message = Push{m::CountedOnly{}};
    out.unrecognized_shape = describeShape(root);
  }
  out.action = action;
  return out;
}

}  // namespace

Decoded decode(std::string_view frame) {
  try {
    Object::Ptr root;
    try {
      root = asObject(parseJson(std::string(frame)));
    } catch (...) {
      // Poco's messages quote the input; keep frame content out of the detail.
      return rejected(m::RejectReason::InvalidJson, "not valid JSON");
    }
    if (!root) {
      return rejected(m::RejectReason::InvalidJson, "not a JSON object");
    }
    std::string action;
    try {
      return decodeObject(root, action);
    } catch (const Unusable& e) {
      return rejected(m::RejectReason::InvalidMessage,
                      action.empty() ? e.what() : action + ": " + e.what());
    } catch (...) {
      return rejected(m::RejectReason::InvalidMessage,
                      action.empty() ? "cannot be decoded" : action + ": cannot be decoded");
    }
  } catch (...) {
    // Only allocation failures get here; the frame is dropped like any other bad frame.
    return rejected(m::RejectReason::InvalidMessage, "decoder failure");
  }
}

}  // namespace hme::protocol
