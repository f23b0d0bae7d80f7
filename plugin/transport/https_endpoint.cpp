#include "plugin/transport/https_endpoint.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>

#include <istream>
#include <ostream>
#include <stdexcept>

#include "plugin/transport/call_deadline.h"
#include "plugin/transport/http_util.h"

namespace hme::transport::detail {
namespace {

constexpr const char* kRateLimitHeader = "X-APIG-Ratelimit-Api";

/// True if `value` can be sent as a header value unchanged (no CR, LF or other control byte).
bool isSafeHeaderValue(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
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

// HTTPSession::socket() is protected; the call deadline needs the descriptor.
class ApiSession : public Poco::Net::HTTPSClientSession {
 public:
  using HTTPSClientSession::HTTPSClientSession;
  int descriptor() { return socket().impl()->sockfd(); }
};

}  // namespace

struct HttpsEndpoint::Impl {
  std::string host;
  unsigned short port = 443;
  std::string path_prefix;
  Poco::Net::Context::Ptr context;
  std::chrono::milliseconds timeout{0};
  std::size_t max_body_bytes = 0;
};

HttpsEndpoint::HttpsEndpoint(const std::string& api_url, const TlsOptions& tls,
                             std::chrono::milliseconds timeout, std::size_t max_body_bytes)
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
  impl_->path_prefix = encodePathPrefix(uri.getPath());
  impl_->context = sharedClientContext(tls, impl_->host, ContextUse::Rest);
  impl_->timeout = timeout;
  impl_->max_body_bytes = max_body_bytes;
}

HttpsEndpoint::~HttpsEndpoint() = default;
HttpsEndpoint::HttpsEndpoint(HttpsEndpoint&&) noexcept = default;
HttpsEndpoint& HttpsEndpoint::operator=(HttpsEndpoint&&) noexcept = default;

Result<HttpAnswer> HttpsEndpoint::call(const std::string& method, const std::string& path_and_query,
                                       const Headers& headers, const std::string& body,
                                       Secrets secrets) const {
  for (const auto& [name, value] : headers) {
    if (!isSafeHeaderValue(value)) {
      return makeFailure(TransportError::Rejected,
                         name + " contains a line break or control character (not sent)", secrets);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
  clearCertificateRejection();
  try {
    ApiSession session(impl_->host, impl_->port, impl_->context);
    applyTimeout(session, impl_->timeout);
    Poco::Net::HTTPRequest request(method, impl_->path_prefix + path_and_query,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Accept", "application/json");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty()) {
      request.setContentType("application/json; charset=UTF-8");
      request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    }
    // Connects (TCP and TLS, each bounded by the socket timeouts) and sends the headers. From
    // here on the whole exchange must end by the deadline, however slowly the server answers.
    std::ostream& out = session.sendRequest(request);
    CallDeadline watch(session.descriptor(), deadline);
    const auto overall_timeout = [&] {
      return makeFailure(TransportError::Timeout,
                         "answer not complete within " + std::to_string(impl_->timeout.count()) +
                             " ms (api.timeout, for the whole call including the body)",
                         secrets);
    };
    try {
      out << body;
      Poco::Net::HTTPResponse response;
      std::istream& in = session.receiveResponse(response);
      // Poco's stream buffers report network errors by setting badbit; rethrow them instead.
      in.exceptions(std::ios::badbit);
      HttpAnswer answer;
      answer.status = static_cast<int>(response.getStatus());
      if (response.has(kRateLimitHeader)) {
        answer.rate_limit_header = response.get(kRateLimitHeader);
      }
      answer.body = readBounded(in, impl_->max_body_bytes);
      // A socket shut down at the deadline may look like a short body: never trust it.
      if (watch.disarm()) return overall_timeout();
      if (answer.body.size() > impl_->max_body_bytes) {
        return makeFailure(
            TransportError::TooLarge,
            "response body above " + std::to_string(impl_->max_body_bytes >> 20) + " MiB", secrets,
            answer.status);
      }
      return answer;
    } catch (...) {
      if (watch.disarm()) return overall_timeout();
      throw;
    }
  } catch (...) {
    return explainCertificateRejection(failureFromCurrentException(secrets), impl_->host,
                                       "certificate name mismatch: api.url must use a host name "
                                       "the API host's certificate holds");
  }
}

std::pair<std::string, std::string> errorOf(const std::string& body) {
  const auto object = parseObject(body);
  if (!object) return {};
  return {stringField(*object, "error_code").value_or(""),
          stringField(*object, "error_msg").value_or("")};
}

Failure httpFailure(const HttpAnswer& answer, Secrets secrets) {
  auto [code, message] = errorOf(answer.body);
  code = sanitizeErrorCode(code);
  std::string text = "HTTP " + std::to_string(answer.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + untrustedText(message, secrets, 100);
  return makeFailure(classifyHttpStatus(answer.status, code), text, secrets, answer.status, code);
}

}  // namespace hme::transport::detail
