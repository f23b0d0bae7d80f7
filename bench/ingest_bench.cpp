// Ingest benchmark (issue 6, 1a): frames per second through protocol::decode + reduce (into a
// MeetingStore, as a session thread does), measured next to the raw simdjson On-Demand parse of
// the same frames — a walk that visits every key and value once, the practical upper limit of
// any decoder. Prints numbers and ratios; never passes or fails.

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bench/bench_util.h"
#include "bench/frames.h"
#include "metrics/store.h"
#include "plugin/protocol/decode_paths.h"
#include "plugin/protocol/decoder.h"

namespace {

using namespace hme;

// Visits every value of a document, unescaping strings and parsing numbers: the work any
// decoder must at least do. Returns a checksum so nothing is optimised away.
std::size_t walk(simdjson::ondemand::value value) {
  using simdjson::ondemand::json_type;
  std::size_t sum = 0;
  switch (value.type().value()) {
    case json_type::object:
      for (auto field : value.get_object()) {
        sum += field.unescaped_key().value().size();
        sum += walk(field.value().value());
      }
      break;
    case json_type::array:
      for (auto element : value.get_array()) sum += walk(element.value());
      break;
    case json_type::string:
      sum += value.get_string().value().size();
      break;
    case json_type::number:
      sum += static_cast<std::size_t>(value.get_double().value() != 0);
      break;
    case json_type::boolean:
      sum += value.get_bool().value() ? 1U : 0U;
      break;
    case json_type::null:
      sum += value.is_null() ? 1U : 0U;
      break;
  }
  return sum;
}

// The On-Demand walk of a whole frame.
std::function<void(std::size_t)> simdjsonBody(const std::string& frame) {
  auto parser = std::make_shared<simdjson::ondemand::parser>();
  auto padded = std::make_shared<simdjson::padded_string>(frame);
  return [parser, padded](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto doc = parser->iterate(*padded);
      std::size_t sum = 0;
      for (auto field : doc.get_object()) {
        sum += field.unescaped_key().value().size();
        sum += walk(field.value().value());
      }
      bench::keep(sum);
    }
  };
}

std::function<void(std::size_t)> decodeBody(const std::string& frame) {
  return [frame](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto decoded = protocol::decode(frame);
      bench::keep(decoded);
    }
  };
}

// decode → FrameReceived + the push event → MeetingStore::apply, exactly the events a session
// reports for one frame, moved out of the decoded frame as Session::onFrame does.
std::function<void(std::size_t)> ingestBody(const std::string& frame) {
  auto store = std::make_shared<metrics::MeetingStore>();
  const std::string meeting_id = "900000001";
  store->addMeeting(meeting_id, std::chrono::system_clock::now());
  return [frame, store, meeting_id](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto decoded = protocol::decode(frame);
      const auto at = std::chrono::system_clock::now();
      store->apply(meeting_id,
                   metrics::Event{at, metrics::FrameReceived{std::move(decoded.action)}});
      if (auto* push = std::get_if<protocol::Push>(&decoded.message)) {
        store->apply(meeting_id, metrics::Event{at, std::move(push->event)});
      }
    }
  };
}

}  // namespace

int main() {
  std::printf("ingest benchmark — %s (single thread)\n", bench::machineDescription().c_str());
  // Each frame in the official member order (data first, action last) and envelope first: the
  // decoder must take its fast path for both.
  std::vector<std::pair<std::string, std::string>> frames;
  for (const auto order : {bench::MemberOrder::Official, bench::MemberOrder::ActionFirst}) {
    const std::string suffix =
        order == bench::MemberOrder::Official ? " (official)" : " (action 1st)";
    frames.emplace_back("Participants, 4" + suffix,
                        bench::participantsFrame("900000001", 0, 4, order));
    frames.emplace_back("Participants, 20" + suffix,
                        bench::participantsFrame("900000001", 0, 20, order));
    frames.emplace_back("NetCondition, 4" + suffix,
                        bench::netConditionFrame("900000001", 0, 4, order));
  }
  std::printf("%-38s %7s %13s %13s %13s %9s %9s %5s\n", "frame", "bytes", "simdjson/s", "decode/s",
              "ingest/s", "ingest %", "MB/s in", "fast");
  for (const auto& [name, frame] : frames) {
    const auto best =
        bench::bestSecondsInterleaved({simdjsonBody(frame), decodeBody(frame), ingestBody(frame)});
    const double limit = 1.0 / best[0];
    const double decode = 1.0 / best[1];
    const double ingest = 1.0 / best[2];
    std::printf("%-38s %7zu %13.0f %13.0f %13.0f %8.1f%% %9.1f %5s\n", name.c_str(), frame.size(),
                limit, decode, ingest, 100.0 * ingest / limit,
                ingest * static_cast<double>(frame.size()) / 1e6,
                protocol::decodeFastPath(frame) ? "yes" : "no");
  }
  std::printf(
      "simdjson/s: On-Demand walk of every key and value (the limit); decode/s: "
      "protocol::decode alone;\ningest/s: decode + MeetingStore::apply of the frame's "
      "events; ingest %%: ingest/s as a share of simdjson/s;\nfast: decode takes the On-Demand "
      "fast path (decode_paths.h) for this frame\n");
  return 0;
}
