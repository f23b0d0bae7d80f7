#include "plugin/protocol/decoder.h"

#include "plugin/protocol/decode_paths.h"

// Push frames are the ingest hot path (issue 6): they are parsed with simdjson's DOM parser,
// which validates the whole frame (grammar, UTF-8, nesting depth) before anything is read, so
// the accept/reject decisions match a full parse. The decoding rules below are those of the
// protocol reference (quirks §6) and were first written against Poco::JSON; where Poco's object
// model decided an edge case (duplicate keys: the last wins; keys that match only after
// trimming: the smallest in byte order wins; integers beyond 64 bits: invalid JSON), the same
// outcome is kept so that the decoder's contract did not change with the parser.

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hme::protocol {
namespace {

namespace m = hme::metrics;
namespace dom = simdjson::dom;
using dom::element;
using dom::element_type;
using Key = std::string_view;

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

// Real frames nest about five levels; 64 leaves room for unknown payloads and rejects hostile
// nesting (simdjson's DOM parser is iterative, so depth is a policy, not a stack limit).
constexpr std::size_t kMaxDepth = 64;
// Each thread keeps its parsers (about 20 bytes per byte of capacity) for frames up to this
// size; a larger frame gets a parser of its own that is freed after it, so one huge frame does
// not pin megabytes in every session thread.
constexpr std::size_t kReusableCapacity = 256 << 10;
constexpr std::size_t kInitialCapacity = 4 << 10;
// The shape log line: enough to recognise a payload, short enough for a log.
constexpr std::size_t kMaxShapeChars = 400;
constexpr int kMaxShapeDepth = 4;
constexpr std::size_t kMaxShapeKeyChars = 40;

std::unique_ptr<dom::parser> newParser(std::size_t capacity) {
  auto parser = std::make_unique<dom::parser>();
  if (parser->allocate(capacity, kMaxDepth) != simdjson::SUCCESS) throw std::bad_alloc();
  return parser;
}

/// A parser for one document, reused per thread for ordinary frames. `slot` 0 holds the frame,
/// slot 1 a double-encoded `data` string parsed while the frame's document is still in use.
dom::parser& parserFor(int slot, std::size_t bytes, std::unique_ptr<dom::parser>& oversized) {
  if (bytes > kReusableCapacity) {
    oversized = newParser(bytes);
    return *oversized;
  }
  thread_local std::array<std::unique_ptr<dom::parser>, 2> parsers;
  auto& parser = parsers[static_cast<std::size_t>(slot)];
  if (!parser) parser = newParser(kInitialCapacity);
  return *parser;
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool isObject(const element& value) { return value.type() == element_type::OBJECT; }
bool isArray(const element& value) { return value.type() == element_type::ARRAY; }
bool isString(const element& value) { return value.type() == element_type::STRING; }
std::string_view stringOf(const element& value) { return value.get_string().value_unsafe(); }
dom::object objectOf(const element& value) { return value.get_object().value_unsafe(); }
dom::array arrayOf(const element& value) { return value.get_array().value_unsafe(); }

/// The values of `N` keys, found in one pass over one or more objects. A key also matches a
/// member whose name differs only by surrounding whitespace (the official examples have
/// `"returnDesc "`); an exact match wins, else the smallest such name in byte order. For equal
/// names the later member wins, and a later object overrides an earlier one (so looking up in
/// {data, root} lays the top-level fields over `data`). JSON null counts as absent.
template <std::size_t N>
class Fields {
 public:
  explicit Fields(const std::array<Key, N>& keys) : keys_(keys) {}

  void scan(const dom::object& object) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      const std::string_view name = it.key();
      if (name.empty()) continue;
      // Cheap tests first: most names differ from a wanted key in length or first byte.
      std::size_t i = 0;
      for (; i < N; ++i) {
        if (name.size() == keys_[i].size() && name.front() == keys_[i].front() &&
            name == keys_[i]) {
          break;
        }
      }
      if (i < N) {
        exact_[i] = true;
        value_[i] = it.value();
        found_[i] = true;
        continue;
      }
      if (!isSpace(name.front()) && !isSpace(name.back())) continue;
      const std::string_view trimmed = trim(name);
      for (i = 0; i < N; ++i) {
        if (!exact_[i] && trimmed == keys_[i] && (!found_[i] || name <= trimmed_name_[i])) {
          trimmed_name_[i] = name;
          value_[i] = it.value();
          found_[i] = true;
        }
      }
    }
  }

  /// The value of key `i`, or nullptr when absent or null.
  const element* get(std::size_t i) const {
    return found_[i] && value_[i].type() != element_type::NULL_VALUE ? &value_[i] : nullptr;
  }
  Key key(std::size_t i) const { return keys_[i]; }

 private:
  const std::array<Key, N>& keys_;
  std::array<element, N> value_{};
  std::array<bool, N> found_{};
  std::array<bool, N> exact_{};
  std::array<std::string_view, N> trimmed_name_{};
};

template <std::size_t N>
Fields<N> lookup(const std::array<Key, N>& keys, const dom::object& object) {
  Fields<N> fields(keys);
  fields.scan(object);
  return fields;
}

/// One key (for the few single look-ups off the hot path).
std::optional<element> find(const dom::object& object, Key key) {
  const std::array<Key, 1> keys{key};
  auto fields = lookup(keys, object);
  const element* value = fields.get(0);
  return value != nullptr ? std::optional<element>(*value) : std::nullopt;
}

[[noreturn]] void unusable(std::string_view key, std::string_view problem) {
  throw Unusable(std::string(key) + " " + std::string(problem));
}

template <typename T>
std::optional<T> parseWhole(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
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

/// A JSON value as the field conversions see it: a scalar, or "something else" (an object or an
/// array). Both parsers (the DOM reference path and the On-Demand fast path) produce these, so
/// the conversion rules exist once.
struct Scalar {
  enum class Kind { Null, Bool, Int64, UInt64, Double, String, Other };
  Kind kind = Kind::Other;
  bool boolean = false;
  std::int64_t int64 = 0;
  std::uint64_t uint64 = 0;
  double real = 0;
  std::string_view text;
};

Scalar scalarOf(const element& value) {
  Scalar out;
  switch (value.type()) {
    case element_type::NULL_VALUE:
      out.kind = Scalar::Kind::Null;
      break;
    case element_type::BOOL:
      out.kind = Scalar::Kind::Bool;
      out.boolean = value.get_bool().value_unsafe();
      break;
    case element_type::INT64:
      out.kind = Scalar::Kind::Int64;
      out.int64 = value.get_int64().value_unsafe();
      break;
    case element_type::UINT64:
      // simdjson uses UINT64 only beyond INT64_MAX.
      out.kind = Scalar::Kind::UInt64;
      out.uint64 = value.get_uint64().value_unsafe();
      break;
    case element_type::DOUBLE:
      out.kind = Scalar::Kind::Double;
      out.real = value.get_double().value_unsafe();
      break;
    case element_type::STRING:
      out.kind = Scalar::Kind::String;
      out.text = stringOf(value);
      break;
    default:
      break;
  }
  return out;
}

// Numeric fields: a JSON number, a bool, or a string holding a number (the service sends both).
// An empty string means "no value"; anything else that is not a number makes the frame unusable.
std::optional<std::int64_t> toInt64(const Scalar& value, Key key) {
  switch (value.kind) {
    case Scalar::Kind::Bool:
      return value.boolean ? 1 : 0;
    case Scalar::Kind::Int64:
      return value.int64;
    case Scalar::Kind::UInt64:
      unusable(key, "is out of range");
    case Scalar::Kind::Double:
      if (auto whole = integralDouble(value.real)) return whole;
      unusable(key, "is not an integer");
    case Scalar::Kind::String: {
      const std::string_view text = trim(value.text);
      if (text.empty()) return std::nullopt;
      if (auto whole = parseWhole<std::int64_t>(text)) return whole;
      if (auto real = parseWhole<double>(text)) {
        if (auto whole = integralDouble(*real)) return whole;
      }
      unusable(key, "is not an integer");
    }
    default:
      unusable(key, "is not a number");
  }
}

/// A string of 1 to 15 decimal digits as a number, else nullopt. Most figures arrive like this
/// ("37", "12000"); below 10^15 the double is exact, so this equals the general parse.
std::optional<double> smallWholeNumber(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::uint64_t whole = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    whole = whole * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return static_cast<double>(whole);
}

std::optional<double> toDouble(const Scalar& value, Key key) {
  switch (value.kind) {
    case Scalar::Kind::Bool:
      return value.boolean ? 1.0 : 0.0;
    case Scalar::Kind::Int64:
      return static_cast<double>(value.int64);
    case Scalar::Kind::UInt64:
      return static_cast<double>(value.uint64);
    case Scalar::Kind::Double:
      return value.real;
    case Scalar::Kind::String: {
      const std::string_view text = trim(value.text);
      if (text.empty()) return std::nullopt;
      if (auto whole = smallWholeNumber(text)) return whole;
      if (auto real = parseWhole<double>(text); real && std::isfinite(*real)) return real;
      unusable(key, "is not a number");
    }
    default:
      unusable(key, "is not a number");
  }
}

// String fields: a JSON string, or a number rendered in decimal (e.g. a phone number or result
// code sent as a number).
std::string toString(const Scalar& value, Key key) {
  switch (value.kind) {
    case Scalar::Kind::String:
      return std::string(value.text);
    case Scalar::Kind::Int64:
      return std::to_string(value.int64);
    case Scalar::Kind::UInt64:
      return std::to_string(value.uint64);
    case Scalar::Kind::Double: {
      if (auto whole = integralDouble(value.real)) return std::to_string(*whole);
      std::array<char, 32> buffer{};
      auto [ptr, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.real);
      if (ec != std::errc()) unusable(key, "is not a string");
      return std::string(buffer.data(), ptr);
    }
    default:
      unusable(key, "is not a string");
  }
}

std::optional<std::int64_t> toInt64(const element& value, Key key) {
  return toInt64(scalarOf(value), key);
}
std::optional<double> toDouble(const element& value, Key key) {
  return toDouble(scalarOf(value), key);
}
std::string toString(const element& value, Key key) { return toString(scalarOf(value), key); }

template <std::size_t N>
std::optional<std::int64_t> optInt64(const Fields<N>& fields, std::size_t i) {
  const element* value = fields.get(i);
  return value != nullptr ? toInt64(*value, fields.key(i)) : std::nullopt;
}

template <std::size_t N>
std::optional<int> optInt(const Fields<N>& fields, std::size_t i) {
  const auto wide = optInt64(fields, i);
  if (!wide) return std::nullopt;
  if (*wide < std::numeric_limits<int>::min() || *wide > std::numeric_limits<int>::max()) {
    unusable(fields.key(i), "is out of range");
  }
  return static_cast<int>(*wide);
}

template <std::size_t N>
std::optional<double> optDouble(const Fields<N>& fields, std::size_t i) {
  const element* value = fields.get(i);
  return value != nullptr ? toDouble(*value, fields.key(i)) : std::nullopt;
}

template <std::size_t N>
std::optional<std::string> optString(const Fields<N>& fields, std::size_t i) {
  const element* value = fields.get(i);
  return value != nullptr ? std::optional<std::string>(toString(*value, fields.key(i)))
                          : std::nullopt;
}

// pinfoMap flags are "0"/"1"; JSON booleans and numbers are accepted too, non-zero meaning set.
template <std::size_t N>
std::optional<bool> optFlag(const Fields<N>& fields, std::size_t i) {
  const auto number = optInt64(fields, i);
  return number ? std::optional<bool>(*number != 0) : std::nullopt;
}

/// The first non-empty string among the keys `first` … `last` of `fields`, or "".
template <std::size_t N>
std::string firstNonEmpty(const Fields<N>& fields, std::size_t first, std::size_t last) {
  for (std::size_t i = first; i <= last; ++i) {
    if (auto text = optString(fields, i); text && !trim(*text).empty()) return *text;
  }
  return {};
}

/// True when `text` holds a C0 control character or DEL.
bool hasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7F;
  });
}

