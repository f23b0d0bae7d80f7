// The `discovery` config section beyond the invalid fixtures of config_test.cpp: the full valid
// fixture, defaults, secrets kept out of messages, the summary line and the demo flag.

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugin/app/cli.h"

namespace cfg = hme::config;
using namespace std::chrono_literals;

namespace {

const std::string kDir = HME_TESTDATA_DIR "/config";

std::string textError(const std::string& yaml) {
  try {
    cfg::loadConfigText(yaml, kDir);
  } catch (const cfg::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(discovery_config)

BOOST_AUTO_TEST_CASE(full_fixture_sets_every_discovery_key) {
  setenv("HME_TEST_SUBSCRIBER_KEY", "env-subscriber-key", 1);
  const cfg::Config c = cfg::loadConfigFile(kDir + "/valid-discovery.yml");
  unsetenv("HME_TEST_SUBSCRIBER_KEY");
  BOOST_TEST_REQUIRE(c.discovery.has_value());
  const cfg::DiscoveryConfig& d = *c.discovery;
  BOOST_TEST(d.app_id == "hme-enterprise-app");
  BOOST_TEST(d.app_key.reveal() == "file-app-key");  // trailing newline stripped
  BOOST_TEST(d.interval.count() == 90'000);
  BOOST_TEST(!d.include_webinars);
  BOOST_TEST(d.include_subject == "^(Sales|Support) ");
  BOOST_TEST(d.exclude_subject == "(?:private|1:1)");
  BOOST_TEST(d.include_scheduler == ".");
  BOOST_TEST(d.exclude_scheduler == "^bot-");
  BOOST_TEST(d.max_meetings == 50u);
  BOOST_TEST_REQUIRE(d.webhook.has_value());
  BOOST_TEST(d.webhook->path == "/huawei/events");
  BOOST_TEST(d.webhook->subscriber_id == "hme-subscriber");
  BOOST_TEST(d.webhook->subscriber_key.reveal() == "env-subscriber-key");
  BOOST_TEST_REQUIRE(c.meetings.size() == 1u);  // static meetings keep working beside discovery
  BOOST_TEST(c.meetings[0].host_password.reveal() == "static-secret");
}

BOOST_AUTO_TEST_CASE(defaults_of_a_minimal_section) {
  const cfg::Config c = cfg::loadConfigText(
      "discovery: {app_id: a, app_key_file: valid-discovery-app-key.txt}", kDir);
  BOOST_TEST_REQUIRE(c.discovery.has_value());
  BOOST_TEST(c.discovery->interval.count() == 30'000);
  BOOST_TEST(c.discovery->include_webinars);
  BOOST_TEST(c.discovery->include_subject.empty());
  BOOST_TEST(c.discovery->max_meetings == 0u);
  BOOST_TEST(!c.discovery->webhook.has_value());
  BOOST_TEST(c.meetings.empty());
  // 1 second is fine: tests and small sites poll fast.
  const cfg::Config fast = cfg::loadConfigText(
      "discovery: {app_id: a, app_key: k, interval: 1s, webhook: {path: /h, subscriber_id: s, "
      "subscriber_key_file: valid-discovery-app-key.txt}}",
      kDir);
  BOOST_TEST(fast.discovery->interval.count() == 1'000);
  BOOST_TEST(fast.discovery->webhook->subscriber_key.reveal() == "file-app-key");
}

BOOST_AUTO_TEST_CASE(equality_sees_discovery_changes) {
  const auto load = [](const std::string& text) { return cfg::loadConfigText(text, kDir); };
  const cfg::Config a = load("discovery: {app_id: a, app_key: k1}");
  BOOST_TEST((a == load("discovery: {app_id: a, app_key: k1}")));
  BOOST_TEST((a != load("discovery: {app_id: a, app_key: k2}")));
  BOOST_TEST((a != load("discovery: {app_id: a, app_key: k1, max_meetings: 3}")));
  BOOST_TEST((a != load("discovery: {app_id: a, app_key: k1, webhook: {path: /h, "
                        "subscriber_id: s, subscriber_key: x}}")));
  BOOST_TEST((a != load("meetings: []")));
}

BOOST_AUTO_TEST_CASE(no_error_message_contains_the_app_or_subscriber_key) {
  const std::string secret = "Kx7-secret-app-key";
  setenv("HME_TEST_APP_KEY", secret.c_str(), 1);
  const std::vector<std::string> texts = {
      "discovery: {app_key: " + secret + "}",
      "discovery: {app_id: a, app_key: " + secret + ", colour: red}",
      "discovery: {app_id: a, app_key: [" + secret + "]}",
      "discovery: {app_id: a, app_key: {" + secret + ": 1}}",
      "discovery: {app_id: a, app_key: " + secret + ", app_key_file: x}",
      "discovery: {app_id: [" + secret + "], app_key: k}",
      "discovery: {app_id: a, app_key: \"${HME_TEST_APP_KEY\"}",
      "discovery: {app_id: a, app_key: k, webhook: {path: /h, subscriber_id: s, subscriber_key: " +
          secret + ", x: 1}}",
      "discovery: {app_id: a, app_key: k, webhook: {path: /h, subscriber_key: " + secret + "}}",
      "discovery: {app_id: a, app_key: k, webhook: " + secret + "}",
      "discovery: " + secret,
  };
  for (const std::string& text : texts) {
    BOOST_TEST_CONTEXT(text) {
      const std::string message = textError(text);
      BOOST_TEST(message != "<no error>");
      BOOST_TEST(message.find(secret) == std::string::npos, message);
    }
  }
  const cfg::Config c =
      cfg::loadConfigText("discovery: {app_id: a, app_key: \"${HME_TEST_APP_KEY}\"}", kDir);
  unsetenv("HME_TEST_APP_KEY");
  BOOST_TEST(c.discovery->app_key.reveal() == secret);
  BOOST_TEST(cfg::describe(c).find(secret) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(describe_summarises_discovery) {
  const cfg::Config c = cfg::loadConfigText(
      "discovery: {app_id: hme-app, app_key: k, interval: 1m, include_subject: x, "
      "exclude_scheduler: y, max_meetings: 9, webhook: {path: /hook, subscriber_id: s, "
      "subscriber_key: z}}",
      kDir);
  const std::string line = cfg::describe(c);
  BOOST_TEST(line.find(" discovery=on discovery_app_id=hme-app discovery_interval=1m "
                       "discovery_include_webinars=true discovery_filters=2 "
                       "discovery_max_meetings=9 discovery_webhook=/hook") != std::string::npos,
             line);
}

BOOST_AUTO_TEST_CASE(demo_enterprise_flag_implies_demo) {
  const auto parsed = hme::app::parseCommandLine({"--demo.enterprise"});
  BOOST_TEST(parsed.demo);
  BOOST_TEST(parsed.demo_enterprise);
  BOOST_TEST(!hme::app::parseCommandLine({"--demo"}).demo_enterprise);
  BOOST_TEST(hme::app::usageText().find("--demo.enterprise") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
