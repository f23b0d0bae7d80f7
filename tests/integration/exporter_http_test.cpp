// The real exporter binary (HME_EXPORTER_BINARY) as a child process against the in-process
// simulator: /metrics, the status page, health and readiness, reload by POST and SIGHUP, clean
// SIGTERM, --check-config and the exit code for an unbindable address.

#include <signal.h>
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "Poco/InflatingStream.h"
#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/Net/ServerSocket.h"
#include "Poco/Net/SocketAddress.h"
#include "Poco/StreamCopier.h"
#include "tests/integration/exporter_fixture.h"
#include "tests/integration/temp_dir.h"

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kA = "930000001";
const std::string kB = "930000002";

// A config file for the exporter pointing to the simulator; passwords go to files next to it.
std::string configYaml(const TempDir& dir, const std::string& api_url,
                       const std::vector<hme::simulator::MeetingSpec>& meetings) {
  std::ostringstream yaml;
  yaml << "api:\n  url: " << api_url << "\n  ca_file: " << pkiFile("ca.pem") << "\n  timeout: 3s\n"
       << "session:\n  heartbeat_interval: 1s\n  heartbeat_timeout: 2s\n"
       << "  backoff_initial: 200ms\n  backoff_max: 1s\n"
       << "metrics:\n  ended_meeting_retention: 1s\n"
       << "meetings:\n";
  for (const auto& meeting : meetings) {
    const fs::path password = dir.file("password-" + meeting.meeting_id);
    writeFile(password, meeting.host_password + "\n");
    yaml << "  - id: \"" << meeting.meeting_id
         << "\"\n    host_password_file: " << password.string() << "\n";
  }
  return yaml.str();
}

struct Response {
  int status = 0;
  std::string content_type;
  std::string content_encoding;
  std::string body;
};

Response request(std::uint16_t port, const std::string& method, const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(10, 0));  // a hang fails the test instead of blocking it
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) req.set(name, value);
  if (method == Poco::Net::HTTPRequest::HTTP_POST) req.setContentLength(0);
  session.sendRequest(req);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Response r;
  r.status = static_cast<int>(response.getStatus());
  r.content_type = response.getContentType();
  r.content_encoding = response.get("Content-Encoding", "");
  Poco::StreamCopier::copyToString(in, r.body);
  return r;
}

std::string gunzip(const std::string& compressed) {
  std::istringstream in(compressed);
  Poco::InflatingInputStream inflater(in, Poco::InflatingStreamBuf::STREAM_GZIP);
  std::string out;
  Poco::StreamCopier::copyToString(inflater, out);
  return out;
}

