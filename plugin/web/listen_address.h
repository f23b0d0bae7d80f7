#pragma once
/// `--web.listen-address` values: `:9877` (all interfaces), `host:port`, `[v6]:port`.

#include <cstdint>
#include <string>
#include <string_view>

namespace hme::web {

/// A parsed listen address.
struct ListenAddress {
  std::string host;        ///< empty: all interfaces; an IPv6 literal is stored without brackets
  std::uint16_t port = 0;  ///< 0: the kernel picks a free port
};

/// Parses `:port`, `host:port` or `[ipv6]:port` (port 0..65535, digits only). Pure.
/// Throws std::invalid_argument whose message quotes `text` and says what is wrong.
ListenAddress parseListenAddress(std::string_view text);

}  // namespace hme::web
