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
///
/// Values are kept in wire units. Tolerated (spec/protocol.md §6): whitespace around keys at
/// every level; numbers sent as strings and strings sent as numbers (an empty string is "no
/// value"); `data` double-encoded as a JSON string; `msgMode` or item `mode` absent (= full,
/// = upsert); `resultCode`/`errorCode`, `CLIENT_LOGIN_TYPE`/`CLICENT_LOGIN_TYPE`; ConfBasicInfo,
/// ConfDynamicInfo and CustomMultiPic fields at the top level or under a `data` object; no
/// `data` in SpeakerChangeNotify (nobody speaking); unknown fields.
/// Rejected as `InvalidJson`: text that is not a JSON object (incl. invalid UTF-8, nesting deeper
/// than 64, numbers beyond 64 bits). Rejected as `InvalidMessage`: no string `action`; a
/// Subscribe reply without `returnCode` (in `data` or at the top level), a HeartBeat without
/// `sequence`; a known push type whose payload cannot be applied — a field the event carries has
/// the wrong type or range, `msgMode`/`mode` is neither 0 nor 1, a list type has no `data` array,
/// or a list item is not an object or lacks its id. One bad item rejects the whole frame, so state
/// is never half-applied. A NetworkQualityNotify (payload undocumented) is never rejected: what
/// does not map like NetConditionNotify is counted with `unrecognized_shape`.
Decoded decode(std::string_view frame);

}  // namespace hme::protocol
