// The decoder-level rows of the bad-input table (docs/reliability.md): hostile frames are either
// rejected with the right reason or applied within bounds, and never crash, stall or make the
// reducer hold more than ReduceOptions::max_list_entries per list.

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "metrics/collector.h"
#include "metrics/reduce.h"
#include "metrics/store.h"
#include "plugin/protocol/decoder.h"

namespace {

namespace m = hme::metrics;
using hme::protocol::decode;
using hme::protocol::Decoded;
using hme::protocol::Push;
using hme::protocol::Rejection;
using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

std::filesystem::path framesDir() { return std::filesystem::path(HME_TESTDATA_DIR) / "frames"; }

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "cannot open " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string reasonOf(const Decoded& decoded) {
  const auto* rejection = std::get_if<Rejection>(&decoded.message);
  return rejection == nullptr ? "accepted" : m::toLabel(rejection->reason);
}

// The events a session reports for a decoded frame, applied to `store` (meeting "1").
void apply(m::MeetingStore& store, const Decoded& decoded) {
  const m::TimePoint at = std::chrono::system_clock::now();
  if (const auto* rejection = std::get_if<Rejection>(&decoded.message)) {
    store.apply("1", m::Event{at, m::FrameRejected{rejection->reason}});
    return;
  }
  store.apply("1", m::Event{at, m::FrameReceived{decoded.action}});
  if (const auto* push = std::get_if<Push>(&decoded.message)) {
    store.apply("1", m::Event{at, push->event});
  }
}

// The exposition is something Prometheus accepts: valid UTF-8 (checked loosely: no byte that
// can never appear in UTF-8) and no control character other than the line feeds.
void expectCleanExposition(const std::string& text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    BOOST_TEST_REQUIRE((byte == '\n' || (byte >= 0x20 && byte != 0x7F && byte != 0xC0 &&
                                         byte != 0xC1 && byte < 0xF5)),
                       "byte " << static_cast<int>(byte) << " in the exposition");
  }
}

std::string render(const std::shared_ptr<m::MeetingStore>& store) {
  const m::Collector collector(store, "test", "test");
  return m::renderText(collector.Collect());
}

std::string participantsFrame(std::size_t items, const std::string& pid_prefix) {
  std::string frame = R"({"action":"ParticipantsNotify","msgMode":0,"data":[)";
  for (std::size_t i = 0; i < items; ++i) {
    if (i != 0) frame += ',';
    frame +=
        R"({"pid":")" + pid_prefix + std::to_string(i) + R"(","mode":0,"pinfoMap":{"STATE":"0"}})";
  }
  return frame + "]}";
}

// Every JSON value below the root, as a path of keys/indexes, so each can be replaced.
using Path = std::vector<Var>;

void collectPaths(const Var& value, Path& path, std::vector<Path>& out) {
  if (value.type() == typeid(Object::Ptr)) {
    const auto object = value.extract<Object::Ptr>();
    for (const auto& [key, child] : *object) {
      path.emplace_back(key);
      out.push_back(path);
      collectPaths(child, path, out);
      path.pop_back();
    }
  } else if (value.type() == typeid(Array::Ptr)) {
    const auto array = value.extract<Array::Ptr>();
    for (unsigned i = 0; i < array->size(); ++i) {
      path.emplace_back(i);
      out.push_back(path);
      collectPaths(array->get(i), path, out);
      path.pop_back();
    }
  }
}

// A deep copy of `root` with the value at `path` replaced by `replacement`.
Var replaced(const std::string& text, const Path& path, const Var& replacement) {
  Poco::JSON::Parser parser;
  Var root = parser.parse(text);
  Var node = root;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const bool last = i + 1 == path.size();
    if (node.type() == typeid(Object::Ptr)) {
      Object::Ptr object = node.extract<Object::Ptr>();
      const std::string key = path[i].convert<std::string>();
      if (last) {
        object->set(key, replacement);
      } else {
        node = object->get(key);
      }
    } else {
      Array::Ptr array = node.extract<Array::Ptr>();
      const unsigned index = path[i].convert<unsigned>();
      if (last) {
        array->set(index, replacement);
      } else {
        node = array->get(index);
      }
    }
  }
  return root;
}

std::string stringify(const Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out);
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(badinput)

BOOST_AUTO_TEST_CASE(malformed_json_is_invalid_json) {
  for (const std::string& frame :
       std::vector<std::string>{"{", "{\"action\":", "{\"action\":\"HeartBeat\",}", "[]", "null",
                                "\"text\"", "{'action':'x'}", "{\"action\":\"x\"} trailing",
                                std::string("{\"action\":\"x\"\0}", 15)}) {
    BOOST_TEST(reasonOf(decode(frame)) == "invalid_json", frame);
  }
}

