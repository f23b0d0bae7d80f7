#pragma once
/// Internal to hme::transport: turning Poco exceptions and HTTP answers into Failures, and keeping
/// secrets out of them. Not part of the public API.

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "plugin/transport/result.h"
#include "secret/secret.h"

namespace hme::transport::detail {

/// Secrets known at a call site (password, tokens); empty entries are ignored.
using Secrets = std::initializer_list<std::reference_wrapper<const Secret>>;

/// What replaces a text that repeats one of the call's secrets. The whole text goes, never just
/// the secret: a masked substring would show where the secret sits in the text around it.
inline constexpr std::string_view kWithheld = "(text withheld: it repeated a credential)";

/// True when `text` contains one of `secrets`.
bool repeatsSecret(std::string_view text, Secrets secrets);

/// Keeps printable ASCII only (other bytes become spaces), then truncates to `max_chars`.
std::string scrub(std::string_view text, std::size_t max_chars = 200);

/// Untrusted text (a server's error message or HTTP reason) made fit for a Failure::detail:
/// kWithheld when it repeats one of `secrets`, else scrubbed to `max_chars`.
std::string untrustedText(std::string_view text, Secrets secrets, std::size_t max_chars);

/// A Huawei error code from an untrusted body: [A-Za-z0-9._-] only, at most 40 characters.
std::string sanitizeErrorCode(std::string_view code);

/// Builds a Failure whose detail is scrubbed, or kWithheld when it repeats one of `secrets`.
Failure makeFailure(TransportError error, std::string_view detail, Secrets secrets,
                    int http_status = 0, std::string error_code = {});

/// The error class of a non-2xx HTTP status (429 or MMC.100000429 → RateLimited, 5xx →
/// ServerError, other 4xx → Rejected, anything else → BadResponse).
TransportError classifyHttpStatus(int http_status, std::string_view error_code);

/// Maps the exception being handled to a Failure. Call only inside a catch block.
Failure failureFromCurrentException(Secrets secrets);

/// When `failure` is a Tls failure and the calling thread recorded a certificate rejection since
/// clearCertificateRejection() (tls.h), replaces its detail with why: OpenSSL's verification
/// error, and for a name mismatch the names the certificate holds, `checked_name` (what it was
/// verified for) and `name_fix` (the setting that fixes it). Otherwise returns `failure` as is.
Failure explainCertificateRejection(Failure failure, std::string_view checked_name,
                                    std::string_view name_fix);

}  // namespace hme::transport::detail
