#include "plugin/log/log.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <ctime>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plugin/log/rate_limiter.h"
#include "plugin/log/redact.h"

namespace {

using hme::log::Field;
using hme::log::Format;
using hme::log::Level;
using hme::log::Logger;
using hme::log::RateLimiter;

// 2026-11-28T03:00:00.123Z
std::chrono::system_clock::time_point fixedTime() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 28;
  tm.tm_hour = 3;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(123);
}

// A logger writing into a string with a fixed clock.
struct Captured {
  Logger logger;
  std::string out;

  explicit Captured(Format format = Format::Logfmt) {
    logger.setFormat(format);
    logger.setClock(fixedTime);
    logger.setSink([this](std::string_view line) { out.append(line); });
  }
};

// Registers a secret for the duration of a test, so one failing test cannot leak it into others.
struct ScopedSecret {
  std::string secret;
  explicit ScopedSecret(std::string s) : secret(std::move(s)) { hme::log::registerSecret(secret); }
  ~ScopedSecret() { hme::log::unregisterSecret(secret); }
};

struct ManualClock {
  std::chrono::steady_clock::time_point now{};
  RateLimiter::Clock fn() {
    return [this] { return now; };
  }
};

}  // namespace

// The suite is named `log`; an enclosing namespace keeps Boost's `namespace log` apart from
// the C library's ::log.
namespace hme_log_test {

BOOST_AUTO_TEST_SUITE(log)

BOOST_AUTO_TEST_CASE(logfmt_line_has_timestamp_level_message_and_fields) {
  Captured c;
  c.logger.log(Level::Info, "subscribed", {{"meeting_id", "900487914"}, {"attempt", 3}});
  BOOST_TEST(c.out ==
             "ts=2026-11-28T03:00:00.123Z level=info msg=subscribed meeting_id=900487914 "
             "attempt=3\n");
}

BOOST_AUTO_TEST_CASE(logfmt_quotes_and_escapes_only_when_needed) {
  Captured c;
  c.logger.log(Level::Warn, "frame rejected",
               {{"space", "a b"},
                {"equals", "k=v"},
                {"quote", "say \"hi\""},
                {"newline", "l1\nl2"},
                {"tab", "a\tb"},
                {"control", std::string_view("\x01", 1)},
                {"empty", ""},
                {"backslash", "a\\b"},
                {"utf8", "Zo\xC3\xAB"},
                {"invalid_utf8", "a\xFF"},
                {"bad key=", "x"}});
  BOOST_TEST(c.out ==
             "ts=2026-11-28T03:00:00.123Z level=warn msg=\"frame rejected\" space=\"a b\" "
             "equals=\"k=v\" quote=\"say \\\"hi\\\"\" newline=\"l1\\nl2\" tab=\"a\\tb\" "
             "control=\"\\u0001\" empty=\"\" backslash=a\\b utf8=Zo\xC3\xAB "
             "invalid_utf8=\"a\xEF\xBF\xBD\" bad_key_=x\n");
}

BOOST_AUTO_TEST_CASE(json_line_is_one_object_with_typed_values) {
  Captured c(Format::Json);
  c.logger.log(Level::Error, "token call failed",
               {{"meeting_id", "900487914"},
                {"status", 401},
                {"retry", true},
                {"ratio", 0.25},
                {"nan", std::numeric_limits<double>::quiet_NaN()},
                {"detail", "line1\n\"quoted\"\\ \x02 \xC0\xAF"}});
  BOOST_TEST(c.out ==
             "{\"ts\":\"2026-11-28T03:00:00.123Z\",\"level\":\"error\",\"msg\":\"token call "
             "failed\",\"meeting_id\":\"900487914\",\"status\":401,\"retry\":true,\"ratio\":0.25,"
             "\"nan\":\"nan\",\"detail\":\"line1\\n\\\"quoted\\\"\\\\ \\u0002 "
             "\xEF\xBF\xBD\xEF\xBF\xBD\"}\n");
}

BOOST_AUTO_TEST_CASE(fields_can_come_from_a_vector) {
  Captured c;
  std::vector<Field> fields{{"a", 1}, {"b", "two"}};
  fields.emplace_back("c", -3L);
  c.logger.log(Level::Info, "m", fields);
  BOOST_TEST(c.out == "ts=2026-11-28T03:00:00.123Z level=info msg=m a=1 b=two c=-3\n");
}

BOOST_AUTO_TEST_CASE(level_filters_lower_severities) {
  Captured c;
  c.logger.setLevel(Level::Warn);
  BOOST_TEST(!c.logger.enabled(Level::Info));
  BOOST_TEST(c.logger.enabled(Level::Error));
  c.logger.log(Level::Debug, "d");
  c.logger.log(Level::Info, "i");
  c.logger.log(Level::Warn, "w");
  c.logger.log(Level::Error, "e");
  BOOST_TEST(c.out ==
             "ts=2026-11-28T03:00:00.123Z level=warn msg=w\n"
             "ts=2026-11-28T03:00:00.123Z level=error msg=e\n");
  c.out.clear();
  c.logger.setLevel(Level::Debug);
  c.logger.log(Level::Debug, "d");
  BOOST_TEST(c.out == "ts=2026-11-28T03:00:00.123Z level=debug msg=d\n");
}

BOOST_AUTO_TEST_CASE(flag_values_parse_strictly) {
  BOOST_TEST((hme::log::parseLevel("debug") == Level::Debug));
  BOOST_TEST((hme::log::parseLevel("info") == Level::Info));
  BOOST_TEST((hme::log::parseLevel("warn") == Level::Warn));
  BOOST_TEST((hme::log::parseLevel("error") == Level::Error));
  BOOST_TEST(!hme::log::parseLevel("INFO").has_value());
  BOOST_TEST(!hme::log::parseLevel("warning").has_value());
  BOOST_TEST((hme::log::parseFormat("logfmt") == Format::Logfmt));
  BOOST_TEST((hme::log::parseFormat("json") == Format::Json));
  BOOST_TEST(!hme::log::parseFormat("text").has_value());
  for (Level l : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    BOOST_TEST((hme::log::parseLevel(hme::log::levelName(l)) == l));
  }
}

BOOST_AUTO_TEST_CASE(stream_sink_receives_whole_lines) {
  std::ostringstream os;
  Logger logger;
  logger.setClock(fixedTime);
  logger.setStream(os);
  logger.log(Level::Info, "hello");
  BOOST_TEST(os.str() == "ts=2026-11-28T03:00:00.123Z level=info msg=hello\n");
}

BOOST_AUTO_TEST_CASE(concurrent_lines_never_interleave) {
  Logger logger;
  logger.setFormat(Format::Json);
  std::vector<std::string> lines;
  // The sink is called under the logger's lock, so it needs none of its own.
  logger.setSink([&lines](std::string_view line) { lines.emplace_back(line); });
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kLines; ++i) {
        logger.log(Level::Info, "a message with some length to it", {{"thread", t}, {"i", i}});
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  BOOST_TEST(lines.size() == static_cast<std::size_t>(kThreads * kLines));
  for (const auto& line : lines) {
    BOOST_TEST_REQUIRE(line.front() == '{');
    BOOST_TEST_REQUIRE(line.substr(line.size() - 2) == "}\n");
    BOOST_TEST_REQUIRE(line.find('\n') == line.size() - 1);
  }
}

BOOST_AUTO_TEST_CASE(rate_limiter_admits_n_per_key_per_interval) {
  ManualClock clock;
  RateLimiter limiter(2, std::chrono::seconds(10), clock.fn());
  BOOST_TEST(limiter.admit("bad_json").admitted);
  BOOST_TEST(limiter.admit("bad_json").admitted);
  BOOST_TEST(!limiter.admit("bad_json").admitted);
  BOOST_TEST(limiter.admit("too_large").admitted);  // keys are independent
  clock.now += std::chrono::milliseconds(9999);
  BOOST_TEST(!limiter.admit("bad_json").admitted);  // still the same window

  clock.now += std::chrono::milliseconds(1);
  auto reopened = limiter.admit("bad_json");
  BOOST_TEST(reopened.admitted);
  BOOST_TEST(reopened.suppressed == 2u);
  auto next = limiter.admit("bad_json");
  BOOST_TEST(next.admitted);
  BOOST_TEST(next.suppressed == 0u);  // reported once only
  auto dropped = limiter.admit("bad_json");
  BOOST_TEST(!dropped.admitted);
  BOOST_TEST(dropped.suppressed == 0u);
}

BOOST_AUTO_TEST_CASE(rate_limiter_bounds_its_keys) {
  ManualClock clock;
  RateLimiter limiter(1, std::chrono::seconds(1), clock.fn(), 2);
  BOOST_TEST(limiter.admit("a").admitted);
  BOOST_TEST(limiter.admit("b").admitted);
  BOOST_TEST(limiter.admit("c").admitted);   // overflow window
  BOOST_TEST(!limiter.admit("d").admitted);  // shares the overflow window
  BOOST_TEST(!limiter.admit("a").admitted);  // "a" still has its own, spent window

  clock.now += std::chrono::seconds(1);
  // "b" expired with nothing to report and is forgotten; "a" keeps its pending note.
  auto e = limiter.admit("e");
  BOOST_TEST(e.admitted);
  BOOST_TEST(e.suppressed == 0u);
  auto a = limiter.admit("a");
  BOOST_TEST(a.admitted);
  BOOST_TEST(a.suppressed == 1u);
}

BOOST_AUTO_TEST_CASE(rate_limiter_rejects_nonsense_settings) {
  BOOST_CHECK_THROW(RateLimiter(0, std::chrono::seconds(1)), std::invalid_argument);
  BOOST_CHECK_THROW(RateLimiter(1, std::chrono::seconds(0)), std::invalid_argument);
  BOOST_CHECK_THROW(RateLimiter(1, std::chrono::seconds(1), {}, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(limited_lines_carry_the_suppressed_count) {
  ManualClock clock;
  RateLimiter limiter(1, std::chrono::minutes(1), clock.fn());
  Captured c;
  BOOST_TEST(c.logger.logLimited(limiter, "k", Level::Warn, "bad frame", {{"reason", "x"}}));
  BOOST_TEST(!c.logger.logLimited(limiter, "k", Level::Warn, "bad frame", {{"reason", "x"}}));
  BOOST_TEST(!c.logger.logLimited(limiter, "k", Level::Warn, "bad frame", {{"reason", "x"}}));
  clock.now += std::chrono::minutes(1);
  BOOST_TEST(c.logger.logLimited(limiter, "k", Level::Warn, "bad frame", {{"reason", "y"}}));
  BOOST_TEST(c.out ==
             "ts=2026-11-28T03:00:00.123Z level=warn msg=\"bad frame\" reason=x\n"
             "ts=2026-11-28T03:00:00.123Z level=warn msg=\"bad frame\" reason=y suppressed=2\n");

  // A disabled level does not spend the budget.
  c.out.clear();
  c.logger.setLevel(Level::Error);
  BOOST_TEST(!c.logger.logLimited(limiter, "j", Level::Debug, "quiet"));
  c.logger.setLevel(Level::Debug);
  BOOST_TEST(c.logger.logLimited(limiter, "j", Level::Debug, "loud"));
  BOOST_TEST(c.out == "ts=2026-11-28T03:00:00.123Z level=debug msg=loud\n");
}

BOOST_AUTO_TEST_CASE(redact_replaces_every_occurrence_longest_first) {
  using hme::log::redact;
  BOOST_TEST(redact("pw=hunter22, again hunter22.", {"hunter22"}) ==
             "pw=<redacted>, again <redacted>.");
  BOOST_TEST(redact("xabcdefx abcd", {"abcd", "abcdef"}) == "x<redacted>x <redacted>");
  BOOST_TEST(redact("pin abc", {"abc", ""}) == "pin abc");  // too short to redact
  // The replacement itself is not scanned again.
  BOOST_TEST(redact("dact", {"dact"}) == "<redacted>");
  BOOST_TEST(redact("nothing here", {}) == "nothing here");
}

BOOST_AUTO_TEST_CASE(registered_secrets_never_reach_a_line) {
  ScopedSecret password("hunter22");
  Captured c;
  c.logger.log(Level::Error, "login hunter22 failed",
               {{"body", "{\"password\":\"hunter22\"}"}, {"hunter22", "key"}});
  BOOST_TEST(c.out.find("hunter22") == std::string::npos);
  BOOST_TEST(c.out.find("msg=\"login <redacted> failed\"") != std::string::npos);
  BOOST_TEST(hme::log::redact("the hunter22") == "the <redacted>");
}

BOOST_AUTO_TEST_CASE(registered_secrets_are_redacted_before_json_escaping) {
  // Escaping would turn this secret into pa\"ss\\word, which a redaction of the finished line
  // would miss.
  ScopedSecret password("pa\"ss\\word");
  ScopedSecret pin("123456");
  Captured c(Format::Json);
  c.logger.log(Level::Info, "x", {{"password", "pa\"ss\\word"}, {"pin", 123456}, {"n", 7}});
  BOOST_TEST(c.out ==
             "{\"ts\":\"2026-11-28T03:00:00.123Z\",\"level\":\"info\",\"msg\":\"x\","
             "\"password\":\"<redacted>\",\"pin\":\"<redacted>\",\"n\":7}\n");
}

BOOST_AUTO_TEST_CASE(secret_registrations_are_counted) {
  const std::string secret = "s3cr3t-token";
  hme::log::registerSecret(secret);
  hme::log::registerSecret(secret);
  hme::log::unregisterSecret(secret);
  BOOST_TEST(hme::log::redact(secret) == "<redacted>");
  hme::log::unregisterSecret(secret);
  BOOST_TEST(hme::log::redact(secret) == secret);
  hme::log::unregisterSecret(secret);  // unknown: ignored
  hme::log::registerSecret("abc");     // too short: ignored
  BOOST_TEST(hme::log::redact("abc") == "abc");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace hme_log_test