std::optional<double> scrapeValue(std::uint16_t port, const std::string& name,
                                  const Labels& labels) {
  try {
    const Response r = request(port, "GET", "/metrics");
    if (r.status != 200) return std::nullopt;
    return Scrape(r.body).value(name, labels);
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

// The port from the "Listening on" line (logfmt: address=127.0.0.1:PORT).
std::uint16_t listeningPort(const std::string& output) {
  static const std::regex address(R"(Listening on.*address=127\.0\.0\.1:([0-9]+))");
  std::smatch match;
  if (!std::regex_search(output, match, address)) return 0;
  return static_cast<std::uint16_t>(std::stoul(match[1].str()));
}

std::vector<std::string> exporterArgs(const fs::path& config, const std::string& listen) {
  return {"--config.file=" + config.string(), "--web.listen-address=" + listen};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exporter)

BOOST_AUTO_TEST_CASE(binary_serves_metrics_status_health_reload_and_stops_cleanly) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  const auto a = testMeetingSpec(kA);
  const auto b = testMeetingSpec(kB);
  sim.addMeeting(a);
  sim.addMeeting(b);
  sim.start();
  TempDir dir;
  const fs::path config = dir.file("exporter.yml");
  writeFile(config, configYaml(dir, sim.apiUrl(), {a}));

  ChildProcess child(HME_EXPORTER_BINARY, exporterArgs(config, "127.0.0.1:0"));
  BOOST_REQUIRE_MESSAGE(child.waitForOutput("Listening on", 10s), child.output());
  const std::uint16_t port = listeningPort(child.output());
  BOOST_REQUIRE_MESSAGE(port != 0, child.output());
  const auto upIs = [&](const std::string& meeting_id, double value) {
    return sim.waitFor(
        [&] { return scrapeValue(port, "huawei_meeting_up", forMeeting(meeting_id)) == value; },
        10s);
  };
  BOOST_REQUIRE(upIs(kA, 1));

  // /metrics: the exposition format's content type, a known series, gzip when asked.
  const Response metrics = request(port, "GET", "/metrics");
  BOOST_CHECK_EQUAL(metrics.status, 200);
  BOOST_CHECK_EQUAL(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const Scrape scrape(metrics.body);
  BOOST_CHECK_EQUAL(scrape.valueOr("huawei_meeting_connects_total", forMeeting(kA), -1), 1.0);
  BOOST_CHECK_EQUAL(scrape.valueOr("huawei_meeting_exporter_config_last_reload_successful", {}, -1),
                    1.0);
  BOOST_CHECK(scrape.value("huawei_meeting_exporter_build_info").has_value());
  const Response gzipped = request(port, "GET", "/metrics", {{"Accept-Encoding", "gzip"}});
  BOOST_CHECK_EQUAL(gzipped.status, 200);
  BOOST_CHECK_EQUAL(gzipped.content_encoding, "gzip");
  const Scrape unzipped(gunzip(gzipped.body));
  BOOST_CHECK_EQUAL(unzipped.valueOr("huawei_meeting_up", forMeeting(kA), -1), 1.0);

  // The status page, health and readiness.
  const Response page = request(port, "GET", "/");
  BOOST_CHECK_EQUAL(page.status, 200);
  BOOST_CHECK_EQUAL(page.content_type.rfind("text/html", 0), 0U);
  BOOST_CHECK(page.body.find(kA) != std::string::npos);
  BOOST_CHECK(page.body.find("href=\"/metrics\"") != std::string::npos);
  BOOST_CHECK_EQUAL(request(port, "GET", "/-/healthy").status, 200);
  const Response ready = request(port, "GET", "/-/ready");
  BOOST_CHECK_EQUAL(ready.status, 200);
  BOOST_CHECK_MESSAGE(ready.body.find("1 of 1 sessions subscribed") != std::string::npos,
                      ready.body);

  // POST /-/reload with a second meeting added: it starts, the first keeps its connection.
  writeFile(config, configYaml(dir, sim.apiUrl(), {a, b}));
  const Response reloaded = request(port, "POST", "/-/reload");
  BOOST_CHECK_EQUAL(reloaded.status, 200);
  BOOST_CHECK(upIs(kB, 1));
  BOOST_CHECK_EQUAL(scrapeValue(port, "huawei_meeting_connects_total", forMeeting(kA)).value_or(-1),
                    1.0);

  // SIGHUP with a broken file: the reload fails, the running meetings stay up.
  writeFile(config, "session:\n  heartbeat_interval: 200s\n");
  child.signal(SIGHUP);
  BOOST_CHECK(sim.waitFor(
      [&] {
        return scrapeValue(port, "huawei_meeting_exporter_config_last_reload_successful", {}) == 0;
      },
      10s));
  BOOST_CHECK_EQUAL(scrapeValue(port, "huawei_meeting_up", forMeeting(kA)).value_or(-1), 1.0);
  BOOST_CHECK_EQUAL(scrapeValue(port, "huawei_meeting_up", forMeeting(kB)).value_or(-1), 1.0);
  BOOST_CHECK_EQUAL(scrapeValue(port, "huawei_meeting_connects_total", forMeeting(kA)).value_or(-1),
                    1.0);
  BOOST_CHECK(child.output().find("session.heartbeat_interval") != std::string::npos);

  // SIGTERM: a clean stop with exit code 0.
  child.signal(SIGTERM);
  const auto code = child.waitExit(5s);
  BOOST_REQUIRE_MESSAGE(code.has_value(), "the exporter did not stop within 5 s of SIGTERM");
  BOOST_CHECK_EQUAL(*code, 0);
  const std::string output = child.output();
  for (const auto& secret : sim.secrets()) {
    BOOST_CHECK_MESSAGE(output.find(secret) == std::string::npos, "a secret in the exporter's log");
  }
}

BOOST_AUTO_TEST_CASE(check_config_exit_codes) {
  TempDir dir;
  const fs::path good = dir.file("good.yml");
  writeFile(good, configYaml(dir, "https://127.0.0.1:9", {testMeetingSpec(kA)}));
  const fs::path bad = dir.file("bad.yml");
  writeFile(bad, "session:\n  heartbeat_interval: 200s\nmeetings: []\n");

  ChildProcess ok(HME_EXPORTER_BINARY, {"--check-config", "--config.file=" + good.string()});
  BOOST_CHECK_EQUAL(ok.waitExit(5s).value_or(-1), 0);
  BOOST_CHECK(ok.waitForOutput("config OK", 1s));

  ChildProcess broken(HME_EXPORTER_BINARY, {"--check-config", "--config.file=" + bad.string()});
  BOOST_CHECK_EQUAL(broken.waitExit(5s).value_or(-1), 1);
  BOOST_CHECK_MESSAGE(broken.waitForOutput("session.heartbeat_interval", 1s), broken.output());
}

BOOST_AUTO_TEST_CASE(unbindable_listen_address_exits_2) {
  hme::simulator::Simulator sim(testSimulatorOptions());
  sim.addMeeting(testMeetingSpec(kA));
  sim.start();
  TempDir dir;
  const fs::path config = dir.file("exporter.yml");
  writeFile(config, configYaml(dir, sim.apiUrl(), {testMeetingSpec(kA)}));

  // Hold a listening port without SO_REUSEADDR/SO_REUSEPORT, so the exporter cannot share it.
  Poco::Net::ServerSocket taken;
  taken.bind(Poco::Net::SocketAddress("127.0.0.1", 0), false, false);
  taken.listen();
  const std::string address = "127.0.0.1:" + std::to_string(taken.address().port());

  ChildProcess child(HME_EXPORTER_BINARY, exporterArgs(config, address));
  const auto code = child.waitExit(10s);
  BOOST_REQUIRE_MESSAGE(code.has_value(), child.output());
  BOOST_CHECK_EQUAL(*code, 2);
  BOOST_CHECK_MESSAGE(child.output().find(address) != std::string::npos, child.output());
}

BOOST_AUTO_TEST_SUITE_END()
