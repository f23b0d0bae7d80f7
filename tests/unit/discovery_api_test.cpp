// Parsing of the management API answers (spec/discovery.md §1–2): untrusted JSON in, typed
// values or a refusal out.

#include <boost/test/unit_test.hpp>
#include <string>

#include "plugin/discovery/management_api.h"

namespace d = hme::discovery;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(discovery_api)

BOOST_AUTO_TEST_CASE(access_token_takes_the_smaller_plausible_lifetime) {
  const auto token = d::parseAccessToken(
      R"({"accessToken":"cnr-abc123","validPeriod":43200,"expireTime":1700003600,)"
      R"("createTime":1700000000000,"user":{"adminType":2}})",
      1700000000);
  BOOST_TEST_REQUIRE(token.has_value());
  BOOST_TEST(token->token.reveal() == "cnr-abc123");
  BOOST_TEST(token->lifetime.count() == 3600);  // expireTime is nearer than validPeriod
  const auto by_period =
      d::parseAccessToken(R"({"accessToken":"t","validPeriod":"86400"})", 1700000000);
  BOOST_TEST_REQUIRE(by_period.has_value());
  BOOST_TEST(by_period->lifetime.count() == 86400);
  const auto implausible = d::parseAccessToken(
      R"({"accessToken":"t","validPeriod":-5,"expireTime":1600000000})", 1700000000);
  BOOST_TEST_REQUIRE(implausible.has_value());
  BOOST_TEST(implausible->lifetime.count() == 3600);  // fallback: re-login within the hour
}

BOOST_AUTO_TEST_CASE(access_token_must_be_a_visible_ascii_token) {
  for (const char* body :
       {R"({"validPeriod":1})", R"({"accessToken":""})", R"({"accessToken":"a b"})",
        "{\"accessToken\":\"a\\r\\nX-Evil: 1\"}", R"({"accessToken":42})", "[]", "nonsense"}) {
    BOOST_TEST_CONTEXT(body) { BOOST_TEST(!d::parseAccessToken(body, 0).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(online_page_reads_the_chair_entry_only) {
  const auto page = d::parseOnlinePage(R"({"offset":0,"limit":500,"count":"3","data":[
      {"conferenceID":"900100001","confUUID":"u-1","subject":"Weekly\nsync","scheduserName":"Ann",
       "conferenceState":"Created","webinar":false,
       "passwordEntry":[{"conferenceRole":"general","password":"guest"},
                        {"conferenceRole":"chair","password":"host-1"}]},
      {"conferenceID":"900100002","confUUID":"u-2","passwordEntry":
         [{"conferenceRole":"general","password":"guest-only"}]},
      {"conferenceID":"not-digits","confUUID":"u-3"},
      {"conferenceID":"900100004","webinar":true,"confUUID":"bad uuid with spaces"}]})");
  BOOST_TEST_REQUIRE(page.has_value());
  BOOST_TEST(page->count == 3);
  BOOST_TEST(page->dropped == 1u);
  BOOST_TEST_REQUIRE(page->items.size() == 3u);
  BOOST_TEST(page->items[0].meeting_id == "900100001");
  BOOST_TEST(page->items[0].conf_uuid == "u-1");
  BOOST_TEST(page->items[0].subject == "Weekly sync");  // control characters become spaces
  BOOST_TEST(page->items[0].scheduler == "Ann");
  BOOST_TEST(page->items[0].state == "Created");
  BOOST_TEST(page->items[0].chair_password.reveal() == "host-1");
  BOOST_TEST(page->items[1].chair_password.empty());  // a general password is not a host one
  BOOST_TEST(page->items[2].webinar);
  BOOST_TEST(page->items[2].conf_uuid.empty());
  BOOST_TEST(!d::parseOnlinePage(R"({"count":1,"data":{}})").has_value());
  BOOST_TEST(!d::parseOnlinePage("<html>").has_value());
}

BOOST_AUTO_TEST_CASE(webinar_page_takes_chair_passwd) {
  const auto page = d::parseWebinarPage(R"({"count":2,"data":[
      {"conferenceId":"900200004","subject":"Town hall","chairPasswd":"w-host",
       "guestPasswd":"g","audiencePasswd":"a"},
      {"conferenceId":"900200005","subject":"No password"}]})");
  BOOST_TEST_REQUIRE(page.has_value());
  BOOST_TEST_REQUIRE(page->items.size() == 2u);
  BOOST_TEST(page->items[0].webinar);
  BOOST_TEST(page->items[0].chair_password.reveal() == "w-host");
  BOOST_TEST(page->items[1].chair_password.empty());
}

BOOST_AUTO_TEST_CASE(conf_detail_reads_conference_data) {
  const auto detail = d::parseConfDetail(
      R"({"conferenceData":{"conferenceID":"900100002","confUUID":"u-2","role":"chair",
          "passwordEntry":[{"conferenceRole":"chair","password":"host-2"}]},"data":{}})");
  BOOST_TEST_REQUIRE(detail.has_value());
  BOOST_TEST(detail->chair_password.reveal() == "host-2");
  BOOST_TEST(!d::parseConfDetail(R"({"data":{}})").has_value());
  BOOST_TEST(!d::parseConfDetail(R"({"conferenceData":{"conferenceID":""}})").has_value());
}

BOOST_AUTO_TEST_CASE(paths_page_with_offset_and_limit) {
  BOOST_TEST(d::onlineListPath(500, 500) ==
             "/v1/mmc/management/conferences/online?queryAll=true&offset=500&limit=500");
  BOOST_TEST(d::webinarListPath(0, 500) ==
             "/v1/wss/webinar/open/conferences/ongoing?offset=0&limit=500");
  BOOST_TEST(d::confDetailPath("900100002") ==
             "/v1/mmc/management/conferences/online/confDetail?conferenceID=900100002");
}

BOOST_AUTO_TEST_CASE(rate_limit_header_is_parsed) {
  const auto limit = d::parseRateLimit("remain:99,limit:100,time:1 minute");
  BOOST_TEST_REQUIRE(limit.has_value());
  BOOST_TEST(limit->remain == 99);
  BOOST_TEST(limit->limit == 100);
  BOOST_TEST(limit->window.count() == 60'000);
  const auto seconds = d::parseRateLimit(" remain: 0 , limit:3, time:5 seconds");
  BOOST_TEST_REQUIRE(seconds.has_value());
  BOOST_TEST(seconds->remain == 0);
  BOOST_TEST(seconds->window.count() == 5'000);
  const auto odd_window = d::parseRateLimit("remain:1,time:forever");
  BOOST_TEST_REQUIRE(odd_window.has_value());
  BOOST_TEST(odd_window->window.count() == 60'000);  // unreadable: one minute
  BOOST_TEST(!d::parseRateLimit("limit:100").has_value());
  BOOST_TEST(!d::parseRateLimit("remain:lots").has_value());
  BOOST_TEST(!d::parseRateLimit("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
