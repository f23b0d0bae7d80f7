#include "plugin/discovery/management_client.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>

#include <istream>
#include <ostream>
#include <stdexcept>
#include <utility>

// The transport's failure mapping and timeout rules are reused so that management calls fail,
// time out and scrub secrets exactly like the token calls do.
#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/http_util.h"

namespace hme::discovery {
namespace {

using transport::Failure;
using transport::TransportError;
using transport::detail::makeFailure;
using transport::detail::Secrets;

constexpr std::size_t kMaxBodyBytes = std::size_t{8} << 20;
constexpr std::string_view kRateLimitCode = "MMC.100000429";
constexpr std::string_view kTokenInvalidCode = "USG.000000004";
constexpr std::int64_t kSignatureLifetimeSeconds = 600;

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::optional<RateLimit> rate_limit;
};

std::string readBounded(std::istream& in, std::size_t limit) {
  std::string body;
  char chunk[8192];
  while (body.size() <= limit && in) {
    in.read(chunk, sizeof chunk);
    body.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  return body;
}

std::int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The error code and message of an error body, if it is one.
std::pair<std::string, std::string> errorOf(const std::string& body) {
  const auto object = transport::detail::parseObject(body);
  if (!object) {
    return {};
  }
  return {transport::detail::stringField(*object, "error_code").value_or(""),
          transport::detail::stringField(*object, "error_msg").value_or("")};
}

Failure httpFailure(const HttpAnswer& answer, Secrets secrets) {
  auto [code, message] = errorOf(answer.body);
  code = transport::detail::sanitizeErrorCode(code);
  std::string text = "HTTP " + std::to_string(answer.status);
  if (!code.empty()) {
    text += " " + code;
  }
  if (!message.empty()) {
    text += ": " + transport::detail::scrub(message, secrets, 100);
  }
  return makeFailure(transport::detail::classifyHttpStatus(answer.status, code), text, secrets,
                     answer.status, code);
}

}  // namespace

bool isTokenInvalid(const Failure& failure) {
  return failure.http_status == 401 || failure.error_code == kTokenInvalidCode;
}

struct ManagementClient::Impl {
  std::string host;
  unsigned short port = 443;
  std::string path_prefix;
  Poco::Net::Context::Ptr context;
  std::chrono::milliseconds timeout{0};

  transport::Result<HttpAnswer> call(
      const std::string& method, const std::string& path_and_query,
      const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
      Secrets secrets) const {
    try {
      Poco::Net::HTTPSClientSession session(host, port, context);
      transport::detail::applyTimeout(session, timeout);
      Poco::Net::HTTPRequest request(method, path_prefix + path_and_query,
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.set("Accept", "application/json");
      for (const auto& [name, value] : headers) {
        request.set(name, value);
      }
      if (!body.empty()) {
        request.setContentType("application/json; charset=UTF-8");
        request.setContentLength64(static_cast<Poco::Int64>(body.size()));
      }
      std::ostream& out = session.sendRequest(request);
      out << body;
      Poco::Net::HTTPResponse response;
      std::istream& in = session.receiveResponse(response);
      in.exceptions(std::ios::badbit);
      HttpAnswer answer;
      answer.status = static_cast<int>(response.getStatus());
      if (response.has("X-APIG-Ratelimit-Api")) {
        answer.rate_limit = parseRateLimit(response.get("X-APIG-Ratelimit-Api"));
      }
      answer.body = readBounded(in, kMaxBodyBytes);
      if (answer.body.size() > kMaxBodyBytes) {
        return makeFailure(TransportError::TooLarge, "response body above 8 MiB", secrets,
                           answer.status);
      }
      return answer;
    } catch (...) {
      return transport::detail::failureFromCurrentException(secrets);
    }
  }

  // The body of a successful answer, or the failure to report (also for a 2xx that carries the
  // rate-limit code).
  template <class T, class Parse>
  Answer<T> interpret(transport::Result<HttpAnswer> http, Secrets secrets, const char* what,
                      Parse&& parse) const {
    if (!http) {
      return {http.failure(), std::nullopt};
    }
    const HttpAnswer& answer = http.value();
    if (answer.status < 200 || answer.status > 299 ||
        errorOf(answer.body).first == kRateLimitCode) {
      return {httpFailure(answer, secrets), answer.rate_limit};
    }
    std::optional<T> value = parse(answer.body);
    if (!value) {
      return {makeFailure(TransportError::BadResponse, std::string(what) + " answer is malformed",
                          secrets, answer.status),
              answer.rate_limit};
    }
    return {std::move(*value), answer.rate_limit};
  }
};

ManagementClient::ManagementClient(const std::string& api_url, const transport::TlsOptions& tls,
                                   std::chrono::milliseconds timeout)
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
  impl_->path_prefix = transport::detail::encodePathPrefix(uri.getPath());
  impl_->context = transport::sharedClientContext(tls, impl_->host, transport::ContextUse::Rest);
  impl_->timeout = timeout;
}

ManagementClient::~ManagementClient() = default;

Answer<AccessToken> ManagementClient::login(const std::string& app_id,
                                            const config::Secret& app_key) const {
  const std::int64_t expire_time = unixSeconds() + kSignatureLifetimeSeconds;
  const std::string nonce = newNonce();
  const std::string authorization = appAuthAuthorization(app_id, expire_time, nonce, app_key);
  const Secrets secrets{app_key.value()};
  auto http = impl_->call(Poco::Net::HTTPRequest::HTTP_POST, "/v2/usg/acs/auth/appauth",
                          {{"Authorization", authorization}},
                          appAuthBody(app_id, expire_time, nonce), secrets);
  return impl_->interpret<AccessToken>(
      std::move(http), secrets, "login",
      [](const std::string& body) { return parseAccessToken(body, unixSeconds()); });
}

Answer<Page> ManagementClient::onlinePage(const config::Secret& token, std::int64_t offset,
                                          std::int64_t limit) const {
  const Secrets secrets{token.value()};
  auto http = impl_->call(Poco::Net::HTTPRequest::HTTP_GET, onlineListPath(offset, limit),
                          {{"X-Access-Token", token.value()}}, "", secrets);
  return impl_->interpret<Page>(std::move(http), secrets, "online list", parseOnlinePage);
}

Answer<Page> ManagementClient::webinarPage(const config::Secret& token, std::int64_t offset,
                                           std::int64_t limit) const {
  const Secrets secrets{token.value()};
  auto http = impl_->call(Poco::Net::HTTPRequest::HTTP_GET, webinarListPath(offset, limit),
                          {{"X-Access-Token", token.value()}}, "", secrets);
  return impl_->interpret<Page>(std::move(http), secrets, "webinar list", parseWebinarPage);
}

Answer<ListedMeeting> ManagementClient::confDetail(const config::Secret& token,
                                                   const std::string& meeting_id) const {
  const Secrets secrets{token.value()};
  auto http = impl_->call(Poco::Net::HTTPRequest::HTTP_GET, confDetailPath(meeting_id),
                          {{"X-Access-Token", token.value()}}, "", secrets);
  return impl_->interpret<ListedMeeting>(std::move(http), secrets, "confDetail", parseConfDetail);
}

}  // namespace hme::discovery
