#pragma once
/// A password or token as a type of its own, shared by config, transport, session, protocol,
/// discovery and the app. Header only and dependency free, so that layers which may not depend
/// on config/ (transport, session, protocol) can still carry secrets without turning them into
/// strings.

#include <algorithm>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

namespace hme {

/// A secret string: a host password, an App or subscriber key, a control token, a wsToken or an
/// access token. It has no operator<< and no conversion to std::string, so it cannot reach a log
/// line, metric, status page or error message by accident. Its text is taken with reveal(),
/// which is called only where the secret goes on the wire (an HTTP header, a URL query, a
/// Subscribe frame, a signature). Value type, not synchronized.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string text) : text_(std::move(text)) {}

  /// The secret's text, for the one place that sends it. Never log it.
  const std::string& reveal() const { return text_; }
  /// True when no secret is set.
  bool empty() const { return text_.empty(); }
  /// True when this (non-empty) secret occurs in `text`: lets untrusted text that repeats a
  /// secret be withheld without revealing the secret.
  bool foundIn(std::string_view text) const {
    return !text_.empty() &&
           std::search(text.begin(), text.end(), text_.begin(), text_.end()) != text.end();
  }

  friend bool operator==(const Secret& a, const Secret& b) { return a.text_ == b.text_; }
  friend bool operator!=(const Secret& a, const Secret& b) { return !(a == b); }

 private:
  std::string text_;
};

/// Printing a Secret is a compile error on purpose.
std::ostream& operator<<(std::ostream&, const Secret&) = delete;

}  // namespace hme
