#include "plugin/log/log.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <ostream>

#include "plugin/log/rate_limiter.h"
#include "plugin/log/token_filter.h"

namespace hme::log {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid (overlong forms,
// surrogates and code points above U+10FFFF included). Values come from untrusted peers and JSON
// output must stay valid UTF-8.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    return 1;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) {
      lo = 0xA0;
    }
    if (b0 == 0xED) {
      hi = 0x9F;
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) {
      lo = 0x90;
    }
    if (b0 == 0xF4) {
      hi = 0x8F;
    }
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  if (byte(i + 1) < lo || byte(i + 1) > hi) {
    return 0;
  }
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return len;
}

void appendHexEscape(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
  out.append(buf);
}

// Appends `s` as the inside of a double-quoted string. The escapes are common to JSON and
// logfmt (go-logfmt uses the same ones), invalid UTF-8 becomes U+FFFD.
void appendEscaped(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8SequenceLength(s, i);
      if (len == 0) {
        out.append(kReplacementChar);
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          appendHexEscape(out, c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  appendEscaped(out, s);
  out.push_back('"');
}

// logfmt quotes a value only when a parser would otherwise split or misread it.
bool logfmtNeedsQuotes(std::string_view s) {
  if (s.empty()) {
    return true;
  }
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c <= ' ' || c == '=' || c == '"' || c == 0x7F) {
      return true;
    }
    if (c >= 0x80) {
      const std::size_t len = utf8SequenceLength(s, i);
      if (len == 0) {
        return true;
      }
      i += len;
    } else {
      ++i;
    }
  }
  return false;
}

void appendLogfmtValue(std::string& out, std::string_view s) {
  if (logfmtNeedsQuotes(s)) {
    appendJsonString(out, s);
  } else {
    out.append(s);
  }
}

// Keys come from code, but a key with a space or '=' would corrupt the line, so such bytes are
// replaced rather than trusted.
void appendLogfmtKey(std::string& out, std::string_view key) {
  if (key.empty()) {
    out.push_back('_');
    return;
  }
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(c <= ' ' || c == '=' || c == '"' || c >= 0x7F ? '_' : ch);
  }
}

