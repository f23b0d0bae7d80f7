#include "plugin/app/transport_failures.h"

namespace hme::app {

std::string describeFailure(const transport::Failure& failure) {
  std::string text;
  if (failure.http_status != 0) text = "HTTP " + std::to_string(failure.http_status);
  if (!failure.error_code.empty()) text += (text.empty() ? "" : " ") + failure.error_code;
  if (text.empty()) text = transport::toString(failure.error);
  if (failure.detail.empty()) return text;
  // The detail of an HTTP failure already starts with "HTTP <status> <code>": say it once.
  if (failure.detail.rfind(text, 0) == 0) return failure.detail;
  return text + ": " + failure.detail;
}

session::RequestFailure toRequestFailure(const transport::Failure& failure) {
  session::RequestFailure result;
  switch (failure.error) {
    case transport::TransportError::Rejected:
      result.kind = session::FailureKind::Rejected;
      break;
    case transport::TransportError::RateLimited:
      result.kind = session::FailureKind::RateLimited;
      break;
    case transport::TransportError::ServerError:
    case transport::TransportError::BadResponse:
    case transport::TransportError::TooLarge:
      result.kind = session::FailureKind::ServerError;
      break;
    default:
      result.kind = session::FailureKind::Network;
  }
  result.detail = describeFailure(failure);
  return result;
}

}  // namespace hme::app
