// libFuzzer target: protocol::decode on arbitrary bytes. Besides crashes, leaks and undefined
// behaviour (the build adds ASan and UBSan) it checks the decoder's contract: a rejection has
// no action, an accepted frame has exactly one bounded label value, and the shape description
// meant for a log line is short and printable.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz/check.h"
#include "metrics/meeting_state.h"
#include "plugin/protocol/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hme::fuzz::require;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const hme::protocol::Decoded decoded = hme::protocol::decode(frame);

  if (const auto* rejection = std::get_if<hme::protocol::Rejection>(&decoded.message)) {
    require(decoded.action.empty(), "a rejected frame has no action");
    require(!decoded.unrecognized_shape.has_value(), "a rejected frame has no shape");
    require(rejection->detail.size() <= 200, "rejection detail is short");
  } else {
    // The action is a label value: one of the bounded set, never frame text.
    const auto index = hme::metrics::messageActionIndex(decoded.action);
    require(index < hme::metrics::kMessageActions.size(), "action index in range");
    require(decoded.action == hme::metrics::kMessageActions[index], "action is a known label");
  }
  if (decoded.unrecognized_shape) {
    const std::string& shape = *decoded.unrecognized_shape;
    require(shape.size() <= 403, "shape description is bounded");
    for (const char c : shape) {
      require(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F,
              "shape description is printable ASCII");
    }
  }
  return 0;
}
