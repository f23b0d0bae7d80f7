#include "plugin/log/token_filter.h"

#include <mutex>
#include <shared_mutex>

namespace hme::log {
namespace {

// Calls `visit(begin, length)` for each maximal run of token characters of at least
// kMinTokenLength in `text`; stops early when `visit` returns false.
template <class Visit>
void forEachLongRun(std::string_view text, Visit&& visit) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!isTokenChar(text[i])) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    while (i < text.size() && isTokenChar(text[i])) ++i;
    if (i - begin >= kMinTokenLength && !visit(begin, i - begin)) return;
  }
}

bool hasLongRun(std::string_view text) {
  bool found = false;
  forEachLongRun(text, [&](std::size_t, std::size_t) {
    found = true;
    return false;
  });
  return found;
}

struct Registry {
  std::shared_mutex mutex;
  TokenSet tokens;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

void TokenSet::add(std::string_view token) {
  forEachLongRun(token, [&](std::size_t begin, std::size_t length) {
    const auto [it, inserted] = counts_.try_emplace(std::string(token.substr(begin, length)), 0);
    if (inserted) runs_.insert(it->first);
    ++it->second;
    return true;
  });
}

void TokenSet::remove(std::string_view token) {
  forEachLongRun(token, [&](std::size_t begin, std::size_t length) {
    const auto it = counts_.find(std::string(token.substr(begin, length)));
    if (it != counts_.end() && --it->second == 0) {
      runs_.erase(it->first);
      counts_.erase(it);
    }
    return true;
  });
}

bool TokenSet::matches(std::string_view text) const {
  if (runs_.empty()) return false;
  bool found = false;
  forEachLongRun(text, [&](std::size_t begin, std::size_t length) {
    found = runs_.count(text.substr(begin, length)) != 0;
    return !found;
  });
  return found;
}

std::string TokenSet::filter(std::string_view text) const {
  if (!matches(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  forEachLongRun(text, [&](std::size_t begin, std::size_t length) {
    if (runs_.count(text.substr(begin, length)) != 0) {
      out.append(text.substr(copied, begin - copied)).append(kRedacted);
      copied = begin + length;
    }
    return true;
  });
  out.append(text.substr(copied));
  return out;
}

void registerToken(const Secret& token) {
  // The registry keeps the token's text to recognise it; it never writes it anywhere.
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  r.tokens.add(token.reveal());
}

void unregisterToken(const Secret& token) {
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  r.tokens.remove(token.reveal());
}

std::string withoutTokens(std::string_view text) {
  // Ordinary lines (IDs, numbers, words) have no run this long: no lock, no lookup.
  if (!hasLongRun(text)) return std::string(text);
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  return r.tokens.filter(text);
}

}  // namespace hme::log
