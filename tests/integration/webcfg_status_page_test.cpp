// The status page with 100 meetings: a summary by session state, and the meetings that are not
// up first, so the ones needing attention are on the first screen.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "plugin/app/exporter.h"
#include "simulator/simulator.h"

namespace {

const std::string kPki = std::string(HME_TESTDATA_DIR) + "/pki/";

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(webcfg_status_page)

BOOST_AUTO_TEST_CASE(hundred_meetings_summary_first_and_not_up_first) {
  hme::simulator::SimulatorOptions options;
  options.cert_file = kPki + "server.pem";
  options.key_file = kPki + "server.key";
  options.tick = std::chrono::milliseconds(0);
  hme::simulator::Simulator simulator(options);
  // Two meetings run; the other 98 are unknown to the server and stay `waiting`. The live ones
  // have the lowest IDs, so only the not-up-first ordering can put them last.
  const std::vector<std::string> live = {"900000000", "900000001"};
  for (const auto& id : live) {
    hme::simulator::MeetingSpec spec;
    spec.meeting_id = id;
    spec.host_password = "pw-" + id;
    spec.lively = false;
    simulator.addMeeting(spec);
  }
  simulator.start();

  hme::config::Config config;
  config.api.url = simulator.apiUrl();
  config.api.ca_file = kPki + "ca.pem";
  for (int i = 0; i < 100; ++i) {
    const std::string id = std::to_string(900000000 + i);
    config.meetings.push_back({id, hme::config::Secret("pw-" + id)});
  }
  hme::app::Exporter exporter([&config] { return config; }, "test", "abc");
  exporter.start();

  std::string page;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    page = exporter.renderStatusPage();
    if (page.find("100 meetings, 2 up.") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  exporter.stop();
  simulator.stop();

  BOOST_REQUIRE_MESSAGE(page.find("100 meetings, 2 up.") != std::string::npos, page);
  BOOST_TEST(count(page, " data-meeting-id=\"") == 100u);
  BOOST_TEST(page.find("<span data-state=\"subscribed\">2 subscribed</span>") != std::string::npos);

  // The per-state counts of the summary add up to every meeting.
  std::size_t summed = 0;
  const std::string span = "<span data-state=\"";
  for (auto at = page.find(span); at != std::string::npos; at = page.find(span, at + 1)) {
    const auto number = page.find("\">", at) + 2;
    summed += std::stoul(page.substr(number));
  }
  BOOST_TEST(summed == 100u);

  // Row order: the 98 meetings that are not up, then the 2 live ones.
  std::vector<std::string> order;
  std::size_t attention = 0;
  const std::string attr = " data-meeting-id=\"";
  for (auto at = page.find(attr); at != std::string::npos; at = page.find(attr, at + 1)) {
    const auto tag = page.rfind("<tr", at);
    const auto id = at + attr.size();
    order.push_back(page.substr(id, page.find('"', id) - id));
    if (page.compare(tag, at - tag, "<tr class=\"attention\"") == 0) {
      ++attention;
      BOOST_TEST(order.size() == attention, "a meeting that is not up follows one that is");
    }
  }
  BOOST_REQUIRE(order.size() == 100u);
  BOOST_TEST(attention == 98u);
  BOOST_TEST(order[98] == live[0]);
  BOOST_TEST(order[99] == live[1]);
  BOOST_TEST(order[0] == "900000002");  // not-up meetings sorted by ID
}

BOOST_AUTO_TEST_SUITE_END()