BOOST_AUTO_TEST_CASE(truncated_utf8_is_rejected_not_passed_on) {
  // A multi-byte sequence cut short inside a string, and a frame cut inside one.
  const std::string inside =
      "{\"action\":\"ConfBasicInfoNotify\",\"title\":\"Caf\xC3\",\"data\":{}}";
  const std::string at_end = "{\"action\":\"ConfBasicInfoNotify\",\"title\":\"\xE6\x97";
  BOOST_TEST(reasonOf(decode(at_end)) == "invalid_json");
  const Decoded decoded = decode(inside);
  if (reasonOf(decoded) == "accepted") {
    // Applied: the title must have been made valid before it reaches a label.
    auto store = std::make_shared<m::MeetingStore>();
    store->addMeeting("1", std::chrono::system_clock::now());
    apply(*store, decoded);
    const std::string text = render(store);
    BOOST_TEST(text.find("Caf\xC3\"") == std::string::npos);
    expectCleanExposition(text);
  } else {
    BOOST_TEST(reasonOf(decoded) == "invalid_json");
  }
}

BOOST_AUTO_TEST_CASE(deeply_nested_json_is_rejected_quickly) {
  for (const std::size_t depth : {65u, 10000u, 100000u}) {
    BOOST_TEST_CONTEXT("depth " << depth) {
      const std::string arrays =
          "{\"action\":\"ParticipantsNotify\",\"data\":" + std::string(depth, '[') +
          std::string(depth, ']') + "}";
      std::string objects = "{\"action\":\"ParticipantsNotify\",\"data\":";
      for (std::size_t i = 0; i < depth; ++i) objects += "{\"a\":";
      objects += "1" + std::string(depth, '}') + "}";
      const auto start = std::chrono::steady_clock::now();
      BOOST_TEST(reasonOf(decode(arrays)) == "invalid_json");
      BOOST_TEST(reasonOf(decode(objects)) == "invalid_json");
      BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(5)));
    }
  }
}

BOOST_AUTO_TEST_CASE(huge_data_arrays_are_bounded_by_max_list_entries) {
  const std::string frame = participantsFrame(100000, "p");
  const Decoded decoded = decode(frame);
  BOOST_TEST_REQUIRE(reasonOf(decoded) == "accepted");

  m::ReduceOptions options;
  options.max_list_entries = 1000;
  auto store = std::make_shared<m::MeetingStore>(options);
  store->addMeeting("1", std::chrono::system_clock::now());
  apply(*store, decoded);
  // An incremental frame adding more cannot grow the list past the bound either.
  std::string more = participantsFrame(5000, "q");
  more.replace(more.find("\"msgMode\":0"), 11, "\"msgMode\":1");
  apply(*store, decode(more));
  const auto state = *store->snapshot("1");
  BOOST_TEST(state.participants.size() == 1000u);
  BOOST_TEST(state.counters.participant_joins == 1000u, "ignored pids are not counted as joins");
  BOOST_TEST(state.counters.participant_leaves == 0u);

  // The default bound applies in production (the exporter does not lower it).
  BOOST_TEST(m::ReduceOptions{}.max_list_entries == 100000u);
}

BOOST_AUTO_TEST_CASE(pinfo_map_with_ten_thousand_keys_is_applied) {
  std::string frame =
      R"({"action":"ParticipantsNotify","msgMode":0,"data":[{"pid":"a","pinfoMap":{"STATE":"0")";
  for (int i = 0; i < 10000; ++i)
    frame += ",\"K" + std::to_string(i) + "\":\"" + std::to_string(i) + "\"";
  frame += "}}]}";
  const Decoded decoded = decode(frame);
  BOOST_TEST_REQUIRE(reasonOf(decoded) == "accepted");
  auto store = std::make_shared<m::MeetingStore>();
  store->addMeeting("1", std::chrono::system_clock::now());
  apply(*store, decoded);
  const auto state = *store->snapshot("1");
  BOOST_TEST(state.participants.size() == 1u);
  expectCleanExposition(render(store));
}

