#pragma once
/// The two implementations behind protocol::decode (decoder.h), exposed for the differential
/// tests and the benchmarks. Everything else calls decode().

#include <optional>
#include <string_view>

#include "plugin/protocol/decoder.h"

namespace hme::protocol {

/// The reference decoder: a full simdjson DOM parse (grammar, UTF-8 and depth validated before
/// anything is read), then the decoding rules. Handles every frame. Never throws; thread-safe.
Decoded decodeReference(std::string_view frame);

/// The fast path for the frames that dominate ingest (ParticipantsNotify and NetConditionNotify
/// with `data` as an array): one simdjson On-Demand pass that validates every value it passes
/// over and builds the event directly. Returns nullopt whenever the frame is anything but
/// plain — invalid JSON, a rejection, another type, duplicate or padded keys, `action` after
/// `data`, double-encoded `data`, deep nesting, an oversized frame — and decode() then uses
/// decodeReference; when it returns a value, that value equals decodeReference's.
/// Never throws; thread-safe.
std::optional<Decoded> decodeFastPath(std::string_view frame);

}  // namespace hme::protocol
