#pragma once
/// Structured logging in the Prometheus exporters' style: one line per event, `logfmt` or JSON,
/// to stderr by default:
///
///   ts=2026-11-28T03:00:00.123Z level=info msg=subscribed meeting_id=900487914
///   {"ts":"2026-11-28T03:00:00.123Z","level":"info","msg":"subscribed","meeting_id":900487914}
///
/// Usage: `hme::log::info("subscribed", {{"meeting_id", id}, {"attempt", 3}});`
/// Secrets are never passed in (they are hme::Secret, which has no text to print). As a last
/// resort, the message and every value pass the token net of plugin/log/token_filter.h, which
/// replaces a registered long random token found whole and changes nothing else.

#include <atomic>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace hme::log {

class RateLimiter;

/// Severity, in increasing order. A logger at level L writes lines of level >= L.
enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

/// Line format: `--log.format` chooses Logfmt or Json; `--telegraf.execd` uses Telegraf, which
/// is Telegraf's convention for a plugin's stderr: a level prefix `E!`, `W!`, `I!` or `D!`, then
/// the message and logfmt fields, no timestamp (Telegraf adds its own):
///   I! subscribed meeting_id=900487914
enum class Format { Logfmt, Json, Telegraf };

/// Parses a `--log.level` value: "debug", "info", "warn" or "error"; nullopt otherwise.
std::optional<Level> parseLevel(std::string_view text);

/// Parses a `--log.format` value: "logfmt" or "json"; nullopt otherwise.
std::optional<Format> parseFormat(std::string_view text);

/// The name written in the `level` field ("debug", "info", "warn", "error").
std::string_view levelName(Level level);

/// One key/value pair of a line. Strings are copied; integers and booleans are kept as JSON
/// literals (written unquoted in JSON); floating point values are written in their shortest
/// round-trip form (non-finite ones as strings "nan", "inf", "-inf").
class Field {
 public:
  /// A string value.
  Field(std::string_view key, std::string_view value) : key_(key), value_(value) {}

  /// A numeric or boolean value (`char` excluded: it is almost always a mistake).
  template <typename T,
            std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, char>, int> = 0>
  Field(std::string_view key, T value) : key_(key) {
    if constexpr (std::is_same_v<T, bool>) {
      value_ = value ? "true" : "false";
      literal_ = true;
    } else if constexpr (std::is_integral_v<T>) {
      value_ = std::to_string(value);
      literal_ = true;
    } else {
      setFloating(static_cast<double>(value));
    }
  }

  const std::string& key() const { return key_; }
  const std::string& value() const { return value_; }
  /// True when value() is a valid JSON number or boolean literal.
  bool literal() const { return literal_; }

 private:
  void setFloating(double value);

  std::string key_;
  std::string value_;
  bool literal_ = false;
};

/// A borrowed view of fields: built implicitly from a braced list or a std::vector<Field>.
/// Only valid for the duration of the call it is passed to.
class Fields {
 public:
  Fields() = default;
// Fields is only ever a by-value parameter: the braced list's array lives until the end of the
// full-expression containing the call, which is all the view needs.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  Fields(std::initializer_list<Field> fields)  // NOLINT(google-explicit-constructor)
      : begin_(fields.begin()), end_(fields.end()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  Fields(const std::vector<Field>& fields)  // NOLINT(google-explicit-constructor)
      : begin_(fields.data()), end_(fields.data() + fields.size()) {}

  const Field* begin() const { return begin_; }
  const Field* end() const { return end_; }

 private:
  const Field* begin_ = nullptr;
  const Field* end_ = nullptr;
};

/// Formats lines and hands each complete line (with its trailing '\n') to a sink in one call.
/// Thread-safe: all members may be called concurrently; lines never interleave because the
/// sink is called under a mutex. log() never throws: a failing sink loses the line.
class Logger {
 public:
  /// Receives one complete line, newline included.
  using Sink = std::function<void(std::string_view line)>;
  /// Source of the `ts` field.
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  /// Level Info, format Logfmt, sink stderr, clock std::chrono::system_clock.
  Logger();

  void setLevel(Level level);
  Level level() const;
  void setFormat(Format format);
  Format format() const;
  /// Replaces the sink (e.g. to add a prefix). An empty function restores stderr.
  void setSink(Sink sink);
  /// Writes lines to `stream` (which must outlive its use here) and flushes after each.
  void setStream(std::ostream& stream);
  /// Replaces the clock; an empty function restores system_clock::now.
  void setClock(WallClock clock);

  /// True when a line of `level` would be written.
  bool enabled(Level level) const;

  /// Writes one line if `level` is enabled.
  void log(Level level, std::string_view msg, Fields fields = {}) noexcept;

  /// Writes one line if `level` is enabled and `limiter` admits `key`; when lines of this key
  /// were dropped before, the line gets a `suppressed=<count>` field. Returns whether the line
  /// was written. Disabled levels do not use up the limiter's budget.
  bool logLimited(RateLimiter& limiter, std::string_view key, Level level, std::string_view msg,
                  Fields fields = {}) noexcept;

 private:
  std::atomic<Level> level_{Level::Info};
  std::atomic<Format> format_{Format::Logfmt};
  std::mutex mutex_;  // guards sink_ and clock_, and serialises lines
  Sink sink_;
  WallClock clock_;
};

/// The process-wide logger that the free functions below write to.
Logger& logger();

/// Shorthands for logger().log(Level::X, ...).
void debug(std::string_view msg, Fields fields = {}) noexcept;
void info(std::string_view msg, Fields fields = {}) noexcept;
void warn(std::string_view msg, Fields fields = {}) noexcept;
void error(std::string_view msg, Fields fields = {}) noexcept;

/// Shorthand for logger().logLimited(...).
bool limited(RateLimiter& limiter, std::string_view key, Level level, std::string_view msg,
             Fields fields = {}) noexcept;

}  // namespace hme::log
