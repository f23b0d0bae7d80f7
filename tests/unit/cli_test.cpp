#include "plugin/app/cli.h"

#include <boost/test/unit_test.hpp>

using hme::app::parseCommandLine;
using hme::app::UsageError;

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(defaults_match_the_interface_spec) {
  const auto parsed = parseCommandLine({});
  BOOST_TEST(parsed.config_file == "huawei_meeting_exporter.yml");
  BOOST_TEST(parsed.listen_addresses.empty());
  BOOST_TEST(parsed.telemetry_path == "/metrics");
  BOOST_TEST(parsed.log_level == "info");
  BOOST_TEST(parsed.log_format == "logfmt");
  BOOST_TEST(!parsed.demo);
  BOOST_TEST(!parsed.check_config);
}

BOOST_AUTO_TEST_CASE(both_value_forms_and_repeated_addresses) {
  const auto parsed =
      parseCommandLine({"--config.file=/etc/x.yml", "--web.listen-address", "127.0.0.1:0",
                        "--web.listen-address=[::1]:9877", "--log.format", "json", "--demo"});
  BOOST_TEST(parsed.config_file == "/etc/x.yml");
  BOOST_TEST(parsed.listen_addresses.size() == 2u);
  BOOST_TEST(parsed.listen_addresses[0] == "127.0.0.1:0");
  BOOST_TEST(parsed.listen_addresses[1] == "[::1]:9877");
  BOOST_TEST(parsed.log_format == "json");
  BOOST_TEST(parsed.demo);
}

void expectUsageError(const std::vector<std::string>& args, const std::string& message) {
  try {
    parseCommandLine(args);
    BOOST_FAIL("expected a UsageError for " + args.front());
  } catch (const UsageError& e) {
    BOOST_TEST(std::string(e.what()) == message);
  }
}

BOOST_AUTO_TEST_CASE(errors_name_the_flag) {
  expectUsageError({"--nope"}, "unknown flag --nope (see --help)");
  expectUsageError({"--log.level=loud"},
                   "--log.level: must be one of debug | info | warn | error, got \"loud\"");
  expectUsageError({"--config.file"}, "--config.file: needs a value (FILE)");
  expectUsageError({"--demo=yes"}, "--demo: is a switch and takes no value");
  expectUsageError({"stray"}, "unexpected argument \"stray\" (flags look like --name=value)");
  expectUsageError({"--web.telemetry-path=metrics"},
                   "--web.telemetry-path: must start with '/', got \"metrics\"");
}

BOOST_AUTO_TEST_CASE(probe_flags) {
  const auto off = parseCommandLine({});
  BOOST_TEST(off.probe_meeting_id.empty());
  BOOST_TEST(off.probe_duration.count() == 60000);
  const auto parsed = parseCommandLine({"--probe=900964776", "--probe.duration", "3s"});
  BOOST_TEST(parsed.probe_meeting_id == "900964776");
  BOOST_TEST(parsed.probe_duration.count() == 3000);
  BOOST_TEST(parseCommandLine({"--probe", "1", "--probe.duration=1m30s"}).probe_duration.count() ==
             90000);
}

BOOST_AUTO_TEST_CASE(probe_flag_errors_name_the_flag) {
  expectUsageError({"--probe="}, "--probe: must be a meeting ID (digits), got \"\"");
  expectUsageError({"--probe=9009 64"}, "--probe: must be a meeting ID (digits), got \"9009 64\"");
  expectUsageError({"--probe"}, "--probe: needs a value (MEETING_ID)");
  expectUsageError({"--probe.duration=0"},
                   "--probe.duration: must be between 1ms and 1h, got \"0\"");
  expectUsageError({"--probe.duration=2h"},
                   "--probe.duration: must be between 1ms and 1h, got \"2h\"");
  try {
    parseCommandLine({"--probe.duration=soon"});
    BOOST_FAIL("expected a UsageError");
  } catch (const UsageError& e) {
    BOOST_TEST(std::string(e.what()).rfind("--probe.duration: ", 0) == 0u);
  }
}

BOOST_AUTO_TEST_CASE(help_lists_every_flag) {
  const std::string help = hme::app::usageText();
  for (const char* flag : {"--config.file", "--web.listen-address", "--web.telemetry-path",
                           "--log.level", "--log.format", "--demo", "--check-config", "--version",
                           "--probe=MEETING_ID", "--probe.duration=DURATION"}) {
    BOOST_TEST(help.find(flag) != std::string::npos, flag);
  }
}

BOOST_AUTO_TEST_SUITE_END()
