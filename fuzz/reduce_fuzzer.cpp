// libFuzzer target: sequences of frames through decode → reduce (via the MeetingStore) → render
// (Collector::renderText, checked against Collect() + TextSerializer), as a meeting's session
// thread and a scrape would run them.
//
// Input format (so that every single-frame seed is also a valid input):
//   [mode byte 0xF0..0xFF]? frame ( '\0' frame )*
// The optional mode byte (never the first byte of a JSON text) selects, in its low bits: the
// list bound (bits 0-1: 100000, 1, 3 or 8 entries; small bounds exercise
// ReduceOptions::max_list_entries), whether names are kept and rendered (bit 2) and whether the
// state is rendered at all (bit 3). Rendering the whole catalogue costs more than decoding and
// reducing a handful of frames, so inputs without the bit only decode and reduce: the search
// stays fast and still reaches the renderer through the inputs that ask for it.
// A frame of exactly one byte 0x01..0x06 is a session event instead of a text frame
// (subscribed, disconnected, ended, connect failure, heartbeat answered, backoff), so the
// replay rules after a re-subscribe are exercised too. Frames after the 16th are ignored: every
// rejected frame costs a C++ exception, and hundreds of tiny garbage frames per input would slow
// the search down a hundredfold without reaching new code.
//
// Checked after every input: joins − leaves equals the participants held; every list respects
// its bound; a rendered exposition (Collector::renderText, the /metrics path) equals
// prometheus-cpp's TextSerializer output for Collect(), is valid UTF-8 and has no control
// characters other than '\n'.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz/check.h"
#include "metrics/collector.h"
#include "metrics/events.h"
#include "metrics/store.h"
#include "plugin/protocol/decoder.h"

namespace {

namespace m = hme::metrics;
using hme::fuzz::require;

const std::string kMeetingId = "988712345";
constexpr int kMaxFrames = 16;

m::EventBody sessionEvent(unsigned char code) {
  switch (code) {
    case 1:
      return m::Subscribed{};
    case 2:
      return m::Disconnected{m::DisconnectReason::ServerClosed, "close 1000"};
    case 3:
      return m::SessionStateChanged{m::SessionState::Ended, false};
    case 4:
      return m::ConnectFailed{m::ConnectStage::Subscribe, "returnCode 1"};
    case 5:
      return m::HeartbeatAnswered{0.25};
    default:
      return m::SessionStateChanged{m::SessionState::Backoff, false};
  }
}

// The events a session reports for one decoded frame (plugin/session: FrameReceived for an
// accepted frame, then the push itself; FrameRejected for a rejection).
void applyFrame(m::MeetingStore& store, std::string_view frame, m::TimePoint at) {
  const hme::protocol::Decoded decoded = hme::protocol::decode(frame);
  if (const auto* rejection = std::get_if<hme::protocol::Rejection>(&decoded.message)) {
    store.apply(kMeetingId, m::Event{at, m::FrameRejected{rejection->reason}});
    return;
  }
  store.apply(kMeetingId, m::Event{at, m::FrameReceived{decoded.action}});
  if (const auto* push = std::get_if<hme::protocol::Push>(&decoded.message)) {
    store.apply(kMeetingId, m::Event{at, push->event});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  m::ReduceOptions reduce_options;
  m::RenderOptions render_options;
  bool render = false;
  if (!input.empty() && static_cast<unsigned char>(input.front()) >= 0xF0) {
    const auto mode = static_cast<unsigned char>(input.front());
    constexpr std::size_t kBounds[] = {100000, 1, 3, 8};
    reduce_options.max_list_entries = kBounds[mode & 0x03U];
    reduce_options.keep_participant_names = (mode & 0x04U) != 0;
    render = (mode & 0x08U) != 0;
    render_options.participant_names = reduce_options.keep_participant_names;
    render_options.max_participants_per_meeting = 2;
    input.remove_prefix(1);
  }
  const m::TimePoint start{std::chrono::seconds(1702459160)};
  render_options.now = [start] { return start + std::chrono::hours(1); };

  auto store = std::make_shared<m::MeetingStore>(reduce_options);
  store->addMeeting(kMeetingId, start);
  m::TimePoint at = start;
  for (int frames = 0; frames < kMaxFrames; ++frames) {
    const std::size_t end = input.find('\0');
    const std::string_view frame = input.substr(0, end);
    at += std::chrono::seconds(1);
    if (frame.size() == 1 && frame.front() >= 1 && frame.front() <= 6) {
      store->apply(kMeetingId, m::Event{at, sessionEvent(static_cast<unsigned char>(frame[0]))});
    } else {
      applyFrame(*store, frame, at);
    }
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }

  store->visit(kMeetingId, [&](const m::MeetingState& state) {
    const auto& counters = state.counters;
    require(counters.participant_joins >= counters.participant_leaves, "leaves never exceed joins");
    require(counters.participant_joins - counters.participant_leaves == state.participants.size(),
            "joins - leaves == participants held");
    const std::size_t bound = reduce_options.max_list_entries;
    require(state.participants.size() <= bound, "participants bounded");
    require(state.net.size() <= bound, "network figures bounded");
    require(state.attendees.size() <= bound, "attendees bounded");
    require(state.waiting_room.size() <= bound, "waiting room bounded");
    require(state.interpreter_groups.size() <= bound, "interpreter groups bounded");
    require(state.speakers.size() <= bound, "speakers bounded");
  });

  if (!render) return 0;
  const m::Collector collector(store, "0.0.0-fuzz", "fuzz", render_options);
  // The /metrics path writes the text directly; it must equal prometheus-cpp's serialisation of
  // the same families byte for byte.
  const std::string text = collector.renderText();
  require(text == m::renderText(collector.Collect()), "direct renderer matches TextSerializer");
  require(hme::fuzz::validUtf8(text), "exposition is valid UTF-8");
  require(hme::fuzz::noControlCharacters(text), "no control characters");
  return 0;
}
