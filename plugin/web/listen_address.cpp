#include "plugin/web/listen_address.h"

#include <stdexcept>

namespace hme::web {
namespace {

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw std::invalid_argument("invalid listen address \"" + std::string(text) +
                              "\": " + std::string(why));
}

}  // namespace

ListenAddress parseListenAddress(std::string_view text) {
  ListenAddress out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      fail(text, "missing ']'");
    }
    out.host = std::string(text.substr(1, close - 1));
    if (out.host.empty()) {
      fail(text, "empty IPv6 address");
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      fail(text, "expected ':port' after ']'");
    }
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      fail(text, "expected host:port or :port");
    }
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      fail(text, "an IPv6 address must be written in brackets, e.g. [::1]:9877");
    }
    port = text.substr(colon + 1);
  }
  if (port.empty()) {
    fail(text, "missing port");
  }
  if (port.size() > 5) {
    fail(text, "port out of range");
  }
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') {
      fail(text, "port must be a number");
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    fail(text, "port out of range");
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace hme::web
