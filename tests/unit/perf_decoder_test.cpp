// The decoder's two paths (plugin/protocol/decode_paths.h): whenever the On-Demand fast path
// accepts a frame, its result must equal the DOM reference path's, field by field. Checked over
// every fixture, deterministic mutations of them, and frames built to hit each bail-out rule.

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "bench/frames.h"
#include "plugin/protocol/decode_paths.h"
#include "plugin/protocol/decoder.h"

namespace {

namespace m = hme::metrics;
using hme::protocol::decode;
using hme::protocol::Decoded;
using hme::protocol::decodeFastPath;
using hme::protocol::decodeReference;

std::filesystem::path framesDir() { return std::filesystem::path(HME_TESTDATA_DIR) / "frames"; }

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename T>
void put(std::ostream& out, const char* name, const std::optional<T>& value) {
  out << name << '=';
  if (value) {
    out << *value;
  } else {
    out << "unset";
  }
  out << ';';
}

void put(std::ostream& out, const char* name, const std::optional<m::ClientType>& value) {
  out << name << '=' << (value ? static_cast<int>(*value) : -1) << ';';
}

// Every field the fast path can produce, in a canonical text form.
std::string dump(const Decoded& decoded) {
  std::ostringstream out;
  out.precision(17);
  out << "action=" << decoded.action << ";index=" << decoded.message.index()
      << ";shape=" << decoded.unrecognized_shape.value_or("-") << '\n';
  if (const auto* rejection = std::get_if<hme::protocol::Rejection>(&decoded.message)) {
    out << "rejected " << m::toLabel(rejection->reason) << ' ' << rejection->detail << '\n';
  }
  const auto* push = std::get_if<hme::protocol::Push>(&decoded.message);
  if (push == nullptr) return out.str();
  out << "event=" << push->event.index() << '\n';
  if (const auto* update = std::get_if<m::ParticipantsUpdate>(&push->event)) {
    out << "full=" << update->full << '\n';
    for (const auto& item : update->items) {
      const auto& f = item.fields;
      out << item.pid << ' ' << static_cast<int>(item.mode) << ' ';
      put(out, "name", f.name);
      put(out, "role", f.role);
      put(out, "state", f.state);
      put(out, "muted", f.muted);
      put(out, "video", f.video);
      put(out, "hand", f.hand_raised);
      put(out, "sharing", f.sharing);
      put(out, "cohost", f.is_cohost);
      put(out, "client", f.client);
      out << '\n';
    }
  } else if (const auto* net = std::get_if<m::NetConditionUpdate>(&push->event)) {
    out << "full=" << net->full << '\n';
    for (const auto& item : net->items) {
      const auto& f = item.figures;
      out << item.pid << ' ' << static_cast<int>(item.mode) << ' ';
      put(out, "info", f.net_info);
      for (const auto* figure :
           {&f.delay_ms, &f.jitter_up_ms, &f.jitter_down_ms, &f.audio_loss_up, &f.audio_loss_down,
            &f.video_loss_up, &f.video_loss_down, &f.screen_loss_up, &f.screen_loss_down,
            &f.audio_flux_up, &f.audio_flux_down, &f.video_flux_up, &f.video_flux_down,
            &f.screen_flux_up, &f.screen_flux_down}) {
        put(out, "f", *figure);
      }
      out << '\n';
    }
  } else {
    out << "other event\n";
  }
  return out.str();
}

// Checks the contract of decodeFastPath for one frame; returns whether the fast path took it.
bool checkPaths(const std::string& frame) {
  const Decoded reference = decodeReference(frame);
  const auto fast = decodeFastPath(frame);
  BOOST_TEST(dump(decode(frame)) == dump(reference));
  if (!fast) return false;
  BOOST_TEST(dump(*fast) == dump(reference));
  return true;
}

const std::string kPid = "3j7oh261teueeqx6la7t0pq2g6e9vpyj";

std::string participants(const std::string& items, const std::string& head = "") {
  return R"({"action":"ParticipantsNotify",)" + head + R"("msgMode":1,"data":[)" + items + "]}";
}

std::string participant(const std::string& pinfo, const std::string& extra = "") {
  return R"({"pid":")" + kPid + R"(","mode":0,)" + extra + R"("pinfoMap":{)" + pinfo + "}}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(perf_decoder)

BOOST_AUTO_TEST_CASE(fast_path_matches_the_reference_on_every_fixture) {
  std::size_t fast = 0;
  std::size_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(framesDir())) {
    BOOST_TEST_CONTEXT(entry.path().filename().string()) {
      fast += checkPaths(readFile(entry.path())) ? 1U : 0U;
      ++total;
    }
  }
  BOOST_TEST(total >= 50u);
  // The plain Participants and NetCondition fixtures (full and incremental) take the fast path.
  BOOST_TEST(fast >= 4u);
}

BOOST_AUTO_TEST_CASE(fast_path_matches_the_reference_on_mutated_fixtures) {
  std::uint32_t state = 4242;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(framesDir())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("ParticipantsNotify", 0) != 0 && name.rfind("NetCondition", 0) != 0 &&
        name.rfind("quirk-", 0) != 0) {
      continue;
    }
    const std::string text = readFile(entry.path());
    for (int i = 0; i < 60; ++i) {
      std::string mutated = text;
      if (i % 3 == 0) {
        mutated.resize(next() % text.size());
      } else {
        // Flip bytes to characters that keep the frame close to valid JSON.
        static const char kBytes[] = "0123456789\" ,:{}[]-.enulltrue\\ \t";
        for (int flips = 0; flips < 1 + i % 3; ++flips) {
          mutated[next() % mutated.size()] = kBytes[next() % (sizeof kBytes - 1)];
        }
      }
      BOOST_TEST_CONTEXT(name << " mutation " << i) { checkPaths(mutated); }
      ++checked;
    }
  }
  BOOST_TEST(checked > 500u);
}

