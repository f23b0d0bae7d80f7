#pragma once
/// Internal to hme::discovery: tolerant access to the JSON bodies of the management API and of
/// webhook requests (both untrusted).

#include <Poco/JSON/Object.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hme::discovery::detail {

/// `text` parsed as a JSON object nested at most `max_depth` levels; null when it is not valid
/// JSON, not an object or too deep. Never throws except std::bad_alloc.
Poco::JSON::Object::Ptr parseObject(std::string_view text, std::size_t max_depth);

/// A string member, or nullopt if absent or of another type.
std::optional<std::string> stringMember(const Poco::JSON::Object& object, const std::string& key);

}  // namespace hme::discovery::detail
