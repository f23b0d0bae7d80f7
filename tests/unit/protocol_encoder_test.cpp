#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "plugin/protocol/decoder.h"
#include "plugin/protocol/encoder.h"

namespace {

using Poco::JSON::Object;

Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string unbase64(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::ostringstream out;
  out << decoder.rdbuf();
  return out.str();
}

bool allDigits(const std::string& text) {
  return text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol)

BOOST_AUTO_TEST_CASE(sequence_is_unix_ms_zero_padded_to_30_digits) {
  BOOST_TEST(hme::protocol::makeSequence(1611993655770) == "000000000000000001611993655770");
  BOOST_TEST(hme::protocol::makeSequence(0) == std::string(30, '0'));
  BOOST_TEST(hme::protocol::makeSequence(-5) == std::string(30, '0'));
  const std::string max = hme::protocol::makeSequence(std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(max == "000000000009223372036854775807");
  BOOST_TEST(max.size() == 30u);
  BOOST_TEST(allDigits(max));
}

BOOST_AUTO_TEST_CASE(subscribe_frame_double_encodes_data) {
  const std::vector<std::string> types{"ConfBasicInfoNotify", "ParticipantsNotify",
                                       "NetConditionNotify"};
  const std::string token = "cnr0123456789abcdef0123456789abcdef0123456789abcdef";
  const std::string sequence = hme::protocol::makeSequence(1702459164879);
  const std::string frame =
      hme::protocol::encodeSubscribe(types, hme::Secret(token), sequence, "988712345");

  const Object::Ptr outer = parseObject(frame);
  BOOST_TEST(outer->size() == 3u);
  BOOST_TEST(outer->getValue<std::string>("action") == "Subscribe");
  BOOST_TEST(outer->getValue<std::string>("sequence") == "000000000000000001702459164879");
  BOOST_TEST_REQUIRE(outer->get("data").isString());  // a string holding JSON, not an object

  const Object::Ptr data = parseObject(outer->getValue<std::string>("data"));
  BOOST_TEST(data->size() == 3u);
  const Poco::JSON::Array::Ptr list = data->getArray("subscribeType");
  BOOST_TEST_REQUIRE(list);
  BOOST_TEST_REQUIRE(list->size() == types.size());
  for (std::size_t i = 0; i < types.size(); ++i) {
    BOOST_TEST(list->getElement<std::string>(static_cast<unsigned>(i)) == types[i]);
  }
  const std::string conf_token = data->getValue<std::string>("confToken");
  // Known answer, computed independently (Python base64).
  BOOST_TEST(conf_token ==
             "Basic Y25yMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm");
  BOOST_TEST(data->getValue<std::string>("conferenceID") == "988712345");
}

BOOST_AUTO_TEST_CASE(subscribe_token_base64_has_no_line_breaks) {
  std::string token;
  for (int i = 0; i < 40; ++i) {
    token += "cnr" + std::to_string(i * 7919);
  }
  BOOST_TEST_REQUIRE(token.size() > 100u);  // longer than Poco's default 72-column lines
  const Object::Ptr outer = parseObject(
      hme::protocol::encodeSubscribe({"ParticipantsNotify"}, hme::Secret(token), "1", ""));
  const Object::Ptr data = parseObject(outer->getValue<std::string>("data"));
  const std::string conf_token = data->getValue<std::string>("confToken");
  BOOST_TEST_REQUIRE(conf_token.rfind("Basic ", 0) == 0u);
  const std::string encoded = conf_token.substr(6);
  BOOST_TEST(encoded.find_first_of("\r\n") == std::string::npos);
  BOOST_TEST(unbase64(encoded) == token);
  BOOST_TEST(!data->has("conferenceID"));  // empty meeting id: left out
}

BOOST_AUTO_TEST_CASE(subscribe_frame_escapes_strings) {
  const std::string odd = "a\"b\\c/d\n";
  const Object::Ptr outer = parseObject(hme::protocol::encodeSubscribe(
      {odd}, hme::Secret("t"), "000000000000000000000000000001", odd));
  const Object::Ptr data = parseObject(outer->getValue<std::string>("data"));
  BOOST_TEST(data->getArray("subscribeType")->getElement<std::string>(0) == odd);
  BOOST_TEST(data->getValue<std::string>("conferenceID") == odd);
  BOOST_TEST(unbase64(data->getValue<std::string>("confToken").substr(6)) == "t");
}

BOOST_AUTO_TEST_CASE(heartbeat_frame_round_trips_through_the_decoder) {
  const std::string sequence = hme::protocol::makeSequence(1702459224879);
  const std::string frame = hme::protocol::encodeHeartbeat(sequence);
  const Object::Ptr outer = parseObject(frame);
  BOOST_TEST(outer->size() == 2u);
  BOOST_TEST(outer->getValue<std::string>("action") == "HeartBeat");
  BOOST_TEST(outer->getValue<std::string>("sequence") == sequence);

  // The server echoes the frame unchanged: our decoder reads it back as the echo.
  const hme::protocol::Decoded echo = hme::protocol::decode(frame);
  BOOST_TEST(echo.action == "HeartBeat");
  const auto* body = std::get_if<hme::protocol::HeartbeatEcho>(&echo.message);
  BOOST_TEST_REQUIRE(body != nullptr);
  BOOST_TEST(body->sequence == sequence);
}

BOOST_AUTO_TEST_SUITE_END()
