#include "plugin/protocol/encoder.h"

#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

namespace hme::protocol {
namespace {

constexpr std::size_t kSequenceDigits = 30;

std::string base64(std::string_view text) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  // The default inserts a line break every 72 characters, which would corrupt the header value.
  encoder.rdbuf()->setLineLength(0);
  encoder.write(text.data(), static_cast<std::streamsize>(text.size()));
  encoder.close();
  return out.str();
}

std::string stringify(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

}  // namespace

std::string makeSequence(std::int64_t unix_ms) {
  std::string digits = std::to_string(unix_ms < 0 ? 0 : unix_ms);
  if (digits.size() < kSequenceDigits) {
    digits.insert(0, kSequenceDigits - digits.size(), '0');
  }
  return digits;
}

std::string encodeSubscribe(const std::vector<std::string>& types, const Secret& control_token,
                            std::string_view sequence, std::string_view meeting_id) {
  Poco::JSON::Array::Ptr type_list = new Poco::JSON::Array;
  for (const std::string& type : types) {
    type_list->add(type);
  }
  Poco::JSON::Object data(Poco::JSON_PRESERVE_KEY_ORDER);
  data.set("subscribeType", type_list);
  data.set("confToken", "Basic " + base64(control_token.reveal()));
  if (!meeting_id.empty()) {
    data.set("conferenceID", std::string(meeting_id));
  }
  Poco::JSON::Object frame(Poco::JSON_PRESERVE_KEY_ORDER);
  frame.set("action", "Subscribe");
  frame.set("sequence", std::string(sequence));
  frame.set("data", stringify(data));
  return stringify(frame);
}

std::string encodeHeartbeat(std::string_view sequence) {
  Poco::JSON::Object frame(Poco::JSON_PRESERVE_KEY_ORDER);
  frame.set("action", "HeartBeat");
  frame.set("sequence", std::string(sequence));
  return stringify(frame);
}

}  // namespace hme::protocol
