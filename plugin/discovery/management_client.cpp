#include "plugin/discovery/management_client.h"

#include <Poco/Net/HTTPRequest.h>

#include <istream>
#include <ostream>
#include <stdexcept>
#include <utility>

// The transport's failure mapping and timeout rules are reused so that management calls fail,
// time out and scrub secrets exactly like the token calls do.
#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/http_util.h"
#include "plugin/transport/https_endpoint.h"

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

std::int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool isTokenInvalid(const Failure& failure) {
  return failure.http_status == 401 || failure.error_code == kTokenInvalidCode;
}

struct ManagementClient::Impl {
  transport::detail::HttpsEndpoint endpoint;

  // The body of a successful answer, or the failure to report (also for a 2xx that carries the
  // rate-limit code).
  template <class T, class Parse>
  Answer<T> interpret(transport::Result<transport::detail::HttpAnswer> http, Secrets secrets,
                      const char* what, Parse&& parse) const {
    if (!http) {
      return {http.failure(), std::nullopt};
    }
    const transport::detail::HttpAnswer& answer = http.value();
    std::optional<RateLimit> rate_limit;
    if (answer.rate_limit_header) {
      rate_limit = parseRateLimit(*answer.rate_limit_header);
    }
    if (answer.status < 200 || answer.status > 299 ||
        transport::detail::errorOf(answer.body).first == kRateLimitCode) {
      return {transport::detail::httpFailure(answer, secrets), rate_limit};
    }
    std::optional<T> value = parse(answer.body);
    if (!value) {
      return {makeFailure(TransportError::BadResponse, std::string(what) + " answer is malformed",
                          secrets, answer.status),
              rate_limit};
    }
    return {std::move(*value), rate_limit};
  }
};

ManagementClient::ManagementClient(const std::string& api_url, const transport::TlsOptions& tls,
                                   std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(
          Impl{transport::detail::HttpsEndpoint(api_url, tls, timeout, kMaxBodyBytes)})) {}

ManagementClient::~ManagementClient() = default;

Answer<AccessToken> ManagementClient::login(const std::string& app_id,
                                            const config::Secret& app_key) const {
  const std::int64_t expire_time = unixSeconds() + kSignatureLifetimeSeconds;
  const std::string nonce = newNonce();
  const std::string authorization = appAuthAuthorization(app_id, expire_time, nonce, app_key);
  const Secrets secrets{app_key};
  auto http = impl_->endpoint.call(Poco::Net::HTTPRequest::HTTP_POST, "/v2/usg/acs/auth/appauth",
                                   {{"Authorization", authorization}},
                                   appAuthBody(app_id, expire_time, nonce), secrets);
  return impl_->interpret<AccessToken>(
      std::move(http), secrets, "login",
      [](const std::string& body) { return parseAccessToken(body, unixSeconds()); });
}

Answer<Page> ManagementClient::onlinePage(const config::Secret& token, std::int64_t offset,
                                          std::int64_t limit) const {
  const Secrets secrets{token};
  auto http = impl_->endpoint.call(Poco::Net::HTTPRequest::HTTP_GET, onlineListPath(offset, limit),
                                   {{"X-Access-Token", token.reveal()}}, "", secrets);
  return impl_->interpret<Page>(std::move(http), secrets, "online list", parseOnlinePage);
}

Answer<Page> ManagementClient::webinarPage(const config::Secret& token, std::int64_t offset,
                                           std::int64_t limit) const {
  const Secrets secrets{token};
  auto http = impl_->endpoint.call(Poco::Net::HTTPRequest::HTTP_GET, webinarListPath(offset, limit),
                                   {{"X-Access-Token", token.reveal()}}, "", secrets);
  return impl_->interpret<Page>(std::move(http), secrets, "webinar list", parseWebinarPage);
}

Answer<ListedMeeting> ManagementClient::confDetail(const config::Secret& token,
                                                   const std::string& meeting_id) const {
  const Secrets secrets{token};
  auto http = impl_->endpoint.call(Poco::Net::HTTPRequest::HTTP_GET, confDetailPath(meeting_id),
                                   {{"X-Access-Token", token.reveal()}}, "", secrets);
  return impl_->interpret<ListedMeeting>(std::move(http), secrets, "confDetail", parseConfDetail);
}

}  // namespace hme::discovery
