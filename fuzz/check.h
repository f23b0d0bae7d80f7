#pragma once
/// Helpers shared by the fuzz targets: invariant checks that abort (so libFuzzer reports the
/// input as a crash) instead of throwing.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace hme::fuzz {

/// Aborts with `what` on stderr when `condition` is false.
inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

// The checks scan whole expositions; coverage feedback from them would only slow the search.
#if defined(__clang__)
#define HME_FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define HME_FUZZ_NO_COVERAGE
#endif

/// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
HME_FUZZ_NO_COVERAGE inline bool validUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    unsigned long code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      code = c & 0x1FU;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      code = c & 0x0FU;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      code = c & 0x07U;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // sequence cut short
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0U) != 0x80U) return false;
      code = (code << 6U) | (next & 0x3FU);
    }
    if ((extra == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
        (extra == 3 && (code < 0x10000 || code > 0x10FFFF))) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

/// True when `text` has no control character other than '\n'.
HME_FUZZ_NO_COVERAGE inline bool noControlCharacters(std::string_view text) {
  for (const char c : text) {
    if (c != '\n' && static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

}  // namespace hme::fuzz
