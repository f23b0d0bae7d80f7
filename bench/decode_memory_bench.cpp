// Decode memory and time of large snapshots (protocol.md §3: a full ParticipantsNotify lists
// every participant at every (re)connect, and the frame limit is 16 MiB).
//  1. Peak resident memory above the baseline while one ParticipantsNotify of just under
//     16 MiB is decoded (and decoded + reduced), as a multiple of the frame; the frame itself is
//     part of the baseline, as the transport holds it before decoding. The DOM reference path,
//     which decodes every other type and the frames the fast path leaves to it, is shown for the
//     same frame, a large AttendeesNotify and the densest possible frame.
//  2. Time to decode a 10,000-participant snapshot, and to decode and reduce it: as a first
//     snapshot (everyone joins) and as the replay after a reconnect (nothing changes).
// Frames are in the official member order (data first, action last). Prints numbers; never
// passes or fails.

#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "bench/bench_util.h"
#include "bench/frames.h"
#include "metrics/events.h"
#include "metrics/meeting_state.h"
#include "metrics/reduce.h"
#include "plugin/protocol/decode_paths.h"
#include "plugin/protocol/decoder.h"

namespace {

using namespace hme;

// Restarts the kernel's peak-RSS (VmHWM) record at the current RSS.
bool resetPeakRss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return clear_refs.good();
}

struct MemoryUse {
  double peak = 0;      // bytes above the baseline at the highest point
  double retained = 0;  // bytes above the baseline while the result is still held
};

// Runs `work`, which returns what it built (held until both readings are taken).
template <typename Work>
MemoryUse measure(Work work) {
  malloc_trim(0);
  const auto baseline = static_cast<double>(bench::rssBytes());
  if (!resetPeakRss()) {
    std::fprintf(stderr, "cannot reset VmHWM through /proc/self/clear_refs\n");
    std::exit(1);
  }
  auto result = work();
  MemoryUse use;
  use.peak = static_cast<double>(bench::procStatus("VmHWM") * 1024) - baseline;
  malloc_trim(0);  // what is still in use, not what the allocator kept after the decode
  use.retained = static_cast<double>(bench::rssBytes()) - baseline;
  bench::keep(result);
  return use;
}

metrics::ParticipantsUpdate participantsOf(protocol::Decoded decoded) {
  auto* push = std::get_if<protocol::Push>(&decoded.message);
  if (push == nullptr) {
    std::fprintf(stderr, "the snapshot did not decode\n");
    std::exit(1);
  }
  return std::get<metrics::ParticipantsUpdate>(std::move(push->event));
}

void printMemory(const char* what, const MemoryUse& use, std::size_t frame_bytes) {
  const auto frame = static_cast<double>(frame_bytes);
  std::printf("%-44s %10.1f %7.2fx %12.1f %7.2fx\n", what, use.peak / 1048576.0, use.peak / frame,
              use.retained / 1048576.0, use.retained / frame);
}

// A full AttendeesNotify in the official member order, as large as fits in `max_bytes`.
std::string attendeesFrameUpTo(std::size_t max_bytes) {
  const std::string tail =
      R"(],"confID":"900000001","msgID":"5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d","msgMode":0,)"
      R"("version":1611993595058,"createTime":1611993595058,"action":"AttendeesNotify"})";
  std::string frame = R"({"data":[)";
  for (std::uint64_t n = 0;; ++n) {
    const std::string number = std::to_string(n);
    const std::string item = std::string(n == 0 ? "" : ",") + R"({"participantID":")" +
                             bench::pidFor(n) + R"(","userUUID":"ff80808)" + number +
                             R"(","name":"Attendee )" + number + R"(","phone":"+8657100)" + number +
                             R"(","email":"attendee)" + number +
                             R"(@example.com","type":"normal","role":0,"deptName":"Sales"})";
    if (frame.size() + item.size() + tail.size() > max_bytes) break;
    frame += item;
  }
  return frame + tail;
}

