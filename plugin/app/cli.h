#pragma once
/// Command-line flags of huawei_meeting_exporter (spec/interface.md "Command line").

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"

namespace hme::app {

/// Parsed command line, with the documented defaults.
struct CommandLine {
  std::string config_file = "huawei_meeting_exporter.yml";
  std::vector<std::string> listen_addresses;  ///< empty means the default ":9877"
  std::string telemetry_path = "/metrics";
  std::string web_config_file;  ///< empty: plain HTTP without authentication
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool demo = false;
  bool demo_enterprise = false;  ///< --demo.enterprise (implies demo): meetings are discovered
  bool telegraf_execd = false;   ///< serve expositions on stdout, one per stdin line
  bool check_config = false;
  /// `--probe=MEETING_ID`: run one diagnostic session for this meeting and exit; empty: off.
  std::string probe_meeting_id;
  /// `--probe.duration`: how long the probe stays connected.
  std::chrono::milliseconds probe_duration{std::chrono::seconds(60)};
  bool version = false;
  bool help = false;
  /// `--shard=index/count`: run only this replica's share of the meetings (overrides the
  /// config's `sharding:`); unset when the flag is absent.
  std::optional<config::ShardingConfig> shard;
};

/// A flag was unknown, lacked a value or had a bad one; the message names the flag.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses `--name=value` and `--name value` forms. Throws UsageError.
CommandLine parseCommandLine(const std::vector<std::string>& args);

/// The `--help` text: one line per flag with its default.
std::string usageText();

}  // namespace hme::app
