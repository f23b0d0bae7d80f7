#include <boost/test/unit_test.hpp>
#include <string>

#include "plugin/protocol/shape.h"

using hme::protocol::actionName;
using hme::protocol::isFieldNameKey;
using hme::protocol::merge;
using hme::protocol::shapeOf;
using hme::protocol::toText;

namespace {

std::string shapeText(const std::string& json) {
  const auto shape = shapeOf(json);
  BOOST_REQUIRE(shape.has_value());
  return toText(*shape);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol_shape)

BOOST_AUTO_TEST_CASE(keys_sorted_types_only_values_never_printed) {
  const std::string frame =
      R"({"data":[{"pid":"uzr571a9brwu11cvcibvru5a7r7rryiy","mode":0,)"
      R"("pinfoMap":{"NAME":"Alice Secret","TEL":"+8657100042","ADDTIME":"1611988486336"}}],)"
      R"("confID":"900487914","msgID":"23a429e8","msgMode":0,"version":1611993595058,)"
      R"("createTime":1611993595058,"action":"ParticipantsNotify"})";
  const std::string text = shapeText(frame);
  BOOST_TEST(text ==
             "{action:string, confID:string, createTime:number, data:[{mode:number, pid:string, "
             "pinfoMap:{ADDTIME:string, NAME:string, TEL:string}}], msgID:string, "
             "msgMode:number, version:number}");
  for (const char* value :
       {"Alice", "8657100042", "900487914", "uzr571a9", "ParticipantsNotify", "1611988486336"}) {
    BOOST_TEST(text.find(value) == std::string::npos, value);
  }
}

BOOST_AUTO_TEST_CASE(array_items_are_united_and_missing_keys_marked) {
  const std::string text =
      shapeText(R"({"data":[{"pid":"a","mode":0,"pinfoMap":{"MUTE":"1","VIDEO":"0"}},)"
                R"({"pid":"b","mode":1},{"pid":"c","mode":"0","pinfoMap":{"MUTE":"0"}}]})");
  BOOST_TEST(text ==
             "{data:[{mode:number|string, pid:string, pinfoMap?:{MUTE:string, VIDEO?:string}}]}");
}

BOOST_AUTO_TEST_CASE(keys_that_are_data_are_never_printed) {
  const std::string text =
      shapeText(R"({"byPid":{"uzr571a9brwu11cvcibvru5a7r7rryiy":{"x":1},"13800138000":{"x":"2"},)"
                R"("Zoë Müller":{"x":null}}, "ok_name":true})");
  BOOST_TEST(text == "{byPid:{<key>:{x:null|number|string}}, ok_name:bool}");
  BOOST_TEST(text.find("uzr") == std::string::npos);
  BOOST_TEST(text.find("138") == std::string::npos);
  BOOST_TEST(text.find("Zo") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(field_name_rule) {
  for (const char* name : {"pinfoMap", "CLIENT_LOGIN_TYPE", "CLICENT_LOGIN_TYPE", "returnDesc", "M",
                           "picNum2", "confID", "assistVideoInLossPacketRate"}) {
    BOOST_TEST(isFieldNameKey(name), name);
  }
  for (const char* data : {"", "900487914", "uzr571a9brwu11cvcibvru5a7r7rryiy", "+8657100042",
                           "a@b.c", "Alice Smith", "Alice", "NAMe", "_x", "23a429e8deadbeef",
                           "aVeryLongKeyThatIsLongerThanFortyCharactersInTotal"}) {
    BOOST_TEST(!isFieldNameKey(data), data);
  }
}

BOOST_AUTO_TEST_CASE(spaces_around_keys_are_shown_quoted) {
  BOOST_TEST(
      shapeText(R"({"action":"Subscribe","data":{"returnCode":0,"returnDesc ":"SUCCESS"}})") ==
      R"({action:string, data:{returnCode:number, "returnDesc ":string}})");
}

BOOST_AUTO_TEST_CASE(frames_merge_across_messages) {
  auto first = shapeOf(R"({"action":"SpeakerChangeNotify","data":[]})");
  const auto second =
      shapeOf(R"({"action":"SpeakerChangeNotify","data":[{"pid":"x","speakingVolume":"12"}]})");
  const auto third = shapeOf(R"({"action":"SpeakerChangeNotify"})");
  BOOST_REQUIRE(first && second && third);
  BOOST_TEST(toText(*first) == "{action:string, data:[]}");
  merge(*first, *second);
  merge(*first, *third);
  BOOST_TEST(toText(*first) == "{action:string, data?:[{pid:string, speakingVolume:string}]}");
}

BOOST_AUTO_TEST_CASE(invalid_json_has_no_shape_and_deep_nesting_is_cut) {
  BOOST_TEST(!shapeOf("{not json").has_value());
  BOOST_TEST(!shapeOf("").has_value());
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += R"({"a":)";
  deep += "1";
  for (int i = 0; i < 40; ++i) deep += "}";
  const std::string text = shapeText(deep);
  BOOST_TEST(text.find("{...}") != std::string::npos);
  BOOST_TEST(text.find("number") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(many_keys_are_bounded) {
  std::string wide = "{";
  for (int i = 0; i < 300; ++i) {
    wide += (i == 0 ? "" : ",") + std::string("\"k") + std::string(1, char('a' + i % 26)) +
            std::string(1, char('a' + i / 26)) + "\":1";
  }
  wide += "}";
  const std::string text = shapeText(wide);
  BOOST_TEST(text.find(", ...}") != std::string::npos);
  BOOST_TEST(text.size() < 2000u);
}

BOOST_AUTO_TEST_CASE(action_names_only_when_they_read_as_field_names) {
  BOOST_TEST(actionName(R"({"data":[],"action":"BrandNewNotify"})").value_or("") ==
             "BrandNewNotify");
  BOOST_TEST(actionName(R"({"action":" HeartBeat "})").value_or("") == "HeartBeat");
  BOOST_TEST(!actionName(R"({"action":"Alice Smith"})").has_value());
  BOOST_TEST(!actionName(R"({"action":"uzr571a9brwu11cvcibvru5a7r7rryiy"})").has_value());
  BOOST_TEST(!actionName(R"({"action":"+8657100042"})").has_value());
  BOOST_TEST(!actionName(R"({"action":7})").has_value());
  BOOST_TEST(!actionName(R"(["action"])").has_value());
  BOOST_TEST(!actionName("{").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
