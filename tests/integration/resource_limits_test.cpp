// The real exporter binary under a small open-file limit (RLIMIT_NOFILE 64, soft and hard, set
// by the shell that execs it) with 100 meetings against the in-process simulator: it stays up
// and serves /metrics, the meetings that fit subscribe, the others show counted connect
// failures saying why.

#include "plugin/app/resource_limits.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/StreamCopier.h"
#include "tests/integration/exporter_fixture.h"
#include "tests/integration/temp_dir.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kMeetings = 100;
constexpr int kOpenFileLimit = 64;

std::string meetingId(int index) { return std::to_string(960000000 + index); }

// Passwords inline (in single quotes): 100 password files would only add descriptors here.
std::string configYaml(const std::string& api_url,
                       const std::vector<hme::simulator::MeetingSpec>& meetings) {
  std::ostringstream yaml;
  yaml << "api:\n  url: " << api_url << "\n  ca_file: " << pkiFile("ca.pem") << "\n  timeout: 5s\n"
       << "session:\n  heartbeat_interval: 2s\n  heartbeat_timeout: 6s\n"
       << "  backoff_initial: 200ms\n  backoff_max: 2s\n"
       << "meetings:\n";
  for (const auto& meeting : meetings) {
    yaml << "  - id: \"" << meeting.meeting_id << "\"\n    host_password: '"
         << meeting.host_password << "'\n";
  }
  return yaml.str();
}

std::optional<std::string> get(std::uint16_t port, const std::string& path) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string body;
    Poco::StreamCopier::copyToString(in, body);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) return std::nullopt;
    return body;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

std::uint16_t listeningPort(const std::string& output) {
  static const std::regex address(R"(Listening on.*address=127\.0\.0\.1:([0-9]+))");
  std::smatch match;
  if (!std::regex_search(output, match, address)) return 0;
  return static_cast<std::uint16_t>(std::stoul(match[1].str()));
}

std::size_t entriesIn(const std::string& directory) {
  std::error_code error;
  std::size_t count = 0;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    ++count;
  }
  return count;
}

struct Tally {
  int subscribed = 0;  // huawei_meeting_up 1
  int refused = 0;     // not up, with at least one counted connect failure
};

Tally tally(const Scrape& scrape) {
  Tally t;
  for (int i = 0; i < kMeetings; ++i) {
    const Labels meeting = forMeeting(meetingId(i));
    if (scrape.valueOr("huawei_meeting_up", meeting, 0) == 1) {
      ++t.subscribed;
      continue;
    }
    double failures = 0;
    for (const auto& sample : scrape.matching(meeting)) {
      if (sample.name == "huawei_meeting_connect_failures_total") failures += sample.value;
    }
    if (failures > 0) ++t.refused;
  }
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resource_limits)

