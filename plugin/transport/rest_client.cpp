#include "plugin/transport/rest_client.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>

#include <istream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/http_util.h"

namespace hme::transport {
namespace {

using detail::makeFailure;
using detail::Secrets;

constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 20;
constexpr std::string_view kRateLimitCode = "MMC.100000429";

struct HttpAnswer {
  int status = 0;
  std::string body;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// True if `value` can be sent as a header value unchanged (no CR, LF or other control byte).
bool isSafeHeaderValue(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

/// A token as the service issues them (e.g. "cnr" + hex): visible ASCII, no spaces. Anything else
/// would end up in a header or URL of the next request.
bool isPlausibleToken(std::string_view token) {
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !token.empty();
}

/// Reads at most `limit + 1` bytes so an oversized body is detected without storing it.
std::string readBounded(std::istream& in, std::size_t limit) {
  std::string body;
  char chunk[8192];
  while (body.size() <= limit && in) {
    in.read(chunk, sizeof chunk);
    body.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  return body;
}

/// The Failure for a non-2xx answer or a 2xx body carrying the rate-limit code.
Failure httpFailure(const HttpAnswer& answer, Secrets secrets) {
  std::string code;
  std::string message;
  if (const auto body = detail::parseObject(answer.body)) {
    code = detail::stringField(*body, "error_code").value_or("");
    message = detail::stringField(*body, "error_msg").value_or("");
  }
  code = detail::sanitizeErrorCode(code);
  std::string text = "HTTP " + std::to_string(answer.status);
  if (!code.empty()) text += " " + code;
  // Scrub before truncating, so a cut can never leave part of a secret behind.
  if (!message.empty()) text += ": " + detail::scrub(message, secrets, 100);
  return makeFailure(detail::classifyHttpStatus(answer.status, code), text, secrets, answer.status,
                     code);
}

}  // namespace

struct RestClient::Impl {
  std::string host;
  unsigned short port = 443;
  std::string path_prefix;
  Poco::Net::Context::Ptr context;
  std::chrono::milliseconds timeout{0};

  Result<HttpAnswer> get(const std::string& path_and_query, const Headers& headers,
                         Secrets secrets) const {
    for (const auto& [name, value] : headers) {
      if (!isSafeHeaderValue(value)) {
        return makeFailure(TransportError::Rejected,
                           name + " contains a line break or control character (not sent)",
                           secrets);
      }
    }
    try {
      Poco::Net::HTTPSClientSession session(host, port, context);
      detail::applyTimeout(session, timeout);
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path_and_query,
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.set("Accept", "application/json");
      for (const auto& [name, value] : headers) request.set(name, value);
      session.sendRequest(request);
      Poco::Net::HTTPResponse response;
      std::istream& in = session.receiveResponse(response);
      // Poco's stream buffers report network errors by setting badbit; rethrow them instead.
      in.exceptions(std::ios::badbit);
      HttpAnswer answer;
      answer.status = static_cast<int>(response.getStatus());
      answer.body = readBounded(in, kMaxBodyBytes);
      if (answer.body.size() > kMaxBodyBytes) {
        return makeFailure(TransportError::TooLarge, "response body above 1 MiB", secrets,
                           answer.status);
      }
      return answer;
    } catch (...) {
      return detail::failureFromCurrentException(secrets);
    }
  }

  /// The JSON object of a successful answer, or the Failure to report.
  Result<Poco::JSON::Object::Ptr> successObject(const HttpAnswer& answer, Secrets secrets) const {
    if (answer.status < 200 || answer.status > 299) return httpFailure(answer, secrets);
    auto object = detail::parseObject(answer.body);
    if (!object) {
      return makeFailure(TransportError::BadResponse, "response is not a JSON object", secrets,
                         answer.status);
    }
    if (detail::stringField(*object, "error_code").value_or("") == kRateLimitCode) {
      return httpFailure(answer, secrets);
    }
    return object;
  }

  std::string endpoint(const char* name, const std::string& meeting_id) const {
    return path_prefix + "/v1/mmc/control/conferences/" + name +
           "?conferenceID=" + detail::encodeQueryValue(meeting_id);
  }
};

RestClient::RestClient(std::string api_url, TlsOptions tls, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  Poco::URI uri;
  try {
    uri = Poco::URI(api_url);
  } catch (const Poco::Exception&) {
    throw std::invalid_argument("api url is not a valid URL");
  }
  if (uri.getScheme() != "https" || uri.getHost().empty()) {
    throw std::invalid_argument("api url must be https://host[:port][/prefix]");
  }
  impl_->host = uri.getHost();
  impl_->port = uri.getPort();
  impl_->path_prefix = detail::encodePathPrefix(uri.getPath());
  impl_->context = sharedClientContext(tls, impl_->host, ContextUse::Rest);
  impl_->timeout = timeout;
}

RestClient::~RestClient() = default;
RestClient::RestClient(RestClient&&) noexcept = default;
RestClient& RestClient::operator=(RestClient&&) noexcept = default;

Result<ControlToken> RestClient::getControlToken(const std::string& meeting_id,
                                                 const std::string& host_password,
                                                 const std::string& current_token) const {
  const Secrets secrets{host_password, current_token};
  Headers headers{{"X-Password", host_password}, {"X-Login-Type", "1"}};
  if (!current_token.empty()) headers.emplace_back("X-Conference-Authorization", current_token);

  auto answer = impl_->get(impl_->endpoint("token", meeting_id), headers, secrets);
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
  token.token = std::move(*value);
  token.ws_url = std::move(*ws_url);
  token.expire_time_ms = detail::int64Field(*data, "expireTime").value_or(0);
  token.validity_seconds = detail::int64Field(*data, "confTokenExpireTime").value_or(0);
  return token;
}

Result<std::string> RestClient::getWsToken(const std::string& meeting_id,
                                           const std::string& control_token) const {
  const Secrets secrets{control_token};
  const Headers headers{{"X-Conference-Authorization", control_token}};

  auto answer = impl_->get(impl_->endpoint("wsToken", meeting_id), headers, secrets);
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
  return std::move(*ws_token);
}

}  // namespace hme::transport
