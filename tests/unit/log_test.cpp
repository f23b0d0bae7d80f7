#include "plugin/log/log.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <ctime>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "plugin/log/rate_limiter.h"
#include "plugin/log/token_filter.h"

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

// Registers a secret with the token net for the duration of a test, so one failing test cannot
// leak it into others.
struct ScopedToken {
  hme::Secret secret;
  explicit ScopedToken(std::string s) : secret(std::move(s)) { hme::log::registerToken(secret); }
  ~ScopedToken() { hme::log::unregisterToken(secret); }
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

BOOST_AUTO_TEST_CASE(token_set_replaces_only_whole_registered_runs) {
  hme::log::TokenSet tokens;
  tokens.add("cnr0123456789abcdef");
  BOOST_TEST(tokens.size() == 1u);
  BOOST_TEST(tokens.filter("tok=cnr0123456789abcdef, again cnr0123456789abcdef.") ==
             "tok=<redacted>, again <redacted>.");
  // A longer run that contains the token, or a part of it, is another value: left alone.
  BOOST_TEST(tokens.filter("xcnr0123456789abcdef cnr0123456789abcde") ==
             "xcnr0123456789abcdef cnr0123456789abcde");
  BOOST_TEST(!tokens.matches("nothing here"));
  BOOST_TEST(tokens.filter("") == "");

  // Short secrets (host passwords, words) are never registered, so nothing containing them
  // changes.
  for (const char* short_secret : {"964776", "900964776", "meeting", "admin", "info"}) {
    tokens.add(short_secret);
  }
  BOOST_TEST(tokens.size() == 1u);
  BOOST_TEST(tokens.filter("meeting 900964776 admin info 964776") ==
             "meeting 900964776 admin info 964776");

  // A token with characters outside the alphabet is covered by its long runs.
  tokens.add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig");
  BOOST_TEST(tokens.size() == 3u);
  BOOST_TEST(tokens.filter("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig") ==
             "jwt <redacted>.<redacted>.sig");
}

BOOST_AUTO_TEST_CASE(ids_and_words_that_contain_a_password_are_written_whole) {
  // The runner registers every meeting's password with the net, as it does its tokens; short
  // ones are ignored, so a meeting ID that contains its password (or a password that contains
  // the ID) and common-word passwords change nothing.
  ScopedToken inside("964776");
  ScopedToken outside("900964776123");
  ScopedToken word_meeting("meeting");
  ScopedToken word_admin("admin");
  ScopedToken word_info("info");
  for (const Format format : {Format::Logfmt, Format::Json}) {
    Captured c(format);
    c.logger.log(
        Level::Info, "meeting state changed",
        {{"meeting_id", "900964776"}, {"other", "964776"}, {"admin", "info"}, {"n", 964776}});
    const std::string expected =
        format == Format::Logfmt
            ? "ts=2026-11-28T03:00:00.123Z level=info msg=\"meeting state changed\" "
              "meeting_id=900964776 other=964776 admin=info n=964776\n"
            : "{\"ts\":\"2026-11-28T03:00:00.123Z\",\"level\":\"info\",\"msg\":\"meeting state "
              "changed\",\"meeting_id\":\"900964776\",\"other\":\"964776\",\"admin\":\"info\","
              "\"n\":964776}\n";
    BOOST_TEST(c.out == expected);
  }
}

BOOST_AUTO_TEST_CASE(registered_tokens_never_reach_a_line) {
  ScopedToken token("cnr5f3e9a0b1c2d3e4f5a6b7c8d");
  ScopedToken numeric("12345678901234567890");
  for (const Format format : {Format::Logfmt, Format::Json, Format::Telegraf}) {
    Captured c(format);
    c.logger.log(
        Level::Error, "login cnr5f3e9a0b1c2d3e4f5a6b7c8d failed",
        {{"body", "{\"token\":\"cnr5f3e9a0b1c2d3e4f5a6b7c8d\"}"}, {"n", 12345678901234567890ULL}});
    BOOST_TEST(c.out.find("cnr5f3e9a0b1c2d3e4f5a6b7c8d") == std::string::npos, c.out);
    BOOST_TEST(c.out.find("12345678901234567890") == std::string::npos, c.out);
    BOOST_TEST(c.out.find("login <redacted> failed") != std::string::npos, c.out);
  }
  // A number that was a token is no number any more: JSON gets a string.
  Captured json(Format::Json);
  json.logger.log(Level::Info, "x", {{"n", 12345678901234567890ULL}, {"m", 7}});
  BOOST_TEST(json.out ==
             "{\"ts\":\"2026-11-28T03:00:00.123Z\",\"level\":\"info\",\"msg\":\"x\","
             "\"n\":\"<redacted>\",\"m\":7}\n");
}

BOOST_AUTO_TEST_CASE(token_registrations_are_counted) {
  const hme::Secret token("s3cr3t-token-0123456789");
  hme::log::registerToken(token);
  hme::log::registerToken(token);
  hme::log::unregisterToken(token);
  BOOST_TEST(hme::log::withoutTokens(token.reveal()) == "<redacted>");
  hme::log::unregisterToken(token);
  BOOST_TEST(hme::log::withoutTokens(token.reveal()) == token.reveal());
  hme::log::unregisterToken(token);  // unknown: ignored
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace hme_log_test