std::string requiredId(std::string id, std::string_view what) {
  if (id.empty()) unusable("a data item", std::string("has no ") + std::string(what));
  // Ids become label values (participant_id) as they are: one with a control character (a JSON
  // escape such as \t or \u0000) is no id the service issues, so the frame is not applied.
  if (hasControlCharacter(id)) {
    unusable("a data item", std::string(what) + " has a control character");
  }
  return id;
}

/// `msgMode` 0 (or absent: some doc tables say it is always 0) is a full snapshot, 1 incremental.
bool isFull(const std::optional<std::int64_t>& mode) {
  if (!mode || *mode == 0) return true;
  if (*mode == 1) return false;
  unusable("msgMode", "is neither 0 nor 1");
}

/// An item's `mode`: 0 or absent = add/update, 1 = remove.
m::ItemMode itemMode(const std::optional<std::int64_t>& mode) {
  if (!mode || *mode == 0) return m::ItemMode::Upsert;
  if (*mode == 1) return m::ItemMode::Remove;
  unusable("mode", "is neither 0 nor 1");
}

/// The envelope fields every push decoder needs.
constexpr std::array<Key, 3> kEnvelopeKeys = {"action", "msgMode", "data"};
enum Envelope : std::size_t { kAction, kMsgMode, kData };

