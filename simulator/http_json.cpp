#include "simulator/http_json.h"

#include <Poco/Net/HTTPResponse.h>

#include <ostream>
#include <sstream>

namespace hme::simulator::detail {

Poco::JSON::Object::Ptr newObject() {
  return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

std::string toText(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

std::string errorBody(const std::string& code, const std::string& message) {
  Poco::JSON::Object::Ptr o = newObject();
  o->set("error_code", code);
  o->set("error_msg", message);
  return toText(o);
}

std::string queryParam(const Poco::URI& uri, const std::string& name) {
  for (const auto& [key, value] : uri.getQueryParameters()) {
    if (key == name) return value;
  }
  return {};
}

void sendJson(Poco::Net::HTTPServerResponse& response, int status, const std::string& body) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/json;charset=UTF-8");
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send() << body;
}

}  // namespace hme::simulator::detail
