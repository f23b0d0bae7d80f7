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
/// plain — invalid JSON, a rejection, another type, duplicate or padded keys, double-encoded
/// `data`, deep nesting — and decode() then uses decodeReference; when it returns a value, that
/// value equals decodeReference's. Members may come in any order (official frames put `data`
/// first and `action` last). Working memory: one padded copy of the frame, simdjson's
/// structural index and the unescaped strings it reads; a frame above 256 KiB gets buffers of
/// its own that are freed afterwards. Never throws; thread-safe.
std::optional<Decoded> decodeFastPath(std::string_view frame);

}  // namespace hme::protocol
