#include "config/config.h"

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cfg = hme::config;
using namespace std::chrono_literals;

namespace {

const std::string kDir = HME_TESTDATA_DIR "/config";

// The message of the ConfigError `load` throws, or a marker that no error was thrown.
std::string errorOf(const std::function<void()>& load) {
  try {
    load();
  } catch (const cfg::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

std::string textError(const std::string& yaml, const std::string& base_dir = "") {
  return errorOf([&] { cfg::loadConfigText(yaml, base_dir); });
}

std::string durationError(const std::string& text) {
  try {
    cfg::parseDuration(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

std::string sizeError(const std::string& text) {
  try {
    cfg::parseSize(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

// A private temporary folder, removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hme-config-XXXXXX").string();
    BOOST_TEST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string file = path + "/" + name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
};

const char* kKnownTypes =
    "ConfBasicInfoNotify, ConfDynamicInfoNotify, ParticipantsNotify, AttendeesNotify, "
    "SpeakerChangeNotify, NetConditionNotify, CustomMultiPicNotify, InviteResultNotify, "
    "InterpreterGroupNotify, NetworkQualityNotify, WaitingListNotify, RealTimeSubtitleNotify";

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(each_invalid_fixture_fails_with_its_exact_message) {
  unsetenv("HME_TEST_UNSET_PASSWORD");
  unsetenv("HME_TEST_UNSET_APP_KEY");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unknown-key",
       "colour: unknown key (allowed: api, session, metrics, meetings, sharding, discovery)"},
      {"unknown-key-nested",
       "metrics.poor_network.loss: unknown key (allowed: packet_loss_ratio, rtt, jitter)"},
      {"unknown-key-meeting",
       "meetings[0].password: unknown key (allowed: id, host_password, host_password_file)"},
      {"duplicate-key", "api.timeout: duplicate key"},
      {"wrong-type-map", "api.url: expected a string, got a map"},
      {"wrong-type-section", "session: expected a map, got a list"},
      {"bool", "api.insecure_skip_verify: expected true or false, got \"maybe\""},
      {"timeout-zero", "api.timeout: must be positive, got 0s"},
      {"heartbeat-too-long",
       "session.heartbeat_interval: must be below 180s (the server closes silent sockets after "
       "180s), got 3m"},
      {"heartbeat-zero", "session.heartbeat_interval: must be positive, got 0s"},
      {"heartbeat-timeout",
       "session.heartbeat_timeout: must exceed heartbeat_interval (1m), got 1m"},
      {"backoff", "session.backoff_initial: must not exceed backoff_max (1m), got 2m"},
      {"token-refresh", "session.token_refresh_before: must be positive, got 0s"},
      {"frame-too-small", "session.max_frame_bytes: must be between 4KiB and 64MiB, got 1KiB"},
      {"frame-too-large", "session.max_frame_bytes: must be between 4KiB and 64MiB, got 128MiB"},
      {"frame-unit",
       "session.max_frame_bytes: invalid size \"1MB\": unknown unit \"MB\" (use B, KiB, MiB or "
       "GiB; sizes are powers of 1024)"},
      {"duration-unit",
       "api.timeout: invalid duration \"10sec\": unknown unit \"sec\" (use ms, s, m, h, d, w or "
       "y)"},
      {"duration-negative", "api.timeout: invalid duration \"-5s\": must not be negative"},
      {"duration-empty", "api.timeout: empty duration (use e.g. 30s, 5m or 1h30m)"},
      {"duration-no-unit",
       "api.timeout: invalid duration \"10\": missing unit (use ms, s, m, h, d, w or y)"},
      {"subscribe-unknown", std::string("session.subscribe[1]: unknown type \"ChatNotify\" "
                                        "(known: ") +
                                kKnownTypes + ")"},
      {"subscribe-empty", "session.subscribe: must list at least one type"},
      {"subscribe-duplicate", "session.subscribe[1]: duplicate type \"ParticipantsNotify\""},
      {"url-http",
       "api.url: must start with https:// (TLS is always verified), got "
       "\"http://api.meeting.huaweicloud.com\""},
      {"ca-file-missing",
       "api.ca_file: cannot read \"" + kDir + "/missing-ca.pem\": No such file or directory"},
      {"ca-file-not-pem",
       "api.ca_file: \"" + kDir + "/invalid-ca-file-not-pem.yml\" contains no PEM certificate"},
      {"websocket-tls-not-map",
       "api.websocket_tls: expected a map, got \"push.meeting.example.com\""},
      {"websocket-tls-unknown-key",
       "api.websocket_tls.sni: unknown key (allowed: server_name, ca_file, "
       "insecure_skip_verify)"},
      {"websocket-tls-server-name",
       "api.websocket_tls.server_name: must be a DNS name such as push.example.com (no scheme, "
       "port or path), got \"push.meeting.example.com:443\""},
      {"websocket-tls-server-name-ip",
       "api.websocket_tls.server_name: must be a DNS name, not an IP address (the certificate is "
       "checked for this name while the connection goes to the wsURL address), got "
       "\"100.94.23.40\""},
      {"websocket-tls-ca-file-missing", "api.websocket_tls.ca_file: cannot read \"" + kDir +
                                            "/missing-push-ca.pem\": No such file or directory"},
      {"websocket-tls-ca-file-not-pem", "api.websocket_tls.ca_file: \"" + kDir +
                                            "/invalid-websocket-tls-ca-file-not-pem.yml\" "
                                            "contains no PEM certificate"},
      {"websocket-tls-bool",
       "api.websocket_tls.insecure_skip_verify: expected true or false, got \"sometimes\""},
      {"meetings-not-list", "meetings: expected a list, got a map"},
      {"meeting-not-map",
       "meetings[0]: expected a map with id and host_password or host_password_file, got a "
       "single value"},
      {"meeting-no-id", "meetings[0]: needs an id"},
      {"meeting-id-not-digits",
       "meetings[0].id: must be a non-empty string of digits, got \"900-964-776\""},
      {"meeting-id-empty", "meetings[0].id: must be a non-empty string of digits, got \"\""},
      {"meeting-duplicate-id", "meetings[2].id: \"900964776\" is already used by meetings[0]"},
      {"password-missing", "meetings[0]: needs host_password or host_password_file"},
      {"password-both", "meetings[0]: set host_password or host_password_file, not both"},
      {"password-empty", "meetings[0].host_password: must not be empty"},
      {"password-file-missing", "meetings[1].host_password_file: cannot read \"" + kDir +
                                    "/does-not-exist/secret\": No such file or directory"},
      {"password-env-unset",
       "meetings[0].host_password: environment variable HME_TEST_UNSET_PASSWORD is not set"},
      {"max-participants", "metrics.max_participants_per_meeting: must be at least 1, got 0"},
      {"packet-loss", "metrics.poor_network.packet_loss_ratio: must be between 0 and 1, got 1.5"},
      {"not-a-map",
       "config must be a map with keys api, session, metrics, meetings, sharding, discovery, got a "
       "list"},
      {"empty",
       "config is empty: expected a map with keys api, session, metrics, meetings, sharding, "
       "discovery"},
      {"syntax", "YAML syntax error at line 3, column 8: end of sequence flow not found"},
      {"two-documents", "config must be one YAML document, found 2"},
      {"discovery-not-map",
       "discovery: expected a map with app_id and app_key_file, got a single value"},
      {"discovery-no-app-id", "discovery: needs app_id"},
      {"discovery-no-key", "discovery: needs app_key or app_key_file"},
      {"discovery-key-both", "discovery: set app_key or app_key_file, not both"},
      {"discovery-key-file-missing", "discovery.app_key_file: cannot read \"" + kDir +
                                         "/no-such-app-key\": No such file or directory"},
      {"discovery-key-env-unset",
       "discovery.app_key: environment variable HME_TEST_UNSET_APP_KEY is not set"},
      {"discovery-interval-zero", "discovery.interval: must be positive, got 0s"},
      {"discovery-regex",
       "discovery.include_subject: invalid regular expression \"[a-z\": unbalanced [ ]"},
      {"discovery-max-meetings", "discovery.max_meetings: must be at least 1, got 0"},
      {"discovery-unknown-key",
       "discovery.filters: unknown key (allowed: app_id, app_key, app_key_file, interval, "
       "include_webinars, include_subject, exclude_subject, include_scheduler, "
       "exclude_scheduler, max_meetings, webhook)"},
      {"discovery-bool", "discovery.include_webinars: expected true or false, got \"maybe\""},
      {"discovery-webhook-path", "discovery.webhook.path: must start with '/', got \"hook\""},
      {"discovery-webhook-path-reserved",
       "discovery.webhook.path: must not be / or start with /-/ (the exporter's own pages), got "
       "\"/-/hook\""},
      {"discovery-webhook-no-id", "discovery.webhook: needs subscriber_id"},
      {"discovery-webhook-no-key",
       "discovery.webhook: needs subscriber_key or subscriber_key_file"},
      {"discovery-webhook-not-map",
       "discovery.webhook: expected a map with path, subscriber_id and subscriber_key_file, got a "
       "single value"},
  };
  std::set<std::string> covered;
  for (const auto& [name, message] : cases) {
    BOOST_TEST_CONTEXT("invalid-" << name << ".yml") {
      const std::string file = kDir + "/invalid-" + name + ".yml";
      BOOST_TEST(std::filesystem::exists(file));
      BOOST_TEST(errorOf([&] { cfg::loadConfigFile(file); }) == message);
      covered.insert(file);
    }
  }
  // Every fixture on disk must have its row: a fixture without one would never be checked.
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    const std::string file = entry.path().string();
    if (entry.path().filename().string().rfind("invalid-", 0) == 0) {
      BOOST_TEST(covered.count(file) == 1u, file << " has no row in the table");
    }
  }
}

BOOST_AUTO_TEST_CASE(unreadable_config_file_names_the_file) {
  const std::string missing = kDir + "/no-such-config.yml";
  BOOST_TEST(errorOf([&] { cfg::loadConfigFile(missing); }) ==
             "cannot read config file \"" + missing + "\": No such file or directory");
  BOOST_TEST(errorOf([&] { cfg::loadConfigFile(kDir); }) ==
             "cannot read config file \"" + kDir + "\": Is a directory");
}

BOOST_AUTO_TEST_CASE(full_fixture_sets_every_key) {
  setenv("HME_TEST_PASSWORD", "env-secret", 1);
  const cfg::Config c = cfg::loadConfigFile(kDir + "/valid-full.yml");
  BOOST_TEST(c.api.url == "https://127.0.0.1:8443");
  BOOST_TEST(c.api.ca_file == kDir + "/../pki/ca.pem");
  BOOST_TEST(c.api.insecure_skip_verify);
  BOOST_TEST(c.api.timeout.count() == 2500);
  BOOST_TEST(c.api.websocket_tls.server_name == "push.meeting.example.com");
  BOOST_TEST(cfg::webSocketCaFile(c.api) == kDir + "/../pki/untrusted-ca.pem");
  BOOST_TEST(!cfg::webSocketInsecureSkipVerify(c.api));
  BOOST_TEST(c.session.heartbeat_interval.count() == 30'000);
  BOOST_TEST(c.session.heartbeat_timeout.count() == 75'000);
  BOOST_TEST(c.session.backoff_initial.count() == 500);
  BOOST_TEST(c.session.backoff_max.count() == 120'000);
  BOOST_TEST(c.session.token_refresh_before.count() == 600'000);
  BOOST_TEST(c.session.max_frame_bytes == 524'288u);
  BOOST_TEST(c.session.subscribe ==
                 (std::vector<std::string>{"ParticipantsNotify", "RealTimeSubtitleNotify"}),
             boost::test_tools::per_element());
  BOOST_TEST(!c.metrics.participant_series);
  BOOST_TEST(c.metrics.participant_names);
  BOOST_TEST(c.metrics.max_participants_per_meeting == 250u);
  BOOST_TEST(c.metrics.ended_meeting_retention.count() == 3'600'000);
  BOOST_TEST(c.metrics.poor_network.packet_loss_ratio == 0.1);
  BOOST_TEST(c.metrics.poor_network.rtt.count() == 500);
  BOOST_TEST(c.metrics.poor_network.jitter.count() == 80);
  BOOST_TEST_REQUIRE(c.meetings.size() == 3u);
  BOOST_TEST(c.meetings[0].id == "900964776");
  BOOST_TEST(c.meetings[0].host_password.reveal() == "file-secret");
  BOOST_TEST(c.meetings[1].id == "900964777");
  BOOST_TEST(c.meetings[1].host_password.reveal() == "env-secret");
  BOOST_TEST(c.meetings[2].id == "900964778");
  BOOST_TEST(c.meetings[2].host_password.reveal() == "pa$word$1");
  unsetenv("HME_TEST_PASSWORD");
}

BOOST_AUTO_TEST_CASE(minimal_fixture_has_every_default) {
  const cfg::Config c = cfg::loadConfigFile(kDir + "/valid-minimal.yml");
  BOOST_TEST(c.api.url == "https://api.meeting.huaweicloud.com");
  BOOST_TEST(c.api.ca_file.empty());
  BOOST_TEST(!c.api.insecure_skip_verify);
  BOOST_TEST(c.api.timeout.count() == 10'000);
  BOOST_TEST(c.api.websocket_tls.server_name.empty());
  BOOST_TEST(cfg::webSocketCaFile(c.api).empty());
  BOOST_TEST(!cfg::webSocketInsecureSkipVerify(c.api));
  BOOST_TEST(c.session.heartbeat_interval.count() == 60'000);
  BOOST_TEST(c.session.heartbeat_timeout.count() == 90'000);
  BOOST_TEST(c.session.backoff_initial.count() == 1'000);
  BOOST_TEST(c.session.backoff_max.count() == 60'000);
  BOOST_TEST(c.session.token_refresh_before.count() == 300'000);
  BOOST_TEST(c.session.max_frame_bytes == 16'777'216u);
  const std::vector<std::string> defaults = {
      "ConfBasicInfoNotify",  "ConfDynamicInfoNotify", "ParticipantsNotify",
      "AttendeesNotify",      "SpeakerChangeNotify",   "NetConditionNotify",
      "CustomMultiPicNotify", "InviteResultNotify",    "InterpreterGroupNotify",
      "NetworkQualityNotify", "WaitingListNotify"};
  BOOST_TEST(c.session.subscribe == defaults, boost::test_tools::per_element());
  BOOST_TEST(c.metrics.participant_series);
  BOOST_TEST(!c.metrics.participant_names);
  BOOST_TEST(c.metrics.max_participants_per_meeting == 1000u);
  BOOST_TEST(c.metrics.ended_meeting_retention.count() == 300'000);
  BOOST_TEST(c.metrics.poor_network.packet_loss_ratio == 0.05);
  BOOST_TEST(c.metrics.poor_network.rtt.count() == 300);
  BOOST_TEST(c.metrics.poor_network.jitter.count() == 50);
  BOOST_TEST(c.meetings.empty());
  BOOST_TEST(!c.discovery.has_value());
  BOOST_TEST((c == cfg::Config{}));
}

BOOST_AUTO_TEST_CASE(empty_sections_keep_defaults_and_equality_sees_every_change) {
  BOOST_TEST((cfg::loadConfigText("api:\nsession:\nmetrics:\nmeetings:\n", "") == cfg::Config{}));
  cfg::Config a;
  a.meetings.push_back({"1", cfg::Secret("x")});
  cfg::Config b = a;
  BOOST_TEST((a == b));
  b.meetings[0].host_password = cfg::Secret("y");
  BOOST_TEST((a != b));
  b = a;
  b.metrics.poor_network.jitter = 51ms;
  BOOST_TEST((a.metrics != b.metrics));
  BOOST_TEST((a.session == b.session));
}

BOOST_AUTO_TEST_CASE(websocket_tls_falls_back_to_api_and_can_override_it_for_the_push_host) {
  const std::string ca = HME_TESTDATA_DIR "/pki/ca.pem";
  const std::string other_ca = HME_TESTDATA_DIR "/pki/untrusted-ca.pem";
  // Unset: the push host inherits the api. settings.
  cfg::Config c = cfg::loadConfigText(
      "api: {ca_file: \"" + ca + "\", insecure_skip_verify: true, websocket_tls: }", "");
  BOOST_TEST(cfg::webSocketCaFile(c.api) == ca);
  BOOST_TEST(cfg::webSocketInsecureSkipVerify(c.api));
  // Set: the push host alone is insecure (or has its own bundle); api. keeps its values.
  c = cfg::loadConfigText("api: {ca_file: \"" + ca +
                              "\", websocket_tls: {insecure_skip_verify: true, ca_file: \"" +
                              other_ca + "\", server_name: Push-1.Example.COM}}",
                          "");
  BOOST_TEST(!c.api.insecure_skip_verify);
  BOOST_TEST(c.api.ca_file == ca);
  BOOST_TEST(cfg::webSocketInsecureSkipVerify(c.api));
  BOOST_TEST(cfg::webSocketCaFile(c.api) == other_ca);
  BOOST_TEST(c.api.websocket_tls.server_name == "Push-1.Example.COM");
  // "" (the default shown in the docs) falls back to api.ca_file.
  c = cfg::loadConfigText("api: {ca_file: \"" + ca + "\", websocket_tls: {ca_file: \"\"}}", "");
  BOOST_TEST(cfg::webSocketCaFile(c.api) == ca);
  // Explicitly verified push host under an insecure api.
  c = cfg::loadConfigText(
      "api: {insecure_skip_verify: true, websocket_tls: {insecure_skip_verify: false}}", "");
  BOOST_TEST(!cfg::webSocketInsecureSkipVerify(c.api));
  // Every field takes part in equality (a reload must see the change).
  const cfg::Config base;
  cfg::Config changed = base;
  changed.api.websocket_tls.server_name = "push.example.com";
  BOOST_TEST((base.api != changed.api));
  changed = base;
  changed.api.websocket_tls.ca_file = other_ca;
  BOOST_TEST((base.api != changed.api));
  changed = base;
  changed.api.websocket_tls.insecure_skip_verify = true;
  BOOST_TEST((base.api != changed.api));
  BOOST_TEST((changed.api.websocket_tls != base.api.websocket_tls));
  // The documented defaults written out (README, deploy example) equal the built-in default.
  BOOST_TEST((cfg::loadConfigText("api: {websocket_tls: {server_name: \"\", ca_file: \"\", "
                                  "insecure_skip_verify: false}}",
                                  "") == cfg::Config{}));
  // Name rules beyond the fixtures.
  const std::vector<std::string> bad_names = {"wss://push.example.com",
                                              "push..example.com",
                                              ".example.com",
                                              "*.example.com",
                                              "push_host.example.com",
                                              "::1",
                                              "[::1]",
                                              std::string(64, 'a') + ".com"};
  for (const std::string& bad : bad_names) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(textError("api: {websocket_tls: {server_name: \"" + bad + "\"}}")
                     .rfind("api.websocket_tls.server_name: must be a DNS name", 0) == 0);
    }
  }
  BOOST_TEST(
      (cfg::loadConfigText("api: {websocket_tls: {server_name: \"\"}}", "") == cfg::Config{}));
}

BOOST_AUTO_TEST_CASE(edge_cases_outside_the_fixtures) {
  BOOST_TEST(textError("api: {url: \"https://\"}") == "api.url: must name a host after https://");
  BOOST_TEST(textError("api: {url: \"https:///\"}") == "api.url: must name a host after https://");
  BOOST_TEST(textError("? [a]\n: b\n") == "config: keys must be names, got a list");
  BOOST_TEST(textError("session: {heartbeat_interval: 100s}") ==
             "session.heartbeat_timeout: must exceed heartbeat_interval (1m40s), got 1m30s");
  BOOST_TEST(textError("metrics: {poor_network: {packet_loss_ratio: .nan}}") ==
             "metrics.poor_network.packet_loss_ratio: expected a number, got \".nan\"");
  BOOST_TEST(textError("metrics: {participant_series: [true]}") ==
             "metrics.participant_series: expected true or false, got a list");
  BOOST_TEST(textError("session: {subscribe: ParticipantsNotify}") ==
             "session.subscribe: expected a list of push types, got \"ParticipantsNotify\"");
  BOOST_TEST(textError("api: {timeout: }") ==
             "api.timeout: expected a duration like 30s or 5m, got nothing");
  const cfg::Config c = cfg::loadConfigText(
      "api: {insecure_skip_verify: Yes}\nmetrics: {poor_network: {packet_loss_ratio: 1}}", "");
  BOOST_TEST(c.api.insecure_skip_verify);
  BOOST_TEST(c.metrics.poor_network.packet_loss_ratio == 1.0);
}

BOOST_AUTO_TEST_CASE(durations_parse_like_prometheus) {
  const std::vector<std::pair<std::string, std::chrono::milliseconds>> good = {
      {"0", 0ms},   {"0s", 0ms},       {"500ms", 500ms},        {"30s", 30s},
      {"5m", 5min}, {"1h", 1h},        {"1h30m", 90min},        {"2d", 48h},
      {"1w", 168h}, {"1y", 365 * 24h}, {"1m30s250ms", 90250ms}, {"90s", 90s}};
  for (const auto& [text, expected] : good) {
    BOOST_TEST_CONTEXT(text) { BOOST_TEST(cfg::parseDuration(text).count() == expected.count()); }
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty duration (use e.g. 30s, 5m or 1h30m)"},
      {"-1s", "invalid duration \"-1s\": must not be negative"},
      {"10", "invalid duration \"10\": missing unit (use ms, s, m, h, d, w or y)"},
      {"5x", "invalid duration \"5x\": unknown unit \"x\" (use ms, s, m, h, d, w or y)"},
      {"5S", "invalid duration \"5S\": unknown unit \"S\" (use ms, s, m, h, d, w or y)"},
      {"1.5h", "invalid duration \"1.5h\": expected integers with units, e.g. 1h30m or 500ms"},
      {"h", "invalid duration \"h\": expected integers with units, e.g. 1h30m or 500ms"},
      {"1h 30m", "invalid duration \"1h 30m\": expected integers with units, e.g. 1h30m or 500ms"},
      {"30s1m",
       "invalid duration \"30s1m\": units must go from largest to smallest, each at most once"},
      {"1s1s",
       "invalid duration \"1s1s\": units must go from largest to smallest, each at most once"},
      {"99999999999999999999s", "invalid duration \"99999999999999999999s\": too large"},
      {"300000000y", "invalid duration \"300000000y\": too large"},
  };
  for (const auto& [text, message] : bad) {
    BOOST_TEST_CONTEXT(text) { BOOST_TEST(durationError(text) == message); }
  }
}

BOOST_AUTO_TEST_CASE(durations_format_like_prometheus_and_round_trip) {
  BOOST_TEST(cfg::formatDuration(0ms) == "0s");
  BOOST_TEST(cfg::formatDuration(90s) == "1m30s");
  BOOST_TEST(cfg::formatDuration(1500ms) == "1s500ms");
  BOOST_TEST(cfg::formatDuration(14 * 24h) == "2w");
  BOOST_TEST(cfg::formatDuration(-2s) == "-2s");
  for (const char* text : {"1y2w3d4h5m6s7ms", "500ms", "1h", "2d12h"}) {
    BOOST_TEST(cfg::formatDuration(cfg::parseDuration(text)) == text);
  }
}

BOOST_AUTO_TEST_CASE(sizes_take_binary_units_only) {
  BOOST_TEST(cfg::parseSize("1048576") == 1048576u);
  BOOST_TEST(cfg::parseSize("4096B") == 4096u);
  BOOST_TEST(cfg::parseSize("512KiB") == 524288u);
  BOOST_TEST(cfg::parseSize("1MiB") == 1048576u);
  BOOST_TEST(cfg::parseSize("2GiB") == 2147483648u);
  BOOST_TEST(sizeError("") == "empty size (use e.g. 1MiB, 512KiB or 1048576)");
  BOOST_TEST(sizeError("-1") == "invalid size \"-1\": must not be negative");
  BOOST_TEST(sizeError("1kB") ==
             "invalid size \"1kB\": unknown unit \"kB\" (use B, KiB, MiB or GiB; sizes are "
             "powers of 1024)");
  BOOST_TEST(sizeError("1.5MiB") ==
             "invalid size \"1.5MiB\": expected an integer with an optional unit, e.g. 1MiB");
  BOOST_TEST(sizeError("MiB") ==
             "invalid size \"MiB\": expected an integer with an optional unit, e.g. 1MiB");
  BOOST_TEST(sizeError("1 MiB") ==
             "invalid size \"1 MiB\": expected an integer with an optional unit, e.g. 1MiB");
  BOOST_TEST(sizeError("99999999999GiB") == "invalid size \"99999999999GiB\": too large");
  BOOST_TEST(cfg::formatSize(0) == "0B");
  BOOST_TEST(cfg::formatSize(1000) == "1000B");
  BOOST_TEST(cfg::formatSize(4096) == "4KiB");
  BOOST_TEST(cfg::formatSize(1048576) == "1MiB");
  BOOST_TEST(cfg::formatSize(3u << 30) == "3GiB");
}

BOOST_AUTO_TEST_CASE(env_vars_expand_in_string_values) {
  setenv("HME_TEST_HOST", "127.0.0.1:9443", 1);
  setenv("HME_TEST_ID", "123456", 1);
  setenv("HME_TEST_PW", "p${HME_TEST_ID}", 1);  // not expanded again
  unsetenv("HME_TEST_UNSET");
  const cfg::Config c = cfg::loadConfigText(
      "api: {url: \"https://${HME_TEST_HOST}/\"}\n"
      "meetings:\n"
      "  - {id: \"${HME_TEST_ID}\", host_password: \"${HME_TEST_PW}-$$-$x-$\"}\n",
      "");
  BOOST_TEST(c.api.url == "https://127.0.0.1:9443");
  BOOST_TEST_REQUIRE(c.meetings.size() == 1u);
  BOOST_TEST(c.meetings[0].id == "123456");
  BOOST_TEST(c.meetings[0].host_password.reveal() == "p${HME_TEST_ID}-$-$x-$");
  BOOST_TEST(textError("api: {ca_file: \"${HME_TEST_UNSET}\"}\n") ==
             "api.ca_file: environment variable HME_TEST_UNSET is not set");
  BOOST_TEST(textError("meetings: [{id: \"1\", host_password: \"a${B\"}]\n") ==
             "meetings[0].host_password: unterminated ${ (write $$ for a literal $)");
  BOOST_TEST(textError("meetings: [{id: \"1\", host_password: \"a${B-C}\"}]\n") ==
             "meetings[0].host_password: invalid variable name in ${...} (letters, digits and _; "
             "$$ is a literal $)");
  BOOST_TEST(textError("meetings: [{id: \"1\", host_password: \"${}\"}]\n") ==
             "meetings[0].host_password: invalid variable name in ${...} (letters, digits and _; "
             "$$ is a literal $)");
  setenv("HME_TEST_EMPTY", "", 1);
  BOOST_TEST(textError("meetings: [{id: \"1\", host_password: \"${HME_TEST_EMPTY}\"}]\n") ==
             "meetings[0].host_password: must not be empty");
  for (const char* name : {"HME_TEST_HOST", "HME_TEST_ID", "HME_TEST_PW", "HME_TEST_EMPTY"}) {
    unsetenv(name);
  }
}

BOOST_AUTO_TEST_CASE(password_files_are_read_and_trimmed) {
  const TempDir dir;
  dir.write("crlf", "s3cret \r\n\n");
  const std::string absolute = dir.write("absolute", "line1\nline2\n");
  dir.write("empty", "");
  dir.write("newlines", "\n\r\n");
  std::filesystem::create_directory(dir.path + "/folder");
  const cfg::Config c = cfg::loadConfigText(
      "meetings:\n"
      "  - {id: \"1\", host_password_file: crlf}\n"
      "  - {id: \"2\", host_password_file: " +
          absolute + "}\n",
      dir.path);
  BOOST_TEST_REQUIRE(c.meetings.size() == 2u);
  BOOST_TEST(c.meetings[0].host_password.reveal() == "s3cret ");  // only newlines are stripped
  BOOST_TEST(c.meetings[1].host_password.reveal() == "line1\nline2");
  const auto load = [&](const std::string& file) {
    return textError("meetings: [{id: \"1\", host_password_file: " + file + "}]\n", dir.path);
  };
  BOOST_TEST(load("empty") ==
             "meetings[0].host_password_file: \"" + dir.path + "/empty\" is empty");
  BOOST_TEST(load("newlines") ==
             "meetings[0].host_password_file: \"" + dir.path + "/newlines\" is empty");
  BOOST_TEST(load("folder") == "meetings[0].host_password_file: cannot read \"" + dir.path +
                                   "/folder\": Is a directory");
  BOOST_TEST(load("\"\"") == "meetings[0].host_password_file: must not be empty");
  dir.write("huge", std::string(65 * 1024, 'x'));
  BOOST_TEST(load("huge") == "meetings[0].host_password_file: cannot read \"" + dir.path +
                                 "/huge\": larger than 64KiB");
}

BOOST_AUTO_TEST_CASE(no_error_message_contains_a_password) {
  const std::string secret = "Zq7-secret-Pw";
  const TempDir dir;
  dir.write("pw", secret + "\n");
  setenv("HME_TEST_SECRET", secret.c_str(), 1);
  const std::vector<std::string> texts = {
      // A wrong type, an unknown key or a bad id right next to the password.
      "meetings: [{id: {x: 1}, host_password: " + secret + "}]",
      "meetings: [{id: \"1\", host_password: " + secret + ", colour: red}]",
      "meetings: [{id: \"1x\", host_password: " + secret + "}]",
      "meetings: [{host_password: " + secret + "}]",
      "meetings: [{id: \"1\", host_password: [" + secret + "]}]",
      "meetings: [{id: \"1\", host_password: {" + secret + ": 1}}]",
      "meetings: [{id: \"1\", host_password: " + secret + ", host_password_file: pw}]",
      "meetings: [{id: \"1\", host_password: " + secret + "}, {id: \"1\", host_password: x}]",
      "meetings: [{id: \"1\", host_password: \"${" + secret + "}\"}]",
      "meetings: [{id: \"1\", host_password: \"${HME_TEST_SECRET\"}]",
      "meetings: [{id: \"1\", host_password: \"${HME_TEST_SECRET}\", id: \"2\"}]",
      "meetings: [\"" + secret + "\"]",
      "meetings: " + secret,
      "meetings: [{id: \"1\", host_password_file: pw}]\nsession: {subscribe: [Foo]}",
      "meetings: [{id: \"1\", host_password: " + secret + "}]\napi: {url: [",
      "- " + secret,
      secret,
  };
  for (const std::string& text : texts) {
    BOOST_TEST_CONTEXT(text) {
      const std::string message = textError(text, dir.path);
      BOOST_TEST(message != "<no error>");
      BOOST_TEST(message.find(secret) == std::string::npos, message);
    }
  }
  const cfg::Config c =
      cfg::loadConfigText("meetings: [{id: \"1\", host_password_file: pw}]", dir.path);
  BOOST_TEST(c.meetings.at(0).host_password.reveal() == secret);
  BOOST_TEST(cfg::describe(c).find(secret) == std::string::npos);
  unsetenv("HME_TEST_SECRET");
}

BOOST_AUTO_TEST_CASE(describe_summarises_without_secrets) {
  cfg::Config c;
  BOOST_TEST(cfg::describe(c) ==
             "api_url=https://api.meeting.huaweicloud.com ca_file=\"\" insecure_skip_verify=false "
             "timeout=10s websocket_tls_server_name=\"\" websocket_tls_ca_file=\"\" "
             "websocket_tls_insecure_skip_verify=false heartbeat_interval=1m "
             "heartbeat_timeout=1m30s backoff=1s..1m "
             "token_refresh_before=5m max_frame_bytes=16MiB subscribe_types=11 "
             "participant_series=true participant_names=false max_participants_per_meeting=1000 "
             "ended_meeting_retention=5m poor_network_packet_loss_ratio=0.05 "
             "poor_network_rtt=300ms poor_network_jitter=50ms meetings=0 discovery=off");
  c.api.ca_file = "/etc/my ca.pem";
  c.api.websocket_tls.server_name = "push.example.com";
  c.api.websocket_tls.insecure_skip_verify = true;
  c.meetings.push_back({"1", cfg::Secret("hunter2")});
  const std::string line = cfg::describe(c);
  BOOST_TEST(line.find(" ca_file=\"/etc/my ca.pem\"") != std::string::npos);
  BOOST_TEST(line.find(" websocket_tls_server_name=push.example.com websocket_tls_ca_file=\"/etc/"
                       "my ca.pem\" websocket_tls_insecure_skip_verify=true") != std::string::npos,
             line);
  BOOST_TEST(line.find("meetings=1") != std::string::npos);
  BOOST_TEST(line.find("hunter2") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