std::string formatTimestamp(std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(tp).time_since_epoch().count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::string_view telegrafPrefix(Level level) {
  switch (level) {
    case Level::Debug:
      return "D! ";
    case Level::Info:
      return "I! ";
    case Level::Warn:
      return "W! ";
    case Level::Error:
      return "E! ";
  }
  return "E! ";
}

// ` key=value` for every field (the logfmt and Telegraf formats share it). Keys come from code;
// values pass the token net.
void appendLogfmtFields(std::string& line, Fields fields) {
  for (const Field& f : fields) {
    line.push_back(' ');
    appendLogfmtKey(line, f.key());
    line.push_back('=');
    appendLogfmtValue(line, withoutTokens(f.value()));
  }
}

std::string formatLine(Format format, std::chrono::system_clock::time_point ts, Level level,
                       std::string_view msg, Fields fields) {
  const std::string stamp = formatTimestamp(ts);
  std::string line;
  line.reserve(128);
  if (format == Format::Json) {
    line.append("{\"ts\":\"").append(stamp).append("\",\"level\":\"");
    line.append(levelName(level)).append("\",\"msg\":");
    appendJsonString(line, withoutTokens(msg));
    for (const Field& f : fields) {
      line.push_back(',');
      appendJsonString(line, f.key());
      line.push_back(':');
      const std::string value = withoutTokens(f.value());
      // A number that is a registered (all-digit) token is replaced, and is then no number.
      if (f.literal() && value == f.value()) {
        line.append(value);
      } else {
        appendJsonString(line, value);
      }
    }
    line.append("}\n");
  } else if (format == Format::Telegraf) {
    line.append(telegrafPrefix(level));
    // The message is written bare (escaped, never quoted) so Telegraf's log reads naturally.
    appendEscaped(line, withoutTokens(msg));
    appendLogfmtFields(line, fields);
    line.push_back('\n');
  } else {
    line.append("ts=").append(stamp).append(" level=").append(levelName(level));
    line.append(" msg=");
    appendLogfmtValue(line, withoutTokens(msg));
    appendLogfmtFields(line, fields);
    line.push_back('\n');
  }
  return line;
}

void writeStderr(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

std::optional<Level> parseLevel(std::string_view text) {
  if (text == "debug") {
    return Level::Debug;
  }
  if (text == "info") {
    return Level::Info;
  }
  if (text == "warn") {
    return Level::Warn;
  }
  if (text == "error") {
    return Level::Error;
  }
  return std::nullopt;
}

std::optional<Format> parseFormat(std::string_view text) {
  if (text == "logfmt") {
    return Format::Logfmt;
  }
  if (text == "json") {
    return Format::Json;
  }
  return std::nullopt;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
  }
  return "unknown";
}

void Field::setFloating(double value) {
  if (!std::isfinite(value)) {
    value_ = std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
    return;
  }
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  value_.assign(buf, result.ptr);
  literal_ = true;
}

Logger::Logger() : sink_(writeStderr), clock_([] { return std::chrono::system_clock::now(); }) {}

void Logger::setLevel(Level level) { level_.store(level); }
Level Logger::level() const { return level_.load(); }
void Logger::setFormat(Format format) { format_.store(format); }
Format Logger::format() const { return format_.load(); }

void Logger::setSink(Sink sink) {
  std::lock_guard lock(mutex_);
  sink_ = sink ? std::move(sink) : Sink(writeStderr);
}

void Logger::setStream(std::ostream& stream) {
  setSink([&stream](std::string_view line) {
    stream.write(line.data(), static_cast<std::streamsize>(line.size()));
    stream.flush();
  });
}

void Logger::setClock(WallClock clock) {
  std::lock_guard lock(mutex_);
  clock_ = clock ? std::move(clock) : WallClock([] { return std::chrono::system_clock::now(); });
}

bool Logger::enabled(Level level) const { return level >= level_.load(); }

void Logger::log(Level level, std::string_view msg, Fields fields) noexcept {
  if (!enabled(level)) {
    return;
  }
  try {
    // Formatting happens under the lock too: it needs the clock, and timestamps then stay
    // monotonic in the output.
    std::lock_guard lock(mutex_);
    sink_(formatLine(format_.load(), clock_(), level, msg, fields));
  } catch (...) {
    // Logging must never take the process down; the line is lost.
  }
}

bool Logger::logLimited(RateLimiter& limiter, std::string_view key, Level level,
                        std::string_view msg, Fields fields) noexcept {
  if (!enabled(level)) {
    return false;
  }
  try {
    const RateLimiter::Admission admission = limiter.admit(key);
    if (!admission.admitted) {
      return false;
    }
    if (admission.suppressed == 0) {
      log(level, msg, fields);
    } else {
      std::vector<Field> with_note(fields.begin(), fields.end());
      with_note.emplace_back("suppressed", admission.suppressed);
      log(level, msg, with_note);
    }
    return true;
  } catch (...) {
    return false;
  }
}

Logger& logger() {
  static Logger instance;
  return instance;
}

void debug(std::string_view msg, Fields fields) noexcept {
  logger().log(Level::Debug, msg, fields);
}
void info(std::string_view msg, Fields fields) noexcept { logger().log(Level::Info, msg, fields); }
void warn(std::string_view msg, Fields fields) noexcept { logger().log(Level::Warn, msg, fields); }
void error(std::string_view msg, Fields fields) noexcept {
  logger().log(Level::Error, msg, fields);
}

bool limited(RateLimiter& limiter, std::string_view key, Level level, std::string_view msg,
             Fields fields) noexcept {
  return logger().logLimited(limiter, key, level, msg, fields);
}

}  // namespace hme::log
