#pragma once
/// Pure codec for server → client frames: text in, typed message out. No sockets, no clocks.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "metrics/events.h"

namespace hme::protocol {

/// The server's answer to our Subscribe frame.
struct SubscribeReply {
  std::string sequence;
  int return_code = -1;
  std::string return_desc;
};

/// The server's echo of one of our HeartBeat frames.
struct HeartbeatEcho {
  std::string sequence;
};

/// A push that changes meeting state (a metrics::EventBody alternative from the "message events"
/// group: ConfBasicInfo … CountedOnly).
struct Push {
  metrics::EventBody event;
};

/// A frame that was not accepted, with the label of huawei_meeting_message_errors_total.
struct Rejection {
  metrics::RejectReason reason = metrics::RejectReason::InvalidJson;
  std::string detail;  ///< short, for a rate-limited log line; never contains frame content
};

/// What one text frame decoded to.
struct Decoded {
  /// Label for huawei_meeting_messages_total: a known push type, `HeartBeat`, `Subscribe` or
  /// `unknown`. Empty when the frame was rejected.
  std::string action;
  std::variant<SubscribeReply, HeartbeatEcho, Push, Rejection> message;
  /// Set for a NetworkQualityNotify whose shape was not understood, or an unknown action: a
  /// description of the frame's shape (key names and JSON types only, no values) to log once.
  std::optional<std::string> unrecognized_shape;
};

/// Decodes one text frame. Never throws: bad input yields a `Rejection`.
/// Thread-safe (no shared state).
Decoded decode(std::string_view frame);

}  // namespace hme::protocol
