#include "plugin/transport/http_util.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace hme::transport::detail {
namespace {

bool isUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void appendEscaped(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto u = static_cast<unsigned char>(c);
  out.push_back('%');
  out.push_back(kHex[u >> 4]);
  out.push_back(kHex[u & 0x0f]);
}

std::optional<std::int64_t> parseDecimal(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::string encodeQueryValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (isUnreserved(c)) {
      out.push_back(c);
    } else {
      appendEscaped(out, c);
    }
  }
  return out;
}

std::string encodePathPrefix(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (isUnreserved(c) || c == '/') {
      out.push_back(c);
    } else {
      appendEscaped(out, c);
    }
  }
  return out;
}

Poco::Timespan toTimespan(std::chrono::milliseconds timeout) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  return Poco::Timespan(std::max<Poco::Timespan::TimeDiff>(micros, 1000));
}

Poco::Timespan tlsReceiveTimeout(std::chrono::milliseconds timeout) {
  return toTimespan(timeout / 2);
}

void applyTimeout(Poco::Net::HTTPSession& session, std::chrono::milliseconds timeout) {
  session.setTimeout(toTimespan(timeout / 2), toTimespan(timeout), tlsReceiveTimeout(timeout));
}

std::optional<std::string> stringField(const Poco::JSON::Object& object, const std::string& key) {
  const Poco::Dynamic::Var value = object.get(key);
  if (!value.isString()) return std::nullopt;
  auto text = value.extract<std::string>();
  if (text.empty()) return std::nullopt;
  return text;
}

std::optional<std::int64_t> int64Field(const Poco::JSON::Object& object, const std::string& key) {
  const Poco::Dynamic::Var value = object.get(key);
  if (value.isEmpty()) return std::nullopt;
  if (value.isString()) return parseDecimal(value.extract<std::string>());
  if (value.isInteger()) {
    try {
      return value.convert<Poco::Int64>();
    } catch (const Poco::Exception&) {
      return std::nullopt;  // an unsigned value above INT64_MAX
    }
  }
  if (value.isNumeric()) {
    const auto real = value.convert<double>();
    // Keep to the range where the double → int64 conversion is defined.
    if (!std::isfinite(real) || std::fabs(real) >= 9.2e18) return std::nullopt;
    return static_cast<std::int64_t>(real);
  }
  return std::nullopt;
}

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(32);  // token answers are shallow; bounds recursion on hostile input
    const Poco::Dynamic::Var root = parser.parse(text);
    if (root.type() != typeid(Poco::JSON::Object::Ptr)) return nullptr;
    return root.extract<Poco::JSON::Object::Ptr>();
  } catch (...) {
    return nullptr;  // the caller reports a fixed, content-free message
  }
}

}  // namespace hme::transport::detail
