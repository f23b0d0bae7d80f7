#pragma once
/// Internal to hme::transport: URL pieces, timeouts and tolerant JSON field access shared by
/// RestClient and WsConnection. Not part of the public API.

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPSession.h>
#include <Poco/Timespan.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hme::transport::detail {

/// Percent-encodes everything except RFC 3986 unreserved characters (for query values).
std::string encodeQueryValue(std::string_view value);

/// Percent-encodes a decoded URL path, keeping '/' and unreserved characters; drops a trailing
/// '/', so "/" and "" both give "".
std::string encodePathPrefix(std::string_view path);

/// `timeout` as a Poco::Timespan, at least 1 ms (so zero or negative values give 1 ms).
Poco::Timespan toTimespan(std::chrono::milliseconds timeout);

/// The receive timeout to set on a TLS socket so that a read gives up after about `timeout`.
/// Measured with Poco 1.11 + OpenSSL 3: a blocking TLS read that gets nothing gives up after about
/// twice the socket's receive timeout (SSL_read waits SO_RCVTIMEO in recv(), then Poco's retry
/// loop waits again before throwing). Setting half compensates.
Poco::Timespan tlsReceiveTimeout(std::chrono::milliseconds timeout);

/// Applies `timeout` to a new HTTPS session. Measured with Poco 1.11: the TCP connect waits at most
/// the connection timeout; a response read waits about twice the receive timeout; a stalled TLS
/// handshake waits the connection timeout plus twice the receive timeout. With both set to half,
/// connect ≤ timeout/2, a response ≤ ~timeout, a stalled handshake ≤ ~1.5 × timeout.
void applyTimeout(Poco::Net::HTTPSession& session, std::chrono::milliseconds timeout);

/// A non-empty string field, or nullopt if absent, empty or not a string.
std::optional<std::string> stringField(const Poco::JSON::Object& object, const std::string& key);

/// An integer field given as a JSON number or a decimal string; nullopt if absent or invalid.
std::optional<std::int64_t> int64Field(const Poco::JSON::Object& object, const std::string& key);

/// Parses `text` as a JSON object; null if it is not valid JSON or not an object. Never throws.
Poco::JSON::Object::Ptr parseObject(const std::string& text);

}  // namespace hme::transport::detail
