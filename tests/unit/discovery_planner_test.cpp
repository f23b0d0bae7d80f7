// The decisions of a discovery pass: which listed meetings to watch, with which password, and
// why others are skipped. The confDetail call is a fake that counts its calls.

#include <boost/test/unit_test.hpp>
#include <map>
#include <string>
#include <vector>

#include "plugin/discovery/planner.h"

namespace d = hme::discovery;
namespace cfg = hme::config;

namespace {

d::ListedMeeting meeting(const std::string& id, const std::string& chair = "",
                         const std::string& subject = "Meeting",
                         const std::string& scheduler = "Admin") {
  d::ListedMeeting m;
  m.meeting_id = id;
  m.conf_uuid = "uuid-" + id;
  m.subject = subject;
  m.scheduler = scheduler;
  m.state = "Created";
  if (!chair.empty()) m.chair_password = cfg::Secret(chair);
  return m;
}

d::ListedMeeting webinar(const std::string& id, const std::string& chair = "") {
  d::ListedMeeting m = meeting(id, chair, "Webinar");
  m.webinar = true;
  return m;
}

// A confDetail fake: answers from `chairs` (id → password, "" = no chair entry), fails for IDs
// in `failing`, and counts calls per ID.
struct FakeDetail {
  std::map<std::string, std::string> chairs;
  std::vector<std::string> failing;
  std::map<std::string, int> calls;

