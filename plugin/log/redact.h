#pragma once
/// Secret redaction: defence in depth so that a password or token never reaches a log line,
/// an error message or the status page, even when some code forgets to leave it out.

#include <string>
#include <string_view>
#include <vector>

namespace hme::log {

/// What every occurrence of a secret is replaced with.
inline constexpr std::string_view kRedacted = "<redacted>";

/// Secrets shorter than this are ignored: redacting "1" or "abc" would mangle every line while
/// protecting nothing.
inline constexpr std::size_t kMinSecretLength = 4;

/// Returns `text` with every occurrence of each secret (of at least kMinSecretLength bytes)
/// replaced by kRedacted. Scans left to right once, trying longer secrets first, so a secret
/// that contains another is removed whole. Pure; does not throw except std::bad_alloc.
std::string redact(std::string_view text, const std::vector<std::string>& secrets);

/// Same as above with the process-wide registry of secrets. Thread-safe.
std::string redact(std::string_view text);

/// Adds a secret to the process-wide registry that the logger applies to every line.
/// Registrations are counted: a secret registered twice stays until unregistered twice.
/// Thread-safe. The registry only grows with distinct secrets, so callers that rotate tokens
/// unregister the old one.
void registerSecret(std::string secret);

/// Removes one registration of `secret`; unknown secrets are ignored. Thread-safe.
void unregisterSecret(const std::string& secret);

}  // namespace hme::log