BOOST_AUTO_TEST_CASE(fast_path_takes_plain_frames_and_leaves_the_rest) {
  // Plain frames: the fast path decodes them.
  BOOST_TEST(checkPaths(participants(participant(R"("MUTE":"1","ROLE":"0")"))));
  BOOST_TEST(checkPaths(participants(participant(R"("MUTE":1,"HAND":true,"NAME":12)"))));
  BOOST_TEST(checkPaths(participants(participant(R"("CLICENT_LOGIN_TYPE":"pad")"))));
  BOOST_TEST(checkPaths(participants(R"({"pid":")" + kPid + R"(","mode":1})")));
  BOOST_TEST(checkPaths(participants(R"({"pid":")" + kPid + R"(","pinfoMap":null})")));
  BOOST_TEST(checkPaths(
      participants(participant(R"("MUTE":"1")", R"("extra":{"x":[1,2.5,"s",null,false]},)"))));
  BOOST_TEST(checkPaths(R"({"action":"NetConditionNotify","data":[{"participantID":")" + kPid +
                        R"(","delay":"37","jitter":4,"netInfo":"good","bandwidth":{"x":1}}]})"));
  BOOST_TEST(checkPaths(R"({"action":"NetConditionNotify","msgMode":0,"data":[{"participantID":"",)"
                        R"("pid":")" +
                        kPid + R"(","delay":""}]})"));

  // The official member order (data first, action last), and other orders.
  BOOST_TEST(checkPaths(R"({"data":[],"action":"ParticipantsNotify"})"));
  BOOST_TEST(
      checkPaths(R"({"data":[{"pid":")" + kPid +
                 R"(","mode":0}],"confID":"1","msgMode":1,"action":" ParticipantsNotify "})"));
  BOOST_TEST(checkPaths(R"({"msgMode":0,"data":[{"participantID":")" + kPid +
                        R"(","delay":"37"}],"action":"NetConditionNotify","x":1})"));

  // Everything unusual is left to the reference path (which the existing decoder tests cover).
  const std::vector<std::string> left = {
      participants(participant(R"("MUTE ":"1")")),            // padded key
      participants(participant(R"("MUTE":"1","MUTE":"0")")),  // repeated key
      R"({"action":"ParticipantsNotify","data":"[]"})",       // double-encoded data
      R"({"action":"ParticipantsNotify","action":"ParticipantsNotify","data":[]})",
      R"({"data":[],"action":"ParticipantsNotify","action":"ParticipantsNotify"})",
      R"({"data":[],"action":"NetConditionNotify","action":"ParticipantsNotify"})",
      R"({"data":[]," action":"ParticipantsNotify"})",                   // only a padded action
      R"({"data":[],"act\u0069on":"ParticipantsNotify"})",               // only an escaped action
      R"({"data":[],"action":"ParticipantsNotify","act\u0069on":"x"})",  // the same key twice
      R"({"data":[],"action":7})",                                       // action not a string
      R"({"action":"ParticipantsNotify","msgMode":2,"data":[]})",        // invalid msgMode
      R"({"action":"ParticipantsNotify","data":[]} x)",                  // trailing content
      R"({"action":"ParticipantsNotify","data":[],"x":123456789012345678901234567890})",
      R"({"action":"ParticipantsNotify","data":[],"x":tru})",  // bad atom
      R"({"action":"ParticipantsNotify","data":[1]})",         // item not an object
      participants(participant(R"("ROLE":"99999999999")")),    // out of range
      participants(participant(R"("ROLE":"x")")),              // not a number
      participants(R"({"mode":0})"),                           // no pid
      R"({"action":"HeartBeat","sequence":"1"})",              // another type
      R"({"action":"ParticipantsNotify","data":[)" + std::string(40, '[') + std::string(40, ']') +
          "]}",                                                          // deep
      "{\"action\":\"ParticipantsNotify\",\"data\":[],\"x\":\"\xff\"}",  // invalid UTF-8
  };
  for (const auto& frame : left) {
    BOOST_TEST_CONTEXT(frame) { BOOST_TEST(!checkPaths(frame)); }
  }
}