BOOST_AUTO_TEST_CASE(duplicate_keys_decode_deterministically) {
  // Poco keeps the last of duplicate keys; whichever wins, the same frame always decodes the
  // same way and is either applied or counted.
  const Decoded twice = decode(R"({"action":"Bogus","action":"HeartBeat","sequence":"7"})");
  const Decoded last = decode(R"({"action":"HeartBeat","sequence":"7"})");
  BOOST_TEST(twice.action == last.action);
  BOOST_TEST(reasonOf(twice) == reasonOf(last));

  // The same pid twice in one snapshot is one participant and one join.
  const Decoded dup = decode(
      R"({"action":"ParticipantsNotify","msgMode":0,"data":[{"pid":"a","pinfoMap":{"STATE":"0"}},)"
      R"({"pid":"a","pinfoMap":{"STATE":"0","STATE":"1"}}]})");
  BOOST_TEST_REQUIRE(reasonOf(dup) == "accepted");
  auto store = std::make_shared<m::MeetingStore>();
  store->addMeeting("1", std::chrono::system_clock::now());
  apply(*store, dup);
  const auto state = *store->snapshot("1");
  BOOST_TEST(state.participants.size() == 1u);
  BOOST_TEST(state.counters.participant_joins == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_actions_are_counted_not_errors) {
  const Decoded decoded = decode(R"({"action":"SomethingNewNotify","data":{"x":[1,2,3]}})");
  BOOST_TEST(reasonOf(decoded) == "accepted");
  BOOST_TEST(decoded.action == "unknown");
  BOOST_TEST(decoded.unrecognized_shape.has_value());
}

BOOST_AUTO_TEST_CASE(control_characters_never_reach_a_label) {
  const std::string frame =
      R"({"action":"ConfBasicInfoNotify","displayID":"98\u0000\u001b[31m","title":"a\nb\rc\td\u007f\u0085e\u2028f\"g\\h","confMode":"R\u0007TC","data":{}})";
  const Decoded decoded = decode(frame);
  BOOST_TEST_REQUIRE(reasonOf(decoded) == "accepted");
  auto store = std::make_shared<m::MeetingStore>();
  store->addMeeting("1", std::chrono::system_clock::now());
  apply(*store, decoded);
  const std::string text = render(store);
  expectCleanExposition(text);
  BOOST_TEST(text.find("huawei_meeting_info{") != std::string::npos);
  BOOST_TEST(text.find('\x1b') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_types_in_every_field_never_crash) {
  // Every value of every good fixture replaced by each wrong type in turn: the frame is
  // applied or counted as invalid_message (it is still valid JSON), and the state renders.
  const std::vector<Var> wrong = {Var(Object::Ptr(new Object)),
                                  Var(Array::Ptr(new Array)),
                                  Var(std::string("x")),
                                  Var(std::string("")),
                                  Var(-1),
                                  Var(1e308),
                                  Var(true),
                                  Var()};
  std::size_t variants = 0;
  for (const auto& entry : std::filesystem::directory_iterator(framesDir())) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || name.rfind("bad-", 0) == 0) continue;
    const std::string text = readFile(entry.path());
    Poco::JSON::Parser parser;
    std::vector<Path> paths;
    Path path;
    collectPaths(parser.parse(text), path, paths);
    auto store = std::make_shared<m::MeetingStore>();
    store->addMeeting("1", std::chrono::system_clock::now());
    for (const auto& where : paths) {
      for (const auto& replacement : wrong) {
        const std::string frame = stringify(replaced(text, where, replacement));
        const Decoded decoded = decode(frame);
        const std::string reason = reasonOf(decoded);
        BOOST_TEST_REQUIRE((reason == "accepted" || reason == "invalid_message"),
                           name << ": " << frame << " -> " << reason);
        apply(*store, decoded);
        ++variants;
      }
    }
    BOOST_TEST_CONTEXT(name) { expectCleanExposition(render(store)); }
  }
  BOOST_TEST(variants > 1000u);
}

BOOST_AUTO_TEST_CASE(ids_with_control_characters_are_rejected) {
  // Found by fuzz_reduce: a pid holding a JSON-escaped TAB reached the participant_id label raw.
  const Decoded fixture = decode(readFile(framesDir() / "bad-fuzz-pid-control-character.json"));
  BOOST_TEST(reasonOf(fixture) == "invalid_message");
  BOOST_TEST(std::get<Rejection>(fixture.message).detail.find("3j7oh261") == std::string::npos);
  for (
      const std::string& frame : std::vector<std::string>{
          R"({"action":"ParticipantsNotify","msgMode":1,"data":[{"pid":"a\u0000b"}]})",
          R"({"action":"ParticipantsNotify","msgMode":0,"data":[{"pid":"a\u001b[2J","pinfoMap":{"STATE":"0"}}]})",
          R"({"action":"NetConditionNotify","msgMode":1,"data":[{"participantID":"p\r","delay":10}]})",
          R"({"action":"SpeakerChangeNotify","data":[{"pid":"p\u007f","speakingVolume":1}]})"}) {
    BOOST_TEST(reasonOf(decode(frame)) == "invalid_message", frame);
  }
  // An ordinary pid still decodes.
  BOOST_TEST(reasonOf(decode(
                 R"({"action":"ParticipantsNotify","msgMode":1,"data":[{"pid":"a b-c_1"}]})")) ==
             "accepted");
}

BOOST_AUTO_TEST_SUITE_END()
