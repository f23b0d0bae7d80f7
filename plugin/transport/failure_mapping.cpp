#include "plugin/transport/failure_mapping.h"

#include <Poco/Exception.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/WebSocket.h>

#include <algorithm>
#include <exception>
#include <new>
#include <optional>

#include "plugin/transport/tls.h"

namespace hme::transport::detail {
namespace {

constexpr std::string_view kRateLimitCode = "MMC.100000429";
// Certificate names are peer-supplied: each is cut so a few of them fit in one detail.
constexpr std::size_t kMaxShownNameChars = 64;

}  // namespace

bool repeatsSecret(std::string_view text, Secrets secrets) {
  return std::any_of(secrets.begin(), secrets.end(),
                     [text](const Secret& secret) { return secret.foundIn(text); });
}

std::string scrub(std::string_view text, std::size_t max_chars) {
  std::string out(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = ' ';
  }
  if (out.size() > max_chars) out.resize(max_chars);
  return out;
}

std::string untrustedText(std::string_view text, Secrets secrets, std::size_t max_chars) {
  // Checked on the raw bytes, before sanitizing or truncating could break a secret apart.
  if (repeatsSecret(text, secrets)) return std::string(kWithheld);
  return scrub(text, max_chars);
}

std::string sanitizeErrorCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (out.size() == 40) break;
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (keep) out.push_back(c);
  }
  return out;
}

Failure makeFailure(TransportError error, std::string_view detail, Secrets secrets, int http_status,
                    std::string error_code) {
  Failure failure;
  failure.error = error;
  failure.http_status = http_status;
  failure.error_code = sanitizeErrorCode(error_code);
  failure.detail = untrustedText(detail, secrets, 200);
  return failure;
}

TransportError classifyHttpStatus(int http_status, std::string_view error_code) {
  if (http_status == 429 || error_code == kRateLimitCode) return TransportError::RateLimited;
  if (http_status >= 500 && http_status <= 599) return TransportError::ServerError;
  if (http_status >= 400 && http_status <= 499) return TransportError::Rejected;
  return TransportError::BadResponse;
}

Failure failureFromCurrentException(Secrets secrets) {
  using E = TransportError;
  try {
    throw;
  } catch (const Poco::TimeoutException& e) {
    return makeFailure(E::Timeout, "timed out: " + e.displayText(), secrets);
  } catch (const Poco::Net::ConnectionRefusedException& e) {
    return makeFailure(E::ConnectionRefused, e.displayText(), secrets);
  } catch (const Poco::Net::SSLConnectionUnexpectedlyClosedException& e) {
    return makeFailure(E::Closed, e.displayText(), secrets);
  } catch (const Poco::Net::SSLException& e) {
    return makeFailure(E::Tls, e.displayText(), secrets);
  } catch (const Poco::Net::ConnectionResetException& e) {
    return makeFailure(E::Closed, e.displayText(), secrets);
  } catch (const Poco::Net::ConnectionAbortedException& e) {
    return makeFailure(E::Closed, e.displayText(), secrets);
  } catch (const Poco::Net::NoMessageException& e) {
    return makeFailure(E::Closed, "no response: " + e.displayText(), secrets);
  } catch (const Poco::Net::WebSocketException& e) {
    switch (e.code()) {
      case Poco::Net::WebSocket::WS_ERR_PAYLOAD_TOO_BIG:
        return makeFailure(E::TooLarge, e.displayText(), secrets);
      case Poco::Net::WebSocket::WS_ERR_INCOMPLETE_FRAME:
        return makeFailure(E::Closed, e.displayText(), secrets);
      default:
        return makeFailure(E::ProtocolError, e.displayText(), secrets);
    }
  } catch (const Poco::Net::MessageException& e) {
    return makeFailure(E::BadResponse, "malformed HTTP message: " + e.displayText(), secrets);
  } catch (const Poco::Net::DNSException& e) {
    return makeFailure(E::Io, "cannot resolve host: " + e.displayText(), secrets);
  } catch (const Poco::JSON::JSONException& e) {
    return makeFailure(E::BadResponse, "invalid JSON: " + e.displayText(), secrets);
  } catch (const Poco::SyntaxException& e) {
    return makeFailure(E::BadResponse, "invalid syntax: " + e.displayText(), secrets);
  } catch (const Poco::Exception& e) {
    return makeFailure(E::Io, e.displayText(), secrets);
  } catch (const std::bad_alloc&) {
    return makeFailure(E::TooLarge, "out of memory", secrets);
  } catch (const std::exception& e) {
    return makeFailure(E::Io, e.what(), secrets);
  } catch (...) {
    return makeFailure(E::Io, "unknown error", secrets);
  }
}

Failure explainCertificateRejection(Failure failure, std::string_view checked_name,
                                    std::string_view name_fix) {
  if (failure.error != TransportError::Tls) return failure;
  const std::optional<CertificateRejection> rejection = lastCertificateRejection();
  if (!rejection) return failure;
  if (!rejection->name_mismatch) {
    failure.detail = scrub("certificate verify failed: " + rejection->reason);
    return failure;
  }
  // The hint comes first so that truncating the detail can never cut it off.
  std::string names;
  for (const std::string& name : rejection->names) {
    names += (names.empty() ? "" : ", ") + scrub(name, kMaxShownNameChars);
  }
  if (names.empty()) names = "no host name";
  failure.detail = scrub(std::string(name_fix) + " (the certificate names " + names + ", not " +
                         std::string(checked_name) + ")");
  return failure;
}

}  // namespace hme::transport::detail
