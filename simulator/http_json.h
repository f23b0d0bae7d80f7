#pragma once
/// Internal to the simulator: the JSON and HTTP helpers its meeting side (simulator.cpp) and its
/// management side (management.cpp) share.

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <string>

namespace hme::simulator::detail {

/// An empty JSON object that keeps its keys in insertion order (as the real service's bodies).
Poco::JSON::Object::Ptr newObject();

/// `object` as compact JSON text.
std::string toText(const Poco::JSON::Object::Ptr& object);

/// The service's error body: {"error_code":…,"error_msg":…}.
std::string errorBody(const std::string& code, const std::string& message);

/// The first value of query parameter `name`, or "" when absent.
std::string queryParam(const Poco::URI& uri, const std::string& name);

/// Answers with `status` and the JSON `body`.
void sendJson(Poco::Net::HTTPServerResponse& response, int status, const std::string& body);

}  // namespace hme::simulator::detail
