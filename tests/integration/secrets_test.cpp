// Secrets never leak: a deliberately faulty run collects everything the exporter says (log lines
// at debug level, metrics, status page, readiness, reload and start-up error messages) and
// searches it for every secret the simulator issued or accepted. Meeting IDs that contain their
// password (and passwords that contain the ID, or are common words) appear whole in every output,
// because nothing is masked. Also: a plain password in a config file that others can read draws
// a warning.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugin/log/log.h"
#include "plugin/web/web_server.h"
#include "tests/integration/fault_harness.h"

namespace {

using namespace std::chrono_literals;
using hme::faults::Harness;
using hme::faults::meetingSpec;

const std::string kGood = "900600001";
const std::string kWrongPassword = "900600002";
const std::string kFlaky = "900600003";
const std::string kConfiguredWrongPassword = "not-the-password-4711";

// Restores the logger's level at the end of a test.
struct DebugLogs {
  DebugLogs() { hme::log::logger().setLevel(hme::log::Level::Debug); }
  ~DebugLogs() { hme::log::logger().setLevel(hme::log::Level::Info); }
};

// A temporary folder, removed at the end.
struct TempDir {
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hme-secrets-XXXXXX").string();
    BOOST_TEST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string write(const std::string& name, const std::string& text, mode_t mode) const {
    const std::string file = path + "/" + name;
    std::ofstream(file) << text;
    ::chmod(file.c_str(), mode);
    return file;
  }
  std::string path;
};

// Restores the logger's format at the end of a test.
struct LogFormat {
  ~LogFormat() { hme::log::logger().setFormat(hme::log::Format::Logfmt); }
};

// The exporter's real HTTP endpoint on a free loopback port, serving `exporter`.
struct Endpoint {
  explicit Endpoint(hme::app::Exporter& exporter) {
    hme::web::WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    hme::web::WebHandlers handlers;
    handlers.render_metrics = [&exporter] { return exporter.renderMetrics(); };
    handlers.render_status_html = [&exporter] { return exporter.renderStatusPage(); };
    handlers.reload = [&exporter] { return exporter.reload(); };
    handlers.ready = [&exporter] { return exporter.readiness(); };
    server = std::make_unique<hme::web::WebServer>(options, handlers);
    server->start();
    const std::string bound = server->boundAddresses().at(0);
    port = static_cast<std::uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
  }
  ~Endpoint() { server->stop(); }

  std::string get(const std::string& path) const {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    return body;
  }