BOOST_AUTO_TEST_CASE(fast_path_handles_large_lists_like_the_reference) {
  std::string items;
  for (int i = 0; i < 2000; ++i) {
    items += (i == 0 ? "" : ",");
    items += R"({"pid":"p)" + std::to_string(i) + R"(","mode":0,"pinfoMap":{"MUTE":")" +
             std::to_string(i % 2) + R"(","CLIENT_LOGIN_TYPE":"Mobile"}})";
  }
  BOOST_TEST(checkPaths(participants(items)));
}

BOOST_AUTO_TEST_CASE(fast_path_takes_snapshots_of_any_size_in_both_member_orders) {
  // 3,000 participants (about 1 MB here) and a frame just under the 16 MiB default limit: above
  // the per-thread buffer size, so these get buffers of their own.
  std::size_t count = 0;
  const std::string at_limit = hme::bench::participantsFrameUpTo("988712345", 16u << 20U, count);
  BOOST_TEST(at_limit.size() > (15u << 20U));
  for (const auto order :
       {hme::bench::MemberOrder::Official, hme::bench::MemberOrder::ActionFirst}) {
    BOOST_TEST_CONTEXT("order " << static_cast<int>(order)) {
      const std::string frame = hme::bench::participantsFrame("988712345", 0, 3000, order);
      BOOST_TEST(checkPaths(frame));
      BOOST_TEST(checkPaths(hme::bench::netConditionFrame("988712345", 0, 3000, order)));
      const auto fast = decodeFastPath(frame);
      BOOST_TEST_REQUIRE(fast.has_value());
      const auto* push = std::get_if<hme::protocol::Push>(&fast->message);
      BOOST_TEST_REQUIRE(push != nullptr);
      const auto* update = std::get_if<m::ParticipantsUpdate>(&push->event);
      BOOST_TEST_REQUIRE(update != nullptr);
      BOOST_TEST(update->full);
      BOOST_TEST(update->items.size() == 3000u);
    }
  }
  const auto fast = decodeFastPath(at_limit);
  BOOST_TEST_REQUIRE(fast.has_value());
  const auto& update =
      std::get<m::ParticipantsUpdate>(std::get<hme::protocol::Push>(fast->message).event);
  BOOST_TEST(update.items.size() == count);
}

BOOST_AUTO_TEST_SUITE_END()
