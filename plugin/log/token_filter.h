#pragma once
/// The logger's last-resort net for long random tokens (control tokens, wsTokens, access tokens,
/// App keys). Secrets are kept out of output by their type (secret/secret.h), not by searching
/// output; this net only catches a token that some code path copied into a log field anyway.
///
/// It never touches short secrets (host passwords) or anything that is not a whole token: a line
/// is cut into maximal runs of token characters, and only a run that equals a registered token
/// (or a registered token's run) exactly is replaced. Meeting IDs, titles, words and label values
/// are therefore never changed, and the cost is one pass over the line plus one hash lookup per
/// run of at least kMinTokenLength characters, whatever the number of registered tokens.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "secret/secret.h"

namespace hme::log {

/// What a registered token in a log field is replaced with.
inline constexpr std::string_view kRedacted = "<redacted>";

/// Runs shorter than this are never looked up or registered: random tokens are longer, and
/// shorter runs are the IDs, numbers and words of ordinary lines.
inline constexpr std::size_t kMinTokenLength = 16;

/// The token alphabet: ASCII letters, digits, '-' and '_' (hex, base64url). A token with other
/// characters (base64 '+', '/', '=', a JWT's '.') is covered by its runs of these.
bool isTokenChar(char c);

/// A counted set of tokens and the filter that uses it. Not synchronized.
class TokenSet {
 public:
  /// Registers every maximal run of at least kMinTokenLength token characters of `token` (a
  /// token that has none is ignored). Registrations are counted.
  void add(std::string_view token);
  /// Removes one registration of each such run; unknown runs are ignored.
  void remove(std::string_view token);
  /// How many distinct runs are registered.
  std::size_t size() const { return counts_.size(); }

  /// True when filter(text) would change `text`.
  bool matches(std::string_view text) const;
  /// `text` with each maximal run of token characters that equals a registered run replaced by
  /// kRedacted; every other byte unchanged. O(text.size()), independent of size().
  std::string filter(std::string_view text) const;

 private:
  // Node-based, so the keys' addresses are stable and `runs_` can view them without copies;
  // lookups by string_view then allocate nothing.
  std::unordered_map<std::string, std::size_t> counts_;
  std::unordered_set<std::string_view> runs_;
};

/// Adds `token` to the process-wide set the logger filters every line with (see TokenSet::add).
/// Thread-safe. Callers that rotate tokens unregister the old one.
void registerToken(const Secret& token);
/// Removes one registration of `token` from the process-wide set. Thread-safe.
void unregisterToken(const Secret& token);
/// TokenSet::filter with the process-wide set. Thread-safe; takes a shared lock only when `text`
/// has a run long enough to be a token.
std::string withoutTokens(std::string_view text);

}  // namespace hme::log
