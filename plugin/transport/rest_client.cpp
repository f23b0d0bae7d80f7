#include "plugin/transport/rest_client.h"

#include <Poco/Net/HTTPRequest.h>

#include <istream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/http_util.h"
#include "plugin/transport/https_endpoint.h"

namespace hme::transport {
namespace {

using detail::makeFailure;
using detail::Secrets;

constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 20;
constexpr std::string_view kRateLimitCode = "MMC.100000429";

/// A token as the service issues them (e.g. "cnr" + hex): visible ASCII, no spaces. Anything else
/// would end up in a header or URL of the next request.
bool isPlausibleToken(std::string_view token) {
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !token.empty();
}

}  // namespace

struct RestClient::Impl {
  detail::HttpsEndpoint endpoint;

  Result<detail::HttpAnswer> get(const std::string& path_and_query, const detail::Headers& headers,
                                 Secrets secrets) const {
    return endpoint.call(Poco::Net::HTTPRequest::HTTP_GET, path_and_query, headers, "", secrets);
  }

  /// The JSON object of a successful answer, or the Failure to report.
  Result<Poco::JSON::Object::Ptr> successObject(const detail::HttpAnswer& answer,
                                                Secrets secrets) const {
    if (answer.status < 200 || answer.status > 299) return detail::httpFailure(answer, secrets);
    auto object = detail::parseObject(answer.body);
    if (!object) {
      return makeFailure(TransportError::BadResponse, "response is not a JSON object", secrets,
                         answer.status);
    }
    if (detail::stringField(*object, "error_code").value_or("") == kRateLimitCode) {
      return detail::httpFailure(answer, secrets);
    }
    return object;
  }

  static std::string path(const char* name, const std::string& meeting_id) {
    return "/v1/mmc/control/conferences/" + std::string(name) +
           "?conferenceID=" + detail::encodeQueryValue(meeting_id);
  }
};

RestClient::RestClient(std::string api_url, TlsOptions tls, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(
          Impl{detail::HttpsEndpoint(api_url, tls, timeout, kMaxBodyBytes)})) {}

RestClient::~RestClient() = default;
RestClient::RestClient(RestClient&&) noexcept = default;
RestClient& RestClient::operator=(RestClient&&) noexcept = default;

Result<ControlToken> RestClient::getControlToken(const std::string& meeting_id,
                                                 const Secret& host_password,
                                                 const Secret& current_token) const {
  const Secrets secrets{host_password, current_token};
  detail::Headers headers{{"X-Password", host_password.reveal()}, {"X-Login-Type", "1"}};
  if (!current_token.empty()) {
    headers.emplace_back("X-Conference-Authorization", current_token.reveal());
  }

  auto answer = impl_->get(Impl::path("token", meeting_id), headers, secrets);
  if (!answer) return answer.failure();
  auto object = impl_->successObject(answer.value(), secrets);
  if (!object) return object.failure();

  const Poco::JSON::Object::Ptr data =
      object.value()->isObject("data") ? object.value()->getObject("data") : nullptr;
  if (!data) {
    return makeFailure(TransportError::BadResponse, "control token answer has no data object",
                       secrets, answer.value().status);
  }
  ControlToken token;
  auto value = detail::stringField(*data, "token");
  auto ws_url = detail::stringField(*data, "wsURL");
  if (!value || !ws_url || !isPlausibleToken(*value)) {
    return makeFailure(TransportError::BadResponse,
                       "control token answer lacks a valid data.token or data.wsURL", secrets,
                       answer.value().status);
  }
  token.token = Secret(std::move(*value));
  token.ws_url = std::move(*ws_url);
  token.expire_time_ms = detail::int64Field(*data, "expireTime").value_or(0);
  token.validity_seconds = detail::int64Field(*data, "confTokenExpireTime").value_or(0);
  return token;
}

Result<Secret> RestClient::getWsToken(const std::string& meeting_id,
                                      const Secret& control_token) const {
  const Secrets secrets{control_token};
  const detail::Headers headers{{"X-Conference-Authorization", control_token.reveal()}};

  auto answer = impl_->get(Impl::path("wsToken", meeting_id), headers, secrets);
  if (!answer) return answer.failure();
  auto object = impl_->successObject(answer.value(), secrets);
  if (!object) return object.failure();

  // Documented at the top level; tolerate the data wrapper the token call uses.
  auto ws_token = detail::stringField(*object.value(), "webSocketToken");
  if (!ws_token && object.value()->isObject("data")) {
    ws_token = detail::stringField(*object.value()->getObject("data"), "webSocketToken");
  }
  if (!ws_token || !isPlausibleToken(*ws_token)) {
    return makeFailure(TransportError::BadResponse, "wsToken answer lacks a valid webSocketToken",
                       secrets, answer.value().status);
  }
  return Secret(std::move(*ws_token));
}

}  // namespace hme::transport
