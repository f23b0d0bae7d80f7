#pragma once
/// Pure codec for client → server frames (spec/protocol.md §3). No sockets, no clocks: the
/// caller supplies the time and the token.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "secret/secret.h"

namespace hme::protocol {

/// The `sequence` of a client frame: `unix_ms` in decimal, zero-padded to 30 digits
/// (`000000000000000001611993655770`). Negative input is clamped to 0. Never throws except
/// std::bad_alloc; thread-safe.
std::string makeSequence(std::int64_t unix_ms);

/// A Subscribe frame for push `types`:
/// `{"action":"Subscribe","sequence":…,"data":"{\"subscribeType\":[…],\"confToken\":\"Basic …\",
/// \"conferenceID\":…}"}` with `data` serialised into a string (double-encoded) and `confToken`
/// = "Basic " + Base64(`control_token`). `conferenceID` is left out when `meeting_id` is empty.
/// The control token's text is taken here, for the frame: the result contains it, never log it.
/// Never throws except std::bad_alloc; thread-safe.
std::string encodeSubscribe(const std::vector<std::string>& types, const Secret& control_token,
                            std::string_view sequence, std::string_view meeting_id);

/// A HeartBeat frame: `{"action":"HeartBeat","sequence":…}`. The server echoes it unchanged.
/// Never throws except std::bad_alloc; thread-safe.
std::string encodeHeartbeat(std::string_view sequence);

}  // namespace hme::protocol
