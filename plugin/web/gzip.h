#pragma once
/// gzip (RFC 1952) compression of scrape responses.

#include <string>
#include <string_view>

namespace hme::web {

/// Compresses `data` into a complete gzip member. Pure. Throws std::runtime_error if zlib fails
/// (only on memory exhaustion in practice).
std::string gzipCompress(std::string_view data);

}  // namespace hme::web