BOOST_AUTO_TEST_CASE(hundred_meetings_under_an_open_file_limit_of_64) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  std::vector<hme::simulator::MeetingSpec> meetings;
  for (int i = 0; i < kMeetings; ++i) {
    meetings.push_back(testMeetingSpec(meetingId(i)));
    sim.addMeeting(meetings.back());
  }
  sim.start();
  TempDir dir;
  const fs::path config = dir.file("exporter.yml");
  writeFile(config, configYaml(sim.apiUrl(), meetings));

  // `ulimit -n` sets the soft and the hard limit, so the exporter cannot raise it.
  ChildProcess child(
      "/bin/sh", {"-c", "ulimit -n " + std::to_string(kOpenFileLimit) + " && exec \"$0\" \"$@\"",
                  HME_EXPORTER_BINARY, "--config.file=" + config.string(),
                  "--web.listen-address=127.0.0.1:0"});
  BOOST_REQUIRE_MESSAGE(child.waitForOutput("Listening on", 20s), child.output());
  const std::uint16_t port = listeningPort(child.output());
  BOOST_REQUIRE_MESSAGE(port != 0, child.output());

  // Every meeting either subscribes or has its failure counted, and the count holds.
  Tally last;
  const bool settled = sim.waitFor(
      [&] {
        const auto body = get(port, "/metrics");
        if (!body) return false;
        last = tally(Scrape(*body));
        return last.subscribed > 0 && last.subscribed + last.refused == kMeetings;
      },
      60s);
  BOOST_TEST_MESSAGE("RLIMIT_NOFILE " << kOpenFileLimit << ": " << last.subscribed
                                      << " meetings subscribed, " << last.refused
                                      << " with counted connect failures");
  BOOST_REQUIRE_MESSAGE(settled, "subscribed " << last.subscribed << ", refused " << last.refused
                                               << "\n"
                                               << child.output());
  BOOST_CHECK_LT(last.subscribed, kMeetings);

  // The reason is on the status page and in the one warning of the log.
  const auto page = get(port, "/");
  BOOST_REQUIRE(page.has_value());
  BOOST_CHECK_MESSAGE(page->find("out of file descriptors") != std::string::npos, *page);
  std::size_t warnings = 0;
  const std::string output = child.output();
  for (auto at = output.find("not enough file descriptors"); at != std::string::npos;
       at = output.find("not enough file descriptors", at + 1)) {
    ++warnings;
  }
  BOOST_CHECK_EQUAL(warnings, 1U);
  BOOST_CHECK_MESSAGE(
      child.waitForOutput(
          "set_LimitNOFILE_to=" + std::to_string(hme::app::descriptorsNeeded(kMeetings)), 1s),
      child.output());

  // Later the process is alive and still serving: a subscribed meeting's heartbeats go on.
  const std::string proc = "/proc/" + std::to_string(child.pid());
  BOOST_TEST_MESSAGE("descriptors " << entriesIn(proc + "/fd") << ", threads "
                                    << entriesIn(proc + "/task"));
  std::string live_meeting;
  double heartbeats = 0;
  if (const auto body = get(port, "/metrics")) {
    const Scrape scrape(*body);
    for (int i = 0; i < kMeetings && live_meeting.empty(); ++i) {
      if (scrape.valueOr("huawei_meeting_up", forMeeting(meetingId(i)), 0) == 1) {
        live_meeting = meetingId(i);
        heartbeats =
            scrape.valueOr("huawei_meeting_heartbeats_sent_total", forMeeting(live_meeting), 0);
      }
    }
  }
  BOOST_REQUIRE(!live_meeting.empty());
  BOOST_CHECK_MESSAGE(sim.waitFor(
                          [&] {
                            const auto body = get(port, "/metrics");
                            return body && Scrape(*body).valueOr(
                                               "huawei_meeting_heartbeats_sent_total",
                                               forMeeting(live_meeting), 0) >= heartbeats + 2;
                          },
                          20s),
                      child.output());
  BOOST_CHECK(!child.waitExit(0ms).has_value());

  child.signal(SIGTERM);
  const auto code = child.waitExit(15s);
  BOOST_REQUIRE_MESSAGE(code.has_value(), "the exporter did not stop within 15 s of SIGTERM");
  BOOST_CHECK_EQUAL(*code, 0);
}

