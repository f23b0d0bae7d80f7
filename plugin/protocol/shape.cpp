#include "plugin/protocol/shape.h"

#include <simdjson.h>

#include <algorithm>

namespace hme::protocol {
namespace {

namespace dom = simdjson::dom;

// Real frames nest about five levels and pinfoMap has about 30 keys; these bounds keep the
// report short for hostile or unexpected frames without hiding anything a real frame has.
constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxKeys = 100;
constexpr std::size_t kMaxFieldNameChars = 40;
constexpr std::size_t kMaxFieldNameDigits = 4;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// An ASCII identifier of at most 40 characters with at most 4 digits. The service's field
/// names are camelCase (`pinfoMap`) or upper case (`CLIENT_LOGIN_TYPE`), so a capitalised word
/// (`Alice`), more likely a name used as a key, passes only with `allow_capitalised` (for
/// `action` values, which are PascalCase: `ParticipantsNotify`).
bool isIdentifier(std::string_view text, bool allow_capitalised) noexcept {
  if (text.empty() || text.size() > kMaxFieldNameChars) return false;
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const bool upper_case_only = upper(text.front()) && !allow_capitalised;
  if (!upper(text.front()) && !lower(text.front())) return false;
  std::size_t digits = 0;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (lower(c)) {
      if (upper_case_only) return false;
    } else if (!upper(c) && c != '_') {
      return false;
    }
  }
  return digits <= kMaxFieldNameDigits;
}

/// Adds `shape` under `key` to `into.members` (sorted), counting `count` objects that had it.
void addMember(Shape& into, std::string_view key, std::size_t count, const Shape& shape) {
  auto it =
      std::lower_bound(into.members.begin(), into.members.end(), key,
                       [](const auto& member, std::string_view k) { return member.first < k; });
  if (it != into.members.end() && it->first == key) {
    it->second.first += count;
    merge(it->second.second, shape);
    return;
  }
  if (into.members.size() >= kMaxKeys) {
    into.truncated = true;
    return;
  }
  into.members.insert(it, {std::string(key), {count, shape}});
}

Shape describe(const dom::element& value, int depth) {
  Shape shape;
  switch (value.type()) {
    case dom::element_type::OBJECT: {
      shape.types = Shape::kObject;
      shape.objects = 1;
      if (depth >= kMaxDepth) {
        shape.truncated = true;
        break;
      }
      // Every data-like key of this object goes into one entry, counted once for the object.
      Shape data_keys;
      bool has_data_keys = false;
      const dom::object object = value.get_object().value_unsafe();
      for (auto it = object.begin(); it != object.end(); ++it) {
        const std::string_view key = it.key();
        const Shape member = describe(it.value(), depth + 1);
        if (isFieldNameKey(trim(key))) {
          // A duplicate key in one object counts once.
          const bool seen = std::any_of(shape.members.begin(), shape.members.end(),
                                        [&](const auto& m) { return m.first == key; });
          addMember(shape, key, seen ? 0 : 1, member);
        } else if (has_data_keys) {
          merge(data_keys, member);
        } else {
          data_keys = member;
          has_data_keys = true;
        }
      }
      if (has_data_keys) addMember(shape, kDataKey, 1, data_keys);
      break;
    }
    case dom::element_type::ARRAY: {
      shape.types = Shape::kArray;
      if (depth >= kMaxDepth) {
        shape.truncated = true;
        break;
      }
      const dom::array array = value.get_array().value_unsafe();
      for (auto it = array.begin(); it != array.end(); ++it) {
        const Shape item_shape = describe(*it, depth + 1);
        if (shape.items.empty()) {
          shape.items.push_back(item_shape);
        } else {
          merge(shape.items.front(), item_shape);
        }
      }
      break;
    }
    case dom::element_type::NULL_VALUE:
      shape.types = Shape::kNull;
      break;
    case dom::element_type::BOOL:
      shape.types = Shape::kBool;
      break;
    case dom::element_type::STRING:
      shape.types = Shape::kString;
      break;
    default:
      shape.types = Shape::kNumber;
      break;
  }
  return shape;
}

void write(const Shape& shape, std::string& out) {
  bool first = true;
  const auto separator = [&] {
    if (!first) out += '|';
    first = false;
  };
  for (const auto& [bit, name] : {std::pair<unsigned, const char*>{Shape::kNull, "null"},
                                  {Shape::kBool, "bool"},
                                  {Shape::kNumber, "number"},
                                  {Shape::kString, "string"}}) {
    if ((shape.types & bit) == 0) continue;
    separator();
    out += name;
  }
  if ((shape.types & Shape::kObject) != 0) {
    separator();
    out += '{';
    bool first_member = true;
    for (const auto& [key, counted] : shape.members) {
      if (!first_member) out += ", ";
      first_member = false;
      // Spaces around a key are a quirk of the service worth seeing (`"returnDesc "`).
      if (key != trim(key)) {
        out += '"' + key + '"';
      } else {
        out += key;
      }
      if (counted.first < shape.objects) out += '?';
      out += ':';
      write(counted.second, out);
    }
    if (shape.truncated) out += shape.members.empty() ? "..." : ", ...";
    out += '}';
  }
  if ((shape.types & Shape::kArray) != 0) {
    separator();
    out += '[';
    if (!shape.items.empty()) write(shape.items.front(), out);
    if (shape.truncated && shape.items.empty()) out += "...";
    out += ']';
  }
}

}  // namespace

bool isFieldNameKey(std::string_view key) noexcept { return isIdentifier(key, false); }

std::optional<Shape> shapeOf(std::string_view json) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  return describe(root, 0);
}

std::optional<std::string> actionName(std::string_view json) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  std::string_view action;
  if (root["action"].get(action) != simdjson::SUCCESS) return std::nullopt;
  action = trim(action);
  if (!isIdentifier(action, true)) return std::nullopt;
  return std::string(action);
}

void merge(Shape& into, const Shape& from) {
  into.types |= from.types;
  into.objects += from.objects;
  into.truncated = into.truncated || from.truncated;
  for (const auto& [key, counted] : from.members) {
    addMember(into, key, counted.first, counted.second);
  }
  if (!from.items.empty()) {
    if (into.items.empty()) {
      into.items.push_back(from.items.front());
    } else {
      merge(into.items.front(), from.items.front());
    }
  }
}

std::string toText(const Shape& shape) {
  std::string out;
  write(shape, out);
  return out;
}

}  // namespace hme::protocol