/// A parsed frame: the root object and its envelope fields, plus the document of a
/// double-encoded `data` string once it was parsed.
struct Frame {
  explicit Frame(const dom::object& object) : root(object), envelope(lookup(kEnvelopeKeys, root)) {}

  dom::object root;
  Fields<3> envelope;
  std::unique_ptr<dom::parser> oversized_data_parser;
};

/// The `data` payload, parsed once more when it arrives as a string holding JSON (double
/// encoding, as in client frames). Absent, null and empty-string data are all "absent".
std::optional<element> payload(Frame& frame) {
  const element* data = frame.envelope.get(kData);
  if (data == nullptr) return std::nullopt;
  if (!isString(*data)) return *data;
  const std::string_view text = stringOf(*data);
  if (trim(text).empty()) return std::nullopt;
  dom::parser& parser = parserFor(1, text.size(), frame.oversized_data_parser);
  element parsed;
  if (parser.parse(text.data(), text.size(), true).get(parsed) != simdjson::SUCCESS) {
    throw Unusable("data is a string but not valid JSON");
  }
  return parsed;
}

/// `data` as an array. Absent data is an error when `required`, else an empty list.
std::optional<dom::array> dataArray(Frame& frame, bool required) {
  const auto data = payload(frame);
  if (!data) {
    if (required) throw Unusable("data is missing");
    return std::nullopt;
  }
  if (!isArray(*data)) throw Unusable("data is not an array");
  return arrayOf(*data);
}

/// Calls `apply(item)` for each element of `array`; every element must be an object. One
/// malformed item rejects the whole frame: applying part of a list would leave state that
/// matches neither the old nor the new server view.
template <typename Apply>
void forEachItem(const std::optional<dom::array>& array, Apply apply) {
  if (!array) return;
  for (element item : *array) {
    if (!isObject(item)) throw Unusable("a data item is not an object");
    apply(objectOf(item));
  }
}

/// Fields documented at the top level that are also accepted nested under a `data` object; the
/// documented place wins.
template <std::size_t N>
Fields<N> flatFields(Frame& frame, const std::array<Key, N>& keys, bool data_must_be_object) {
  Fields<N> fields(keys);
  if (const auto data = payload(frame)) {
    if (isObject(*data)) {
      fields.scan(objectOf(*data));
    } else if (data_must_be_object) {
      throw Unusable("data is not an object");
    }
  }
  fields.scan(frame.root);
  return fields;
}

m::ClientType clientType(std::string_view text) {
  auto equals = [text](std::string_view word) {
    if (text.size() != word.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char a =
          text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
      if (a != word[i]) return false;
    }
    return true;
  };
  if (equals("desktop")) return m::ClientType::Desktop;
  if (equals("mobile")) return m::ClientType::Mobile;
  if (equals("pad")) return m::ClientType::Pad;
  return m::ClientType::Other;
}

m::ConfBasicInfo decodeConfBasicInfo(Frame& frame) {
  static constexpr std::array<Key, 6> kKeys = {"displayID",          "title",    "startTime",
                                               "scheduledStartTime", "confMode", "media"};
  const auto fields = flatFields(frame, kKeys, true);
  m::ConfBasicInfo info;
  info.display_id = optString(fields, 0);
  info.title = optString(fields, 1);
  info.start_time_ms = optInt64(fields, 2);
  info.scheduled_start_time_ms = optInt64(fields, 3);
  info.conf_mode = optString(fields, 4);
  info.media = optInt(fields, 5);
  return info;
}

m::ConfDynamicInfo decodeConfDynamicInfo(Frame& frame) {
  static constexpr std::array<Key, 9> kKeys = {
      "state",       "endTime",  "lock",          "mute",
      "lockSharing", "recState", "forbiddenChat", "audienceTotalCount",
      "picNum"};
  const auto fields = flatFields(frame, kKeys, true);
  m::ConfDynamicInfo info;
  info.state = optString(fields, 0);
  info.end_time_ms = optInt64(fields, 1);
  info.lock = optInt(fields, 2);
  info.mute = optInt(fields, 3);
  info.lock_sharing = optInt(fields, 4);
  info.rec_state = optInt(fields, 5);
  info.forbidden_chat = optInt(fields, 6);
  info.audience_total_count = optInt64(fields, 7);
  info.pic_num = optInt64(fields, 8);
  return info;
}

constexpr std::array<Key, 3> kListItemKeys = {"pid", "mode", "pinfoMap"};

/// An item's `pinfoMap` object, if any.
std::optional<dom::object> pinfoMap(const Fields<3>& item) {
  const element* info = item.get(2);
  if (info == nullptr) return std::nullopt;
  if (!isObject(*info)) throw Unusable("pinfoMap is not an object");
  return objectOf(*info);
}

