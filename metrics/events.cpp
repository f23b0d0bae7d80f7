#include "metrics/events.h"

namespace hme::metrics {

const char* toLabel(SessionState state) {
  switch (state) {
    case SessionState::Waiting:
      return "waiting";
    case SessionState::Connecting:
      return "connecting";
    case SessionState::Subscribed:
      return "subscribed";
    case SessionState::Backoff:
      return "backoff";
    case SessionState::Ended:
      return "ended";
  }
  return "unknown";
}

const char* toLabel(ConnectStage stage) {
  switch (stage) {
    case ConnectStage::ControlToken:
      return "control_token";
    case ConnectStage::WsToken:
      return "ws_token";
    case ConnectStage::Handshake:
      return "handshake";
    case ConnectStage::Subscribe:
      return "subscribe";
  }
  return "unknown";
}

const char* toLabel(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::ServerClosed:
      return "server_closed";
    case DisconnectReason::HeartbeatTimeout:
      return "heartbeat_timeout";
    case DisconnectReason::Error:
      return "error";
    case DisconnectReason::MeetingEnded:
      return "meeting_ended";
    case DisconnectReason::IncompleteMessage:
      return "incomplete_message";
  }
  return "unknown";
}

const char* toLabel(RejectReason reason) {
  switch (reason) {
    case RejectReason::InvalidJson:
      return "invalid_json";
    case RejectReason::InvalidMessage:
      return "invalid_message";
    case RejectReason::TooLarge:
      return "too_large";
    case RejectReason::BinaryFrame:
      return "binary_frame";
  }
  return "unknown";
}

}  // namespace hme::metrics
