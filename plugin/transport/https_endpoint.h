#pragma once
/// Internal to the API clients (transport::RestClient, discovery::ManagementClient): one HTTPS
/// request and its answer against the service's API URL, with the shared TLS context, the timeout
/// rules of http_util.h, a bounded body and failures that never carry a secret. Not public API.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugin/transport/failure_mapping.h"
#include "plugin/transport/result.h"
#include "plugin/transport/tls.h"

namespace hme::transport::detail {

/// Request headers, sent in this order.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// One answer of the service, whatever its status.
struct HttpAnswer {
  int status = 0;
  std::string body;
  /// The API gateway's `X-APIG-Ratelimit-Api` header, when the answer carries it.
  std::optional<std::string> rate_limit_header;
};

/// The API base URL `https://host[:port][/prefix]` and how to reach it. Thread-safe: every call
/// opens its own HTTPS session.
class HttpsEndpoint {
 public:
  /// Throws std::invalid_argument when `api_url` is not an https URL with a host (the message
  /// does not repeat the URL). Answers above `max_body_bytes` fail with TooLarge.
  HttpsEndpoint(const std::string& api_url, const TlsOptions& tls,
                std::chrono::milliseconds timeout, std::size_t max_body_bytes);
  ~HttpsEndpoint();
  HttpsEndpoint(HttpsEndpoint&&) noexcept;
  HttpsEndpoint& operator=(HttpsEndpoint&&) noexcept;

  /// Sends `method` to the URL's path prefix + `path_and_query` with `headers` (and `body` as
  /// JSON when it is not empty). A header value with a line break or another control character
  /// is not sent (Rejected). The whole call, from connecting to the last byte of the body, ends
  /// by `timeout` after it starts (Timeout otherwise, also when the server trickles its answer);
  /// connect and TLS handshake are additionally bounded as in http_util.h. Network, TLS and
  /// timeout problems come back as a Failure whose text never repeats `secrets`; a refused
  /// certificate says why. Never throws except std::bad_alloc.
  Result<HttpAnswer> call(const std::string& method, const std::string& path_and_query,
                          const Headers& headers, const std::string& body, Secrets secrets) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The Failure for an answer the caller refuses (not 2xx, or a 2xx carrying an error code such as
/// the rate limit): "HTTP <status> <error_code>: <error_msg>", the message cut to 100 characters
/// (or withheld whole when it repeats one of `secrets`), classified by status and code.
Failure httpFailure(const HttpAnswer& answer, Secrets secrets);

/// The `error_code` and `error_msg` of an error body; empty strings when absent or not JSON.
std::pair<std::string, std::string> errorOf(const std::string& body);

}  // namespace hme::transport::detail