m::ParticipantsUpdate decodeParticipants(Frame& frame) {
  // The doc table misspells CLIENT_LOGIN_TYPE; the wire uses the correct spelling.
  static constexpr std::array<Key, 10> kInfoKeys = {"NAME",
                                                    "ROLE",
                                                    "STATE",
                                                    "MUTE",
                                                    "VIDEO",
                                                    "HAND",
                                                    "SHARE",
                                                    "IS_COHOST",
                                                    "CLIENT_LOGIN_TYPE",
                                                    "CLICENT_LOGIN_TYPE"};
  m::ParticipantsUpdate update;
  update.full = isFull(optInt64(frame.envelope, kMsgMode));
  const auto items = dataArray(frame, true);
  if (items) update.items.reserve(items->size());
  forEachItem(items, [&update](const dom::object& object) {
    const auto item = lookup(kListItemKeys, object);
    m::ParticipantChange change;
    change.pid = requiredId(firstNonEmpty(item, 0, 0), "pid");
    change.mode = itemMode(optInt64(item, 1));
    if (const auto info_object = pinfoMap(item)) {
      const auto info = lookup(kInfoKeys, *info_object);
      m::ParticipantFields& f = change.fields;
      f.name = optString(info, 0);
      f.role = optInt(info, 1);
      f.state = optInt(info, 2);
      f.muted = optFlag(info, 3);
      f.video = optFlag(info, 4);
      f.hand_raised = optFlag(info, 5);
      f.sharing = optFlag(info, 6);
      f.is_cohost = optFlag(info, 7);
      const element* login = info.get(8) != nullptr ? info.get(8) : info.get(9);
      if (login != nullptr) f.client = clientType(trim(toString(*login, "CLIENT_LOGIN_TYPE")));
    }
    update.items.push_back(std::move(change));
  });
  return update;
}

m::AttendeesUpdate decodeAttendees(Frame& frame) {
  static constexpr std::array<Key, 6> kKeys = {"participantID", "userUUID", "phone",
                                               "email",         "name",     "mode"};
  m::AttendeesUpdate update;
  update.full = isFull(optInt64(frame.envelope, kMsgMode));
  forEachItem(dataArray(frame, true), [&update](const dom::object& object) {
    const auto item = lookup(kKeys, object);
    m::AttendeeChange change;
    change.key =
        requiredId(firstNonEmpty(item, 0, 4), "participantID, userUUID, phone, email or name");
    change.mode = itemMode(optInt64(item, 5));
    update.items.push_back(std::move(change));
  });
  return update;
}

m::SpeakersUpdate decodeSpeakers(Frame& frame) {
  static constexpr std::array<Key, 3> kKeys = {"pid", "participantID", "speakingVolume"};
  m::SpeakersUpdate update;
  // No data means nobody is speaking (spec §6.6).
  forEachItem(dataArray(frame, false), [&update](const dom::object& object) {
    const auto item = lookup(kKeys, object);
    m::Speaker speaker;
    speaker.pid = requiredId(firstNonEmpty(item, 0, 1), "pid");
    speaker.volume = optDouble(item, 2).value_or(0.0);
    update.speakers.push_back(std::move(speaker));
  });
  return update;
}

