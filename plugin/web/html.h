#pragma once
/// HTML helpers for the status page.

#include <string>
#include <string_view>

namespace hme::web {

/// Escapes `& < > " '` so that `text` is safe in HTML element content and quoted attribute
/// values. Pure.
std::string htmlEscape(std::string_view text);

}  // namespace hme::web