BOOST_AUTO_TEST_CASE(a_low_soft_limit_is_raised_toward_the_hard_one) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  std::vector<hme::simulator::MeetingSpec> meetings;
  for (int i = 0; i < kMeetings; ++i) {
    meetings.push_back(testMeetingSpec(meetingId(i)));
    sim.addMeeting(meetings.back());
  }
  sim.start();
  TempDir dir;
  const fs::path config = dir.file("exporter.yml");
  writeFile(config, configYaml(sim.apiUrl(), meetings));

  // Soft 64 under a hard 4096: room for every meeting once the exporter raises its soft limit.
  ChildProcess child("/bin/sh", {"-c", "ulimit -S -n 64 && ulimit -H -n 4096 && exec \"$0\" \"$@\"",
                                 HME_EXPORTER_BINARY, "--config.file=" + config.string(),
                                 "--web.listen-address=127.0.0.1:0"});
  BOOST_REQUIRE_MESSAGE(child.waitForOutput("Listening on", 20s), child.output());
  const std::uint16_t port = listeningPort(child.output());
  BOOST_REQUIRE_MESSAGE(port != 0, child.output());
  Tally last;
  BOOST_CHECK_MESSAGE(sim.waitFor(
                          [&] {
                            const auto body = get(port, "/metrics");
                            if (body) last = tally(Scrape(*body));
                            return last.subscribed == kMeetings;
                          },
                          60s),
                      "subscribed " << last.subscribed << "\n"
                                    << child.output());
  BOOST_CHECK_MESSAGE(child.waitForOutput("raised the open-file limit", 1s), child.output());
  BOOST_CHECK(child.output().find("to=" + std::to_string(hme::app::descriptorsNeeded(kMeetings))) !=
              std::string::npos);
  BOOST_CHECK(child.output().find("not enough file descriptors") == std::string::npos);
  child.signal(SIGTERM);
  BOOST_CHECK_EQUAL(child.waitExit(15s).value_or(-1), 0);
}

// The numbers behind the budget (plugin/app/resource_limits.h) and README's table: descriptors
// and threads of the exporter with 0, 20 and 40 subscribed meetings.
BOOST_AUTO_TEST_CASE(descriptors_and_threads_per_meeting_fit_the_budget) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  std::vector<hme::simulator::MeetingSpec> meetings;
  for (int i = 0; i < 40; ++i) {
    meetings.push_back(testMeetingSpec(meetingId(i)));
    sim.addMeeting(meetings.back());
  }
  sim.start();
  TempDir dir;
  std::map<std::size_t, std::pair<std::size_t, std::size_t>> measured;  // meetings → fds, threads
  for (const std::size_t count : {0U, 20U, 40U}) {
    const fs::path config = dir.file("exporter-" + std::to_string(count) + ".yml");
    writeFile(config,
              configYaml(sim.apiUrl(), std::vector<hme::simulator::MeetingSpec>(
                                           meetings.begin(),
                                           meetings.begin() + static_cast<std::ptrdiff_t>(count))));
    ChildProcess child(HME_EXPORTER_BINARY,
                       {"--config.file=" + config.string(), "--web.listen-address=127.0.0.1:0"});
    BOOST_REQUIRE_MESSAGE(child.waitForOutput("Listening on", 20s), child.output());
    const std::uint16_t port = listeningPort(child.output());
    BOOST_REQUIRE(port != 0);
    // Every meeting subscribed and past its token calls (no REST connection open).
    BOOST_REQUIRE_MESSAGE(
        sim.waitFor(
            [&] {
              const auto body = get(port, "/metrics");
              if (!body) return false;
              const Scrape scrape(*body);
              for (std::size_t i = 0; i < count; ++i) {
                if (scrape.valueOr("huawei_meeting_up", forMeeting(meetingId(static_cast<int>(i))),
                                   0) != 1) {
                  return false;
                }
              }
              return true;
            },
            30s),
        child.output());
    const std::string proc = "/proc/" + std::to_string(child.pid());
    measured[count] = {entriesIn(proc + "/fd"), entriesIn(proc + "/task")};
    BOOST_TEST_MESSAGE(count << " meetings: " << measured[count].first << " open files, "
                             << measured[count].second << " threads");
    child.signal(SIGTERM);
    BOOST_CHECK_EQUAL(child.waitExit(15s).value_or(-1), 0);
  }
  BOOST_CHECK_LE(measured[0].first, hme::app::kReservedDescriptors);
  BOOST_CHECK_LE(measured[40].first - measured[0].first, 40 * hme::app::kDescriptorsPerMeeting);
  BOOST_CHECK_GE(measured[40].first - measured[0].first, 40U);  // a socket each, at least
  // One thread each; the HTTP server's pool may have grown by a few for the scrapes.
  BOOST_CHECK_GE(measured[40].second - measured[0].second, 40U);
  BOOST_CHECK_LE(measured[40].second - measured[0].second, 44U);
}

BOOST_AUTO_TEST_SUITE_END()
