#include "plugin/discovery/json_fields.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

#include <exception>

namespace hme::discovery::detail {

Poco::JSON::Object::Ptr parseObject(std::string_view text, std::size_t max_depth) {
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(max_depth);
    Poco::Dynamic::Var parsed = parser.parse(std::string(text));
    if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
      return parsed.extract<Poco::JSON::Object::Ptr>();
    }
  } catch (const Poco::Exception&) {
  } catch (const std::exception&) {
  }
  return nullptr;
}

std::optional<std::string> stringMember(const Poco::JSON::Object& object, const std::string& key) {
  if (!object.has(key)) {
    return std::nullopt;
  }
  const Poco::Dynamic::Var& value = object.get(key);
  if (!value.isString()) {
    return std::nullopt;
  }
  return value.toString();
}

}  // namespace hme::discovery::detail
