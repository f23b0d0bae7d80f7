#include "plugin/transport/result.h"

namespace hme::transport {

const char* toString(TransportError error) noexcept {
  switch (error) {
    case TransportError::Timeout:
      return "timeout";
    case TransportError::ConnectionRefused:
      return "connection_refused";
    case TransportError::Tls:
      return "tls";
    case TransportError::RateLimited:
      return "rate_limited";
    case TransportError::ServerError:
      return "server_error";
    case TransportError::Rejected:
      return "rejected";
    case TransportError::BadResponse:
      return "bad_response";
    case TransportError::Closed:
      return "closed";
    case TransportError::TooLarge:
      return "too_large";
    case TransportError::ProtocolError:
      return "protocol_error";
    case TransportError::Io:
      return "io";
  }
  return "io";
}

bool Failure::retryable() const noexcept {
  switch (error) {
    case TransportError::Tls:
    case TransportError::Rejected:
    case TransportError::BadResponse:
      return false;
    case TransportError::Timeout:
    case TransportError::ConnectionRefused:
    case TransportError::RateLimited:
    case TransportError::ServerError:
    case TransportError::Closed:
    case TransportError::TooLarge:
    case TransportError::ProtocolError:
    case TransportError::Io:
      return true;
  }
  return true;
}

}  // namespace hme::transport