  std::unique_ptr<hme::web::WebServer> server;
  std::uint16_t port = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(secrets)

BOOST_AUTO_TEST_CASE(ids_and_passwords_that_overlap_or_are_words_appear_whole) {
  struct Meeting {
    std::string id;
    std::string password;
    std::string title;
  };
  const std::vector<Meeting> meetings = {
      {"900964776", "964776", "Simulated meeting"},          // the password inside the ID
      {"964776", "900964776123", "Simulated meeting"},       // the ID inside the password
      {"900600021", "meeting", "Weekly meeting"},            // common words as passwords,
      {"900600022", "admin", "admin info for the meeting"},  // in titles and label values too
      {"900600023", "info", "Simulated meeting"},
  };
  std::vector<hme::simulator::MeetingSpec> specs;
  for (const auto& m : meetings) {
    auto spec = meetingSpec(m.id);
    spec.host_password = m.password;
    spec.title = m.title;
    specs.push_back(spec);
  }
  LogFormat restore_format;
  Harness h(specs);
  h.startExporter();
  Endpoint endpoint(h.exporter());
  for (const auto& m : meetings) BOOST_TEST_REQUIRE(h.waitUp(m.id), m.id);

  // Log lines in JSON too: every meeting goes through a drop and a reconnect.
  hme::log::logger().setFormat(hme::log::Format::Json);
  for (const auto& m : meetings) {
    h.sim().dropConnections(m.id, hme::simulator::DropMode::CloseFrame, 4001);
  }
  for (const auto& m : meetings) {
    BOOST_TEST_REQUIRE(h.waitFor(
        [&] {
          const auto state = h.state(m.id);
          return state.counters.connects >= 2 && state.session.up;
        },
        30s));
  }
  hme::log::logger().setFormat(hme::log::Format::Logfmt);

  std::string logfmt;
  std::string json;
  for (const auto& line : h.logs()) (line.front() == '{' ? json : logfmt) += line;
  const std::string status_page = endpoint.get("/");
  const std::string ready = endpoint.get("/-/ready");
  const std::string metrics = endpoint.get("/metrics");

  for (const auto& m : meetings) {
    BOOST_TEST_CONTEXT(m.id) {
      BOOST_TEST(logfmt.find(" meeting_id=" + m.id + " ") != std::string::npos);
      BOOST_TEST(json.find("\"meeting_id\":\"" + m.id + "\"") != std::string::npos);
      BOOST_TEST(metrics.find("meeting_id=\"" + m.id + "\"") != std::string::npos);
      BOOST_TEST(status_page.find(">" + m.id + "<") != std::string::npos);
    }
  }
  // Titles, words and label values whole.
  BOOST_TEST(metrics.find("title=\"admin info for the meeting\"") != std::string::npos);
  BOOST_TEST(status_page.find("admin info for the meeting") != std::string::npos);
  BOOST_TEST(status_page.find("Weekly meeting") != std::string::npos);
  BOOST_TEST(status_page.find("5 meetings, ") != std::string::npos);
  BOOST_TEST(metrics.find("huawei_meeting_info{") != std::string::npos);
  BOOST_TEST(logfmt.find(" level=info ") != std::string::npos);
  BOOST_TEST(json.find("\"level\":\"info\"") != std::string::npos);
  BOOST_TEST(ready.find(" of 5 sessions subscribed") != std::string::npos, ready);
  for (const std::string& output : {logfmt, json, status_page, ready, metrics}) {
    BOOST_TEST(output.find("redacted") == std::string::npos);
  }
  // A password that is not part of anything else is nowhere.
  const std::string everything = logfmt + json + status_page + ready + metrics;
  BOOST_TEST(everything.find("900964776123") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_secret_appears_in_any_output_of_a_faulty_run) {
  DebugLogs debug;
  Harness h({meetingSpec(kGood), meetingSpec(kWrongPassword), meetingSpec(kFlaky)});
  for (auto& meeting : h.config().meetings) {
    if (meeting.id == kWrongPassword)
      meeting.host_password = hme::config::Secret(kConfiguredWrongPassword);
  }
  hme::simulator::TokenRefusal refusal;
  refusal.count = 3;  // flow control on the first calls
  h.sim().refuseTokenCalls(refusal);
  h.startExporter();
  BOOST_TEST_REQUIRE(h.waitUp(kGood));
  BOOST_TEST_REQUIRE(h.waitUp(kFlaky));

  // Faults that make the exporter talk about tokens: expiry, drops, a refused subscribe, bad
  // frames, and pushes that quote the meeting's secrets back at it.
  h.sim().expireControlTokens(kFlaky);
  h.sim().rejectNextSubscribe(kFlaky);
  h.sim().dropConnections(kFlaky, hme::simulator::DropMode::CloseFrame, 4001);
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        const auto state = h.state(kFlaky);
        return state.counters.connects >= 2 && state.session.up;
      },
      30s));
  h.sim().sendMalformed(kGood);
  h.sim().sendBinary(kGood, "binary");
  for (const auto& secret : h.sim().secrets()) {
    // Unknown pushes are logged by shape: key names appear, values never.
    h.sim().sendText(kGood, R"({"action":"LeakNotify","data":{"token":")" + secret + R"("}})");
  }
  h.sim().sendOversized(kGood, h.config().session.max_frame_bytes + 1024);
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        const auto state = h.state(kGood);
        return state.counters.connects >= 2 && state.session.up;
      },
      30s));
  BOOST_TEST_REQUIRE(h.waitFor(
      [&] {
        return h.state(kWrongPassword)
                   .counters.connect_failures[static_cast<std::size_t>(
                       hme::metrics::ConnectStage::ControlToken)] >= 3;
      },
      20s));

  // Error messages: a failed reload and a failed start.
  std::string errors;
  h.config().api.ca_file = "/nonexistent/ca.pem";
  errors += h.exporter().reload().second;
  {
    hme::app::Exporter broken([&] { return h.config(); }, "test", "test");
    try {
      broken.start();
    } catch (const std::exception& e) {
      errors += e.what();
    }
  }
  BOOST_TEST(!errors.empty());

  const auto secrets = h.sim().secrets();
  // The simulator issued control and WebSocket tokens to both healthy meetings, several times.
  BOOST_TEST(secrets.size() >= 8u);
  const std::string output = h.allOutput() + errors;
  // Positive control: the search looks at real output.
  BOOST_TEST(output.find(kFlaky) != std::string::npos);
  BOOST_TEST(output.find("huawei_meeting_up") != std::string::npos);
  BOOST_TEST(output.find("level=warn") != std::string::npos);

  // Positive control: a secret (or its Basic form) in the output would be found.
  BOOST_TEST(!h.leakedSecrets(errors + " token=" + secrets.front()).empty());

  const auto leaked = h.leakedSecrets(errors);
  for (const auto& secret : leaked) {
    BOOST_TEST(false, "secret in the output (" << secret.size() << " bytes)");
  }
  for (const auto& meeting : h.config().meetings) {
    BOOST_TEST(output.find(meeting.host_password.reveal()) == std::string::npos, meeting.id);
  }
}