// `{"action":"AttendeesNotify","data":[0,0,…]}`: one JSON value per two bytes, the most work
// for a DOM parser per byte of frame.
std::string denseFrameUpTo(std::size_t max_bytes) {
  const std::string head = R"({"action":"AttendeesNotify","data":[0)";
  const std::size_t values = (max_bytes - head.size() - 2) / 2;
  std::string frame = head;
  frame.reserve(max_bytes);
  for (std::size_t i = 1; i < values; ++i) frame += ",0";
  return frame + "]}";
}

metrics::Event eventAt(metrics::ParticipantsUpdate update) {
  return metrics::Event{metrics::TimePoint{}, std::move(update)};
}

}  // namespace

int main() {
  std::printf("decode memory benchmark — %s\n", bench::machineDescription().c_str());
  // Warm up: simdjson's implementation choice and the per-thread buffers of small frames.
  bench::keep(protocol::decode(bench::participantsFrame("900000001", 0, 4)));

  std::size_t count = 0;
  const std::string frame = bench::participantsFrameUpTo("900000001", 16u << 20U, count);
  std::printf(
      "\nsnapshot: %zu bytes (%.2f MiB), %zu participants, official member order, fast "
      "path: %s\n",
      frame.size(), static_cast<double>(frame.size()) / 1048576.0, count,
      protocol::decodeFastPath(frame) ? "yes" : "no");
  std::printf("%-44s %10s %8s %12s %8s\n", "", "peak MiB", "× frame", "held MiB", "× frame");
  printMemory("decode (fast path)", measure([&] { return protocol::decode(frame); }), frame.size());
  const metrics::ReduceOptions options;
  printMemory("decode + reduce into an empty meeting", measure([&] {
                auto state = std::make_unique<metrics::MeetingState>();
                metrics::reduce(*state, eventAt(participantsOf(protocol::decode(frame))), options);
                return state;
              }),
              frame.size());
  printMemory("same frame, DOM reference path",
              measure([&] { return protocol::decodeReference(frame); }), frame.size());
  // Types other than Participants and NetCondition always take the DOM path: a large
  // AttendeesNotify (scheduled invitees), and the densest frame a hostile server could send.
  const std::string attendees = attendeesFrameUpTo(16u << 20U);
  printMemory("AttendeesNotify, 16 MiB (DOM path)",
              measure([&] { return protocol::decode(attendees); }), attendees.size());
  const std::string dense = denseFrameUpTo(16u << 20U);
  printMemory("16 MiB of [0,0,…] (DOM path, rejected)",
              measure([&] { return protocol::decode(dense); }), dense.size());
  std::printf(
      "peak: VmHWM above VmRSS before decoding (the frame already held); held: VmRSS "
      "above it\nafter malloc_trim, while the result (decoded event, or meeting state) is still "
      "alive.\n");

  const std::string ten_thousand = bench::participantsFrame("900000001", 0, 10000);
  std::printf("\n10,000-participant snapshot: %zu bytes (%.2f MiB)\n", ten_thousand.size(),
              static_cast<double>(ten_thousand.size()) / 1048576.0);
  const double decode = bench::bestSecondsPerIteration([&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) bench::keep(protocol::decode(ten_thousand));
  });
  const double first = bench::bestSecondsPerIteration([&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      metrics::MeetingState state;
      metrics::reduce(state, eventAt(participantsOf(protocol::decode(ten_thousand))), options);
      bench::keep(state);
    }
  });
  metrics::MeetingState replayed;
  metrics::reduce(replayed, eventAt(participantsOf(protocol::decode(ten_thousand))), options);
  const double replay = bench::bestSecondsPerIteration([&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      metrics::reduce(replayed, eventAt(participantsOf(protocol::decode(ten_thousand))), options);
    }
  });
  std::printf("%-44s %10.2f ms\n", "decode", decode * 1e3);
  std::printf("%-44s %10.2f ms\n", "decode + reduce, first snapshot (+ free)", first * 1e3);
  std::printf("%-44s %10.2f ms\n", "decode + reduce, replay after reconnect", replay * 1e3);
  std::printf("best of 5 runs, single thread; the meeting ends with %zu participants\n",
              replayed.participants.size());
  return 0;
}
