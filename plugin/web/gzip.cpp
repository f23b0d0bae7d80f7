#include "plugin/web/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace hme::web {

std::string gzipCompress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16 asks zlib for the gzip wrapper instead of the zlib one.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  int rc = Z_OK;
  // zlib counts in uInt, so both sides are fed in slices below 4 GiB.
  constexpr std::size_t kSlice = 1u << 30;
  do {
    if (zs.avail_in == 0 && in_pos < data.size()) {
      const std::size_t n = std::min(kSlice, data.size() - in_pos);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    if (out_pos == out.size()) {
      out.resize(out.size() * 2);
    }
    const std::size_t room = std::min(kSlice, out.size() - out_pos);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(room);
    rc = deflate(&zs, in_pos == data.size() ? Z_FINISH : Z_NO_FLUSH);
    out_pos += room - zs.avail_out;
  } while (rc == Z_OK || rc == Z_BUF_ERROR);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("gzip: deflate failed");
  }
  out.resize(out_pos);
  return out;
}

}  // namespace hme::web