BOOST_AUTO_TEST_CASE(plain_password_in_a_readable_config_file_draws_a_warning) {
  TempDir dir;
  const std::string password = "plain-text-password-1234";
  const std::string text =
      "meetings:\n  - id: \"900600010\"\n    host_password: " + password + "\n";
  ::setenv("HME_SECRETS_TEST_PASSWORD", password.c_str(), 1);
  const std::string from_env =
      "meetings:\n  - id: \"900600011\"\n    host_password: ${HME_SECRETS_TEST_PASSWORD}\n";
  dir.write("password", password + "\n", 0600);
  const std::string from_file =
      "meetings:\n  - id: \"900600012\"\n    host_password_file: password\n";

  struct Case {
    const char* name;
    const std::string& yaml;
    mode_t mode;
    bool warns;
  };
  for (const auto& c : {Case{"plain, world-readable", text, 0644, true},
                        Case{"plain, group-readable", text, 0640, true},
                        Case{"plain, owner only", text, 0600, false},
                        Case{"${VAR}, world-readable", from_env, 0644, false},
                        Case{"password file, world-readable", from_file, 0644, false}}) {
    BOOST_TEST_CONTEXT(c.name) {
      const std::string path = dir.write("config.yml", c.yaml, c.mode);
      const auto config = hme::config::loadConfigFile(path);
      BOOST_TEST(config.meetings.at(0).host_password.reveal() == password);
      BOOST_TEST(config.warnings.size() == (c.warns ? 1u : 0u));
      for (const auto& warning : config.warnings) {
        BOOST_TEST(warning.find(password) == std::string::npos);
        BOOST_TEST(warning.find("900600010") != std::string::npos, warning);
      }
    }
  }

  // The exporter logs the warning when it loads such a file.
  Harness h({meetingSpec(kGood)});
  const std::string path = dir.write("config.yml", text, 0644);
  hme::app::Exporter exporter([&] { return hme::config::loadConfigFile(path); }, "test", "test");
  exporter.start();
  exporter.stop();
  bool warned = false;
  for (const auto& line : h.logs()) {
    BOOST_TEST(line.find(password) == std::string::npos);
    warned = warned || (line.find("level=warn") != std::string::npos &&
                        line.find("readable by group or others") != std::string::npos);
  }
  BOOST_TEST(warned);
  ::unsetenv("HME_SECRETS_TEST_PASSWORD");
}

BOOST_AUTO_TEST_SUITE_END()