/// Keys of a NetCondition item: the ids, the mode, then the figure fields (also used to
/// recognise NetworkQualityNotify items).
constexpr std::array<Key, 20> kNetKeys = {"participantID",
                                          "pid",
                                          "mode",
                                          "netInfo",
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
constexpr std::size_t kFirstFigure = 3;

m::NetFigures netFigures(const Fields<20>& item) {
  m::NetFigures f;
  f.net_info = optString(item, 3);
  f.delay_ms = optDouble(item, 4);
  f.jitter_up_ms = optDouble(item, 5);
  f.jitter_down_ms = optDouble(item, 6);
  f.audio_loss_up = optDouble(item, 7);
  f.audio_loss_down = optDouble(item, 8);
  f.video_loss_up = optDouble(item, 9);
  f.video_loss_down = optDouble(item, 10);
  f.screen_loss_up = optDouble(item, 11);
  f.screen_loss_down = optDouble(item, 12);
  // The service names audio traffic from its own point of view: fluxOut is terminal → server.
  f.audio_flux_up = optDouble(item, 13);
  f.audio_flux_down = optDouble(item, 14);
  f.video_flux_up = optDouble(item, 15);
  f.video_flux_down = optDouble(item, 16);
  f.screen_flux_up = optDouble(item, 17);
  f.screen_flux_down = optDouble(item, 18);
  return f;
}

m::NetConditionUpdate netConditions(Frame& frame, const std::optional<dom::array>& items) {
  m::NetConditionUpdate update;
  update.full = isFull(optInt64(frame.envelope, kMsgMode));
  if (items) update.items.reserve(items->size());
  forEachItem(items, [&update](const dom::object& object) {
    const auto item = lookup(kNetKeys, object);
    m::NetConditionChange change;
    change.pid = requiredId(firstNonEmpty(item, 0, 1), "participantID");
    change.mode = itemMode(optInt64(item, 2));
    change.figures = netFigures(item);
    update.items.push_back(std::move(change));
  });
  return update;
}

m::NetConditionUpdate decodeNetConditions(Frame& frame) {
  return netConditions(frame, dataArray(frame, true));
}

/// NetworkQualityNotify's payload is undocumented: it is mapped only when every item looks like
/// a NetConditionNotify item (an id and at least one figure field) and maps cleanly.
std::optional<m::NetConditionUpdate> decodeNetworkQuality(Frame& frame) {
  try {
    const auto data = payload(frame);
    if (!data || !isArray(*data) || arrayOf(*data).size() == 0) return std::nullopt;
    const dom::array items = arrayOf(*data);
    for (element element : items) {
      if (!isObject(element)) return std::nullopt;
      const auto item = lookup(kNetKeys, objectOf(element));
      if (firstNonEmpty(item, 0, 1).empty()) return std::nullopt;
      bool has_figure = false;
      for (std::size_t i = kFirstFigure; i < kNetKeys.size(); ++i) {
        has_figure = has_figure || item.get(i) != nullptr;
      }
      if (!has_figure) return std::nullopt;
    }
    return netConditions(frame, items);
  } catch (const Unusable&) {
    return std::nullopt;
  }
}

m::InviteResults decodeInviteResults(Frame& frame) {
  // The doc table says errorCode; the wire says resultCode.
  static constexpr std::array<Key, 3> kKeys = {"callNumber", "resultCode", "errorCode"};
  m::InviteResults results;
  results.full = isFull(optInt64(frame.envelope, kMsgMode));
  forEachItem(dataArray(frame, true), [&results](const dom::object& object) {
    const auto item = lookup(kKeys, object);
    m::InviteResult result;
    result.call_number = optString(item, 0).value_or("");
    const element* code = item.get(1) != nullptr ? item.get(1) : item.get(2);
    if (code == nullptr) throw Unusable("a data item has no resultCode");
    result.code = std::string(trim(toString(*code, "resultCode")));
    if (result.code.empty()) throw Unusable("a data item has an empty resultCode");
    results.items.push_back(std::move(result));
  });
  return results;
}

m::WaitingListUpdate decodeWaitingList(Frame& frame) {
  static constexpr std::array<Key, 1> kInfoKeys = {"WAITINGSTATE"};
  m::WaitingListUpdate update;
  update.full = isFull(optInt64(frame.envelope, kMsgMode));
  forEachItem(dataArray(frame, true), [&update](const dom::object& object) {
    const auto item = lookup(kListItemKeys, object);
    m::WaitingChange change;
    change.pid = requiredId(firstNonEmpty(item, 0, 0), "pid");
    change.mode = itemMode(optInt64(item, 1));
    if (const auto info = pinfoMap(item)) {
      change.waiting_state = optInt(lookup(kInfoKeys, *info), 0);
    }
    update.items.push_back(std::move(change));
  });
  return update;
}

m::InterpreterGroupsUpdate decodeInterpreterGroups(Frame& frame) {
  static constexpr std::array<Key, 1> kKeys = {"groupId"};
  m::InterpreterGroupsUpdate update;
  update.full = isFull(optInt64(frame.envelope, kMsgMode));
  forEachItem(dataArray(frame, true), [&update](const dom::object& object) {
    update.group_ids.push_back(requiredId(firstNonEmpty(lookup(kKeys, object), 0, 0), "groupId"));
  });
  return update;
}

m::CustomMultiPic decodeCustomMultiPic(Frame& frame) {
  // Undocumented type: a `data` of another shape is tolerated, only picNum is read.
  static constexpr std::array<Key, 1> kKeys = {"picNum"};
  m::CustomMultiPic pic;
  pic.pic_num = optInt64(flatFields(frame, kKeys, false), 0);
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

/// An object's members in name order, one per name (the last wins), as the shape lists them.
std::vector<std::pair<std::string_view, element>> sortedMembers(const dom::object& object) {
  std::vector<std::pair<std::string_view, element>> members;
  for (auto it = object.begin(); it != object.end(); ++it)
    members.emplace_back(it.key(), it.value());
  std::stable_sort(members.begin(), members.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string_view, element>> unique;
  for (auto& member : members) {
    if (!unique.empty() && unique.back().first == member.first) {
      unique.back() = member;
    } else {
      unique.push_back(member);
    }
  }
  return unique;
}

void describe(const element& value, int depth, std::string& out) {
  if (out.size() > kMaxShapeChars) return;
  switch (value.type()) {
    case element_type::OBJECT: {
      if (depth >= kMaxShapeDepth) {
        out += "{...}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& [name, member] : sortedMembers(objectOf(value))) {
        if (out.size() > kMaxShapeChars) break;
        out += first ? "" : ",";
        first = false;
        out += safeKey(name);
        out += ':';
        describe(member, depth + 1, out);
      }
      out += '}';
      break;
    }
    case element_type::ARRAY: {
      const dom::array array = arrayOf(value);
      if (array.size() == 0) {
        out += "[]";
      } else if (depth >= kMaxShapeDepth) {
        out += "[...]";
      } else {
        // The first element stands for all of them: enough to recognise a list payload.
        out += '[';
        describe(*array.begin(), depth + 1, out);
        out += array.size() > 1 ? ",...]" : "]";
      }
      break;
    }
    case element_type::NULL_VALUE:
      out += "null";
      break;
    case element_type::BOOL:
      out += "bool";
      break;
    case element_type::STRING:
      out += "string";
      break;
    default:
      out += "number";
      break;
  }
}

std::string describeShape(const dom::object& root) {
  std::string out;
  out += '{';
  bool first = true;
  for (const auto& [name, member] : sortedMembers(root)) {
    if (out.size() > kMaxShapeChars) break;
    out += first ? "" : ",";
    first = false;
    out += safeKey(name);
    out += ':';
    describe(member, 1, out);
  }
  out += '}';
  if (out.size() > kMaxShapeChars) {
    out.resize(kMaxShapeChars);
    out += "...";
  }
  return out;
}

// --- dispatch ---------------------------------------------------------------------------------

using PushDecoder = m::EventBody (*)(Frame&);

struct PushType {
  std::string_view action;
  PushDecoder decode;
};

template <typename Event, Event (*Fn)(Frame&)>
m::EventBody wrap(Frame& frame) {
  return Fn(frame);
}

m::EventBody countedOnly(Frame& /*frame*/) { return m::CountedOnly{}; }

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

SubscribeReply decodeSubscribeReply(Frame& frame) {
  static constexpr std::array<Key, 2> kBodyKeys = {"returnCode", "returnDesc"};
  SubscribeReply reply;
  if (const auto sequence = find(frame.root, "sequence")) {
    reply.sequence = toString(*sequence, "sequence");
  }
  // The documented success reply nests the code in `data`; the failure reply is undocumented,
  // so a code at the top level is accepted too.
  const auto body = flatFields(frame, kBodyKeys, false);
  const auto code = optInt(body, 0);
  if (!code) throw Unusable("returnCode is missing");
  reply.return_code = *code;
  reply.return_desc = optString(body, 1).value_or("");
  return reply;
}

HeartbeatEcho decodeHeartbeat(const Frame& frame) {
  HeartbeatEcho echo;
  if (const auto sequence = find(frame.root, "sequence")) {
    echo.sequence = std::string(trim(toString(*sequence, "sequence")));
  }
  if (echo.sequence.empty()) throw Unusable("sequence is missing");
  return echo;
}

Decoded rejected(m::RejectReason reason, std::string detail) {
  Decoded out;
  out.message = Rejection{reason, std::move(detail)};
  return out;
}

const PushType* findPushType(std::string_view action) {
  for (const PushType& type : kPushTypes) {
    if (type.action == action) return &type;
  }
  return nullptr;
}

/// Decodes a parsed frame; throws Unusable when it cannot be applied. `action` receives the
/// known type name as soon as it is recognised, for the rejection detail (an unknown action is
/// frame content and never goes there).
Decoded decodeObject(Frame& frame, std::string& action) {
  const element* action_value = frame.envelope.get(kAction);
  if (action_value == nullptr || !isString(*action_value)) throw Unusable("no string action");
  const std::string_view name = trim(stringOf(*action_value));
  const PushType* type = findPushType(name);
  Decoded out;
  if (name != "HeartBeat" && name != "Subscribe" && name != kNetworkQuality && type == nullptr) {
    out.action = "unknown";
    out.message = Push{m::CountedOnly{}};
    out.unrecognized_shape = describeShape(frame.root);
    return out;
  }
  action = std::string(name);
  if (type != nullptr) {
    out.message = Push{type->decode(frame)};
  } else if (name == "HeartBeat") {
    out.message = decodeHeartbeat(frame);
  } else if (name == "Subscribe") {
    out.message = decodeSubscribeReply(frame);
  } else if (auto update = decodeNetworkQuality(frame)) {
    out.message = Push{std::move(*update)};
  } else {
    out.message = Push{m::CountedOnly{}};
    out.unrecognized_shape = describeShape(frame.root);
  }
  out.action = action;
  return out;
}

// --- On-Demand fast path ------------------------------------------------------------------------
//
// One forward pass: every value is either decoded or validated while it is skipped, so a frame
// accepted here is one the DOM parser accepts too. Anything unusual ends the pass (Bail) and the
// reference path decides, which keeps the rejection details and the quirk rules in one place.

namespace od = simdjson::ondemand;

/// The fast path does not apply to this frame.
struct Bail {};

// Below the DOM limit, so the fast path never accepts what the reference rejects for depth.
constexpr int kFastMaxDepth = 32;

void check(simdjson::error_code error) {
  if (error != simdjson::SUCCESS) throw Bail{};
}

/// The text of a JSON string whose content starts at `content` (just after the opening quote)
/// when it holds no escape sequence, else nullopt. Stage 1 has already checked the whole
/// frame's UTF-8 and found the closing quote, so such a string needs no further validation and
/// is read in place rather than unescaped into the parser's string buffer (which would grow by
/// the frame's string bytes).
std::optional<std::string_view> unescapedInPlace(const char* content) {
  for (const char* end = content;; ++end) {
    if (*end == '"') return std::string_view(content, static_cast<std::size_t>(end - content));
    if (*end == '\\') return std::nullopt;
  }
}

/// A member name: in place when it has no escapes, else unescaped (and validated) by simdjson.
std::string_view memberName(simdjson::simdjson_result<od::field>& field) {
  od::raw_json_string raw;
  check(field.key().get(raw));
  if (auto name = unescapedInPlace(raw.raw())) return *name;
  std::string_view name;
  check(field.unescaped_key().get(name));
  return name;
}

/// A string value (its type already checked), read in place when it has no escapes.
std::string_view stringValue(od::value& value) {
  const std::string_view token = value.raw_json_token();
  if (!token.empty() && token.front() == '"') {
    if (auto text = unescapedInPlace(token.data() + 1)) return *text;
  }
  std::string_view text;
  check(value.get_string().get(text));
  return text;
}

/// Consumes `value`, validating it like a full parse would (numbers parsed, strings with escapes
/// unescaped, atoms checked, containers walked).
void skipValidated(od::value value, int depth) {
  od::json_type type{};
  check(value.type().get(type));
  switch (type) {
    case od::json_type::object: {
      if (depth >= kFastMaxDepth) throw Bail{};
      od::object object;
      check(value.get_object().get(object));
      for (auto field : object) {
        memberName(field);
        od::value member;
        check(field.value().get(member));
        skipValidated(member, depth + 1);
      }
      break;
    }
    case od::json_type::array: {
      if (depth >= kFastMaxDepth) throw Bail{};
      od::array array;
      check(value.get_array().get(array));
      for (auto element : array) {
        od::value member;
        check(element.get(member));
        skipValidated(member, depth + 1);
      }
      break;
    }
    case od::json_type::number: {
      od::number number;
      check(value.get_number().get(number));
      break;
    }
    case od::json_type::string:
      stringValue(value);
      break;
    case od::json_type::boolean: {
      bool flag = false;
      check(value.get_bool().get(flag));
      break;
    }
    case od::json_type::null: {
      bool null = false;
      check(value.is_null().get(null));
      if (!null) throw Bail{};
      break;
    }
  }
}

/// Reads a value as a Scalar (consuming it); objects and arrays are validated and become
/// Kind::Other. Strings stay valid while the frame's buffers do (the rest of the decode).
Scalar readScalar(od::value value, int depth) {
  od::json_type type{};
  check(value.type().get(type));
  Scalar out;
  switch (type) {
    case od::json_type::number: {
      od::number number;
      check(value.get_number().get(number));
      switch (number.get_number_type()) {
        case od::number_type::signed_integer:
          out.kind = Scalar::Kind::Int64;
          out.int64 = number.get_int64();
          break;
        case od::number_type::unsigned_integer:
          out.kind = Scalar::Kind::UInt64;
          out.uint64 = number.get_uint64();
          break;
        default:
          out.kind = Scalar::Kind::Double;
          out.real = number.get_double();
          break;
      }
      break;
    }
    case od::json_type::string:
      out.kind = Scalar::Kind::String;
      out.text = stringValue(value);
      break;
    case od::json_type::boolean:
      out.kind = Scalar::Kind::Bool;
      check(value.get_bool().get(out.boolean));
      break;
    case od::json_type::null:
      out.kind = Scalar::Kind::Null;
      skipValidated(value, depth);
      break;
    default:
      skipValidated(value, depth);
      break;
  }
  return out;
}

/// The keys of one object, read in a single pass: each wanted key at most once, exactly spelt.
/// A padded or repeated key ends the fast path (the reference path has the rules for those).
template <std::size_t N>
class FastFields {
 public:
  explicit FastFields(const std::array<Key, N>& keys) : keys_(keys) {}

  /// The index of `name` among the wanted keys, or N. Bails on a repeat or a padded name.
  std::size_t match(std::string_view name) {
    if (name.empty() || isSpace(name.front()) || isSpace(name.back())) throw Bail{};
    for (std::size_t i = 0; i < N; ++i) {
      if (name.size() == keys_[i].size() && name.front() == keys_[i].front() && name == keys_[i]) {
        if (seen_[i]) throw Bail{};
        seen_[i] = true;
        return i;
      }
    }
    // An unwanted key seen twice is fine for the reference path too (the last wins, unused).
    return N;
  }
  void set(std::size_t i, const Scalar& value) { value_[i] = value; }
  /// The value of key `i`, or nullptr when absent or null (as the reference path's look-up).
  const Scalar* get(std::size_t i) const {
    return seen_[i] && value_[i].kind != Scalar::Kind::Null ? &value_[i] : nullptr;
  }

 private:
  const std::array<Key, N>& keys_;
  std::array<Scalar, N> value_{};
  std::array<bool, N> seen_{};
};

template <std::size_t N>
std::optional<std::string> fastString(const FastFields<N>& fields, std::size_t i, Key key) {
  const Scalar* value = fields.get(i);
  return value != nullptr ? std::optional<std::string>(toString(*value, key)) : std::nullopt;
}
template <std::size_t N>
std::optional<std::int64_t> fastInt64(const FastFields<N>& fields, std::size_t i, Key key) {
  const Scalar* value = fields.get(i);
  return value != nullptr ? toInt64(*value, key) : std::nullopt;
}
template <std::size_t N>
std::optional<int> fastInt(const FastFields<N>& fields, std::size_t i, Key key) {
  const auto wide = fastInt64(fields, i, key);
  if (!wide) return std::nullopt;
  if (*wide < std::numeric_limits<int>::min() || *wide > std::numeric_limits<int>::max()) {
    throw Bail{};
  }
  return static_cast<int>(*wide);
}
template <std::size_t N>
std::optional<bool> fastFlag(const FastFields<N>& fields, std::size_t i, Key key) {
  const auto number = fastInt64(fields, i, key);
  return number ? std::optional<bool>(*number != 0) : std::nullopt;
}
template <std::size_t N>
std::optional<double> fastDouble(const FastFields<N>& fields, std::size_t i, Key key) {
  const Scalar* value = fields.get(i);
  return value != nullptr ? toDouble(*value, key) : std::nullopt;
}

/// Reads every member of `object`: wanted scalars into `fields`; `nested(i, value)` consumes a
/// wanted key marked as nested (returns true when it did); everything else is validated.
template <std::size_t N, typename Nested>
void readObject(od::object object, FastFields<N>& fields, int depth, Nested nested) {
  for (auto field : object) {
    const std::string_view name = memberName(field);
    od::value value;
    check(field.value().get(value));
    const std::size_t i = fields.match(name);
    if (i < N && nested(i, value)) continue;
    if (i < N) {
      fields.set(i, readScalar(value, depth + 1));
    } else {
      skipValidated(value, depth + 1);
    }
  }
}

template <std::size_t N>
void readObject(od::object object, FastFields<N>& fields, int depth) {
  readObject(object, fields, depth, [](std::size_t, od::value&) { return false; });
}

od::object objectOrBail(od::value& value) {
  od::json_type type{};
  check(value.type().get(type));
  if (type != od::json_type::object) throw Bail{};
  od::object object;
  check(value.get_object().get(object));
  return object;
}

std::string fastPid(const Scalar* value, Key key) {
  if (value == nullptr) throw Bail{};
  std::string pid = toString(*value, key);
  if (trim(pid).empty() || hasControlCharacter(pid)) throw Bail{};  // the DOM path rejects it
  return pid;
}

m::ItemMode fastMode(const std::optional<std::int64_t>& mode) {
  if (!mode || *mode == 0) return m::ItemMode::Upsert;
  if (*mode == 1) return m::ItemMode::Remove;
  throw Bail{};
}

void fastParticipant(od::object object, std::vector<m::ParticipantChange>& items) {
  static constexpr std::array<Key, 10> kInfoKeys = {"NAME",
                                                    "ROLE",
                                                    "STATE",
                                                    "MUTE",
                                                    "VIDEO",
                                                    "HAND",
                                                    "SHARE",
                                                    "IS_COHOST",
                                                    "CLIENT_LOGIN_TYPE",
                                                    "CLICENT_LOGIN_TYPE"};
  FastFields<3> item(kListItemKeys);
  m::ParticipantChange change;
  bool has_info = false;
  readObject(object, item, 2, [&](std::size_t i, od::value& value) {
    if (i != 2) return false;
    od::json_type type{};
    check(value.type().get(type));
    if (type == od::json_type::null) return false;  // absent, as in the reference path
    FastFields<10> info(kInfoKeys);
    readObject(objectOrBail(value), info, 3);
    m::ParticipantFields& f = change.fields;
    f.name = fastString(info, 0, "NAME");
    f.role = fastInt(info, 1, "ROLE");
    f.state = fastInt(info, 2, "STATE");
    f.muted = fastFlag(info, 3, "MUTE");
    f.video = fastFlag(info, 4, "VIDEO");
    f.hand_raised = fastFlag(info, 5, "HAND");
    f.sharing = fastFlag(info, 6, "SHARE");
    f.is_cohost = fastFlag(info, 7, "IS_COHOST");
    const Scalar* login = info.get(8) != nullptr ? info.get(8) : info.get(9);
    if (login != nullptr) f.client = clientType(trim(toString(*login, "CLIENT_LOGIN_TYPE")));
    has_info = true;
    return true;
  });
  change.pid = fastPid(item.get(0), "pid");
  change.mode = fastMode(fastInt64(item, 1, "mode"));
  if (!has_info) change.fields = {};
  items.push_back(std::move(change));
}

void fastNetCondition(od::object object, std::vector<m::NetConditionChange>& items) {
  FastFields<20> item(kNetKeys);
  readObject(object, item, 2);
  m::NetConditionChange change;
  const Scalar* id = item.get(0);
  if (id == nullptr || trim(toString(*id, "participantID")).empty()) id = item.get(1);
  change.pid = fastPid(id, "participantID");
  change.mode = fastMode(fastInt64(item, 2, "mode"));
  m::NetFigures& f = change.figures;
  f.net_info = fastString(item, 3, "netInfo");
  std::optional<double>* figures[] = {&f.delay_ms,        &f.jitter_up_ms,    &f.jitter_down_ms,
                                      &f.audio_loss_up,   &f.audio_loss_down, &f.video_loss_up,
                                      &f.video_loss_down, &f.screen_loss_up,  &f.screen_loss_down,
                                      &f.audio_flux_up,   &f.audio_flux_down, &f.video_flux_up,
                                      &f.video_flux_down, &f.screen_flux_up,  &f.screen_flux_down};
  for (std::size_t i = 0; i < std::size(figures); ++i) {
    *figures[i] = fastDouble(item, 4 + i, kNetKeys[4 + i]);
  }
  items.push_back(std::move(change));
}

/// Reads the items of `data`. With `count_first` the array is counted before it is read, so the
/// vector is allocated once at its final size: for a large snapshot the growth by doubling
/// would otherwise hold the old and the new buffer at once.
template <typename Item>
void fastItems(od::value& data, void (*read)(od::object, std::vector<Item>&),
               std::vector<Item>& items, bool count_first) {
  od::json_type type{};
  check(data.type().get(type));
  if (type != od::json_type::array) throw Bail{};
  od::array array;
  check(data.get_array().get(array));
  if (count_first) {
    std::size_t count = 0;
    check(array.count_elements().get(count));
    items.reserve(count);
  }
  for (auto element : array) {
    od::value value;
    check(element.get(value));
    read(objectOrBail(value), items);
  }
}

/// The push types the fast path decodes.
enum class FastType { None, Participants, NetCondition };

FastType fastType(std::string_view action) {
  action = trim(action);
  if (action == "ParticipantsNotify") return FastType::Participants;
  if (action == "NetConditionNotify") return FastType::NetCondition;
  return FastType::None;
}

/// The type named by the root's first exactly spelt `action` member. Official frames put
/// `action` last (protocol.md §4), after `data`, so the main pass needs it before it starts; this
/// pass reads only member names and skips the values unread (no copy, no string unescaping).
FastType peekType(od::object root) {
  for (auto field : root) {
    od::raw_json_string name;
    check(field.key().get(name));
    if (!name.unsafe_is_equal("action")) continue;
    od::value value;
    check(field.value().get(value));
    std::string_view action;
    check(value.get_string().get(action));
    return fastType(action);
  }
  return FastType::None;
}

/// The padded copy of a frame and the On-Demand parser for it. Each thread keeps one pair sized
/// for ordinary frames; a frame above kReusableCapacity gets a pair of its own, freed after it,
/// so a rare large snapshot does not pin its size in every session thread.
struct FastBuffers {
  od::parser parser;
  std::string padded;
};

std::optional<Decoded> fastPath(std::string_view text) {
  static constexpr std::array<Key, 3> kRootKeys = {"action", "msgMode", "data"};
  thread_local FastBuffers reusable;
  std::unique_ptr<FastBuffers> oversized;
  if (text.size() > kReusableCapacity) oversized = std::make_unique<FastBuffers>();
  FastBuffers& buffers = oversized ? *oversized : reusable;
  buffers.padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  buffers.padded.assign(text.data(), text.size());
  buffers.padded.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document document;
  if (buffers.parser.iterate(buffers.padded.data(), text.size(), buffers.padded.size())
          .get(document) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  od::object root;
  if (document.get_object().get(root) != simdjson::SUCCESS) return std::nullopt;
  const FastType type = peekType(root);
  if (type == FastType::None) throw Bail{};
  document.rewind();
  if (document.get_object().get(root) != simdjson::SUCCESS) return std::nullopt;

  std::string_view action;
  m::ParticipantsUpdate participants;
  m::NetConditionUpdate net;
  FastFields<3> envelope(kRootKeys);
  readObject(root, envelope, 0, [&](std::size_t i, od::value& value) {
    if (i == 0) {
      od::json_type kind{};
      check(value.type().get(kind));
      if (kind != od::json_type::string) throw Bail{};
      check(value.get_string().get(action));
      action = trim(action);
      if (fastType(action) != type) throw Bail{};
      return true;
    }
    if (i != 2) return false;
    if (type == FastType::Participants) {
      fastItems(value, fastParticipant, participants.items, oversized != nullptr);
    } else {
      fastItems(value, fastNetCondition, net.items, oversized != nullptr);
    }
    return true;
  });
  // Trailing content after the root object: the reference path rejects the frame.
  const char* location = nullptr;
  if (document.current_location().get(location) != simdjson::OUT_OF_BOUNDS) throw Bail{};
  if (action.empty() || envelope.get(2) == nullptr) throw Bail{};

  const auto mode = fastInt64(envelope, 1, "msgMode");
  if (mode && *mode != 0 && *mode != 1) throw Bail{};
  const bool full = !mode || *mode == 0;
  Decoded out;
  out.action = std::string(action);
  if (type == FastType::Participants) {
    participants.full = full;
    out.message = Push{std::move(participants)};
  } else {
    net.full = full;
    out.message = Push{std::move(net)};
  }
  return out;
}

}  // namespace

Decoded decodeReference(std::string_view text) {
  try {
    std::unique_ptr<dom::parser> oversized;
    dom::parser& parser = parserFor(0, text.size(), oversized);
    element root;
    // realloc_if_needed: simdjson reads up to SIMDJSON_PADDING bytes past the end, so the frame
    // is copied into the parser's own padded buffer (reused across frames).
    if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) {
      // simdjson's messages never quote the input, but keep the detail uniform.
      return rejected(m::RejectReason::InvalidJson, "not valid JSON");
    }
    if (!isObject(root)) return rejected(m::RejectReason::InvalidJson, "not a JSON object");
    Frame frame(objectOf(root));
    std::string action;
    try {
      return decodeObject(frame, action);
    } catch (const Unusable& e) {
      return rejected(m::RejectReason::InvalidMessage,
                      action.empty() ? e.what() : action + ": " + e.what());
    }
  } catch (...) {
    // Only allocation failures get here; the frame is dropped like any other bad frame.
    return rejected(m::RejectReason::InvalidMessage, "decoder failure");
  }
}

std::optional<Decoded> decodeFastPath(std::string_view frame) {
  try {
    return fastPath(frame);
  } catch (...) {
    // Bail, Unusable and simdjson's own exceptions alike: the reference path decides.
    return std::nullopt;
  }
}

Decoded decode(std::string_view frame) {
  if (auto decoded = decodeFastPath(frame)) return std::move(*decoded);
  return decodeReference(frame);
}

}  // namespace hme::protocol