  d::FetchDetail fetch() {
    return [this](const std::string& id) {
      ++calls[id];
      d::DetailAnswer answer;
      if (std::find(failing.begin(), failing.end(), id) != failing.end()) {
        answer.error = "HTTP 500";
        return answer;
      }
      answer.ok = true;
      const auto found = chairs.find(id);
      if (found != chairs.end() && !found->second.empty()) {
        answer.chair_password = cfg::Secret(found->second);
      }
      return answer;
    };
  }
};

std::vector<std::string> ids(const std::vector<d::WatchedMeeting>& watched) {
  std::vector<std::string> out;
  for (const auto& w : watched) out.push_back(w.meeting_id);
  return out;
}

const d::SkippedMeeting* skipped(const d::PassDecision& decision, const std::string& id) {
  for (const auto& s : decision.skipped) {
    if (s.meeting_id == id) return &s;
  }
  return nullptr;
}

std::size_t count(const d::PassDecision& decision, d::SkipReason reason) {
  for (std::size_t i = 0; i < d::kSkipReasons.size(); ++i) {
    if (d::kSkipReasons[i] == reason) return decision.skipped_by_reason[i];
  }
  return 99;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(discovery_planner)

BOOST_AUTO_TEST_CASE(password_order_list_then_detail_then_webinar_then_static) {
  d::Planner planner;
  planner.configure(cfg::DiscoveryConfig{},
                    {{"4", cfg::Secret("static-4")}, {"1", cfg::Secret("static-1")}});
  FakeDetail detail;
  detail.chairs = {{"2", "detail-2"}, {"4", ""}, {"5", ""}};
  const auto decision =
      planner.decide({meeting("1", "list-1"), meeting("2"), meeting("4"), meeting("5")},
                     {webinar("3", "webinar-3")}, detail.fetch());
  BOOST_TEST_REQUIRE(decision.watch.size() == 4u);
  BOOST_TEST(decision.found == 5u);
  BOOST_TEST(decision.watch[0].host_password.reveal() == "list-1");  // list beats static
  BOOST_TEST(d::toLabel(decision.watch[0].source) == std::string("list"));
  BOOST_TEST(decision.watch[1].host_password.reveal() == "detail-2");
  BOOST_TEST(d::toLabel(decision.watch[1].source) == std::string("detail"));
  BOOST_TEST(decision.watch[2].host_password.reveal() == "static-4");
  BOOST_TEST(d::toLabel(decision.watch[2].source) == std::string("static"));
  BOOST_TEST(decision.watch[3].meeting_id == "3");
  BOOST_TEST(decision.watch[3].host_password.reveal() == "webinar-3");
  BOOST_TEST(d::toLabel(decision.watch[3].source) == std::string("webinar"));
  BOOST_TEST(decision.watch[3].webinar);
  const auto* five = skipped(decision, "5");
  BOOST_TEST_REQUIRE(five != nullptr);
  BOOST_TEST(d::toLabel(five->reason) == std::string("no_host_password"));
  BOOST_TEST(count(decision, d::SkipReason::NoHostPassword) == 1u);
  // confDetail only for the meetings whose list item had no chair password, and not for the
  // webinar that had its chairPasswd.
  BOOST_TEST((detail.calls == std::map<std::string, int>{{"2", 1}, {"4", 1}, {"5", 1}}));
  BOOST_TEST(decision.detail_calls == 3u);
}

BOOST_AUTO_TEST_CASE(detail_is_asked_once_per_occurrence_and_again_after_a_failure) {
  d::Planner planner;
  planner.configure(cfg::DiscoveryConfig{}, {});
  FakeDetail detail;
  detail.chairs = {{"1", ""}, {"2", "detail-2"}};
  detail.failing = {"3"};
  const std::vector<d::ListedMeeting> listing = {meeting("1"), meeting("2"), meeting("3")};
  for (int pass = 0; pass < 3; ++pass) {
    const auto decision = planner.decide(listing, {}, detail.fetch());
    BOOST_TEST(ids(decision.watch) == std::vector<std::string>{"2"},
               boost::test_tools::per_element());
    const auto* failed = skipped(decision, "3");
    BOOST_TEST_REQUIRE(failed != nullptr);
    BOOST_TEST(failed->detail.find("confDetail failed (HTTP 500)") != std::string::npos);
  }
  BOOST_TEST(detail.calls["1"] == 1);  // "no chair" is remembered
  BOOST_TEST(detail.calls["2"] == 1);  // the password is remembered
  BOOST_TEST(detail.calls["3"] == 3);  // a failure is retried every pass
  // A new occurrence (new confUUID) of meeting 1 is asked again.
  d::ListedMeeting next = meeting("1");
  next.conf_uuid = "uuid-1-second-run";
  planner.decide({next}, {}, detail.fetch());
  BOOST_TEST(detail.calls["1"] == 2);
}

BOOST_AUTO_TEST_CASE(a_static_password_added_later_is_used_without_another_detail_call) {
  d::Planner planner;
  planner.configure(cfg::DiscoveryConfig{}, {});
  FakeDetail detail;
  const std::vector<d::ListedMeeting> listing = {meeting("7", "", "Board", "Other User")};
  auto decision = planner.decide(listing, {}, detail.fetch());
  BOOST_TEST(decision.watch.empty());
  BOOST_TEST(count(decision, d::SkipReason::NoHostPassword) == 1u);
  planner.configure(cfg::DiscoveryConfig{}, {{"7", cfg::Secret("reloaded")}});
  decision = planner.decide(listing, {}, detail.fetch());
  BOOST_TEST_REQUIRE(decision.watch.size() == 1u);
  BOOST_TEST(decision.watch[0].host_password.reveal() == "reloaded");
  BOOST_TEST(count(decision, d::SkipReason::NoHostPassword) == 0u);
  BOOST_TEST(detail.calls["7"] == 1);
}

BOOST_AUTO_TEST_CASE(filters_match_subject_and_scheduler) {
  cfg::DiscoveryConfig settings;
  settings.include_subject = "^(Sales|Support) ";
  settings.exclude_subject = "private";
  settings.exclude_scheduler = "^bot-";
  d::Planner planner;
  planner.configure(settings, {});
  FakeDetail detail;
  const auto decision =
      planner.decide({meeting("1", "p", "Sales weekly"), meeting("2", "p", "Engineering sync"),
                      meeting("3", "p", "Support private review"),
                      meeting("4", "p", "Support triage", "bot-scheduler"),
                      meeting("5", "p", "Support triage", "Ann")},
                     {}, detail.fetch());
  BOOST_TEST(ids(decision.watch) == (std::vector<std::string>{"1", "5"}),
             boost::test_tools::per_element());
  BOOST_TEST(count(decision, d::SkipReason::Filtered) == 3u);
  BOOST_TEST(skipped(decision, "2")->detail == "subject does not match include_subject");
  BOOST_TEST(skipped(decision, "3")->detail == "subject matches exclude_subject");
  BOOST_TEST(skipped(decision, "4")->detail == "scheduler matches exclude_scheduler");
  BOOST_TEST(detail.calls.empty());  // filtered meetings cost no detail call

  cfg::DiscoveryConfig by_scheduler;
  by_scheduler.include_scheduler = "^Ann$";
  planner.configure(by_scheduler, {});
  const auto second = planner.decide({meeting("5", "p", "x", "Ann"), meeting("6", "p", "x", "Bo")},
                                     {}, detail.fetch());
  BOOST_TEST(ids(second.watch) == std::vector<std::string>{"5"}, boost::test_tools::per_element());
  BOOST_TEST(skipped(second, "6")->detail == "scheduler does not match include_scheduler");
}

BOOST_AUTO_TEST_CASE(max_meetings_keeps_the_watched_ones_first) {
  cfg::DiscoveryConfig settings;
  settings.max_meetings = 2;
  d::Planner planner;
  planner.configure(settings, {});
  FakeDetail detail;
  auto decision =
      planner.decide({meeting("1", "p"), meeting("2", "p"), meeting("3", "p")}, {}, detail.fetch());
  BOOST_TEST(ids(decision.watch) == (std::vector<std::string>{"1", "2"}),
             boost::test_tools::per_element());
  BOOST_TEST(count(decision, d::SkipReason::Limit) == 1u);
  BOOST_TEST(skipped(decision, "3")->detail == "max_meetings (2) reached");
  // An earlier-starting meeting appears: the watched ones keep their place.
  decision =
      planner.decide({meeting("0", "p"), meeting("1", "p"), meeting("2", "p")}, {}, detail.fetch());
  BOOST_TEST(ids(decision.watch) == (std::vector<std::string>{"1", "2"}),
             boost::test_tools::per_element());
  BOOST_TEST(skipped(decision, "0") != nullptr);
  // One ends: the free place goes to the first one waiting.
  decision =
      planner.decide({meeting("0", "p"), meeting("2", "p"), meeting("3", "p")}, {}, detail.fetch());
  BOOST_TEST(ids(decision.watch) == (std::vector<std::string>{"2", "0"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(webinars_come_from_the_webinar_list_only_and_can_be_excluded) {
  d::Planner planner;
  planner.configure(cfg::DiscoveryConfig{}, {});
  FakeDetail detail;
  d::ListedMeeting flagged = meeting("8", "p");
  flagged.webinar = true;  // a webinar in the online list is left to the webinar list
  auto decision = planner.decide({flagged, meeting("1", "p")}, {webinar("9", "w")}, detail.fetch());
  BOOST_TEST(ids(decision.watch) == (std::vector<std::string>{"1", "9"}),
             boost::test_tools::per_element());
  BOOST_TEST(decision.found == 2u);

  cfg::DiscoveryConfig no_webinars;
  no_webinars.include_webinars = false;
  planner.configure(no_webinars, {});
  decision = planner.decide({meeting("1", "p")}, {webinar("9", "w")}, detail.fetch());
  BOOST_TEST(ids(decision.watch) == std::vector<std::string>{"1"},
             boost::test_tools::per_element());
  BOOST_TEST(decision.found == 1u);
  BOOST_TEST(decision.skipped.empty());
}

BOOST_AUTO_TEST_CASE(duplicates_destroyed_and_ended_occurrences_are_not_watched) {
  d::Planner planner;
  planner.configure(cfg::DiscoveryConfig{}, {});
  FakeDetail detail;
  d::ListedMeeting destroyed = meeting("2", "p");
  destroyed.state = "Destroyed";
  auto decision =
      planner.decide({meeting("1", "p"), meeting("1", "other"), destroyed}, {}, detail.fetch());
  BOOST_TEST_REQUIRE(decision.watch.size() == 1u);
  BOOST_TEST(decision.watch[0].host_password.reveal() == "p");  // the first listing wins
  BOOST_TEST(decision.found == 1u);

  planner.noteEnded({{"1", "uuid-1"}});
  decision = planner.decide({meeting("1", "p")}, {}, detail.fetch());
  BOOST_TEST(decision.watch.empty());  // ended: not retried while still listed
  BOOST_TEST(decision.found == 0u);
  d::ListedMeeting again = meeting("1", "p");
  again.conf_uuid = "uuid-1-again";
  decision = planner.decide({again}, {}, detail.fetch());
  BOOST_TEST(ids(decision.watch) == std::vector<std::string>{"1"},
             boost::test_tools::per_element());  // a new occurrence is watched
}

BOOST_AUTO_TEST_SUITE_END()
