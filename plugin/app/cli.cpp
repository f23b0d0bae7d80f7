#include "plugin/app/cli.h"

#include <functional>
#include <sstream>

#include "config/shard.h"

namespace hme::app {
namespace {

struct FlagSpec {
  const char* name;
  const char* value_name;  // nullptr for a boolean switch
  const char* help;
  std::function<void(CommandLine&, const std::string&)> apply;
};

void requireOneOf(const std::string& flag, const std::string& value,
                  std::initializer_list<const char*> allowed) {
  for (const char* option : allowed) {
    if (value == option) return;
  }
  std::string list;
  for (const char* option : allowed) list += (list.empty() ? "" : " | ") + std::string(option);
  throw UsageError("--" + flag + ": must be one of " + list + ", got \"" + value + "\"");
}

const std::vector<FlagSpec>& flagSpecs() {
  static const std::vector<FlagSpec> specs = {
      {"config.file", "FILE", "YAML config file (default: huawei_meeting_exporter.yml)",
       [](CommandLine& c, const std::string& v) { c.config_file = v; }},
      {"web.listen-address", "ADDR",
       "address to serve on, repeatable; port 0 picks a free port (default: :9877)",
       [](CommandLine& c, const std::string& v) { c.listen_addresses.push_back(v); }},
      {"web.telemetry-path", "PATH", "path under which to expose metrics (default: /metrics)",
       [](CommandLine& c, const std::string& v) {
         if (v.empty() || v.front() != '/') {
           throw UsageError("--web.telemetry-path: must start with '/', got \"" + v + "\"");
         }
         c.telemetry_path = v;
       }},
      {"web.config.file", "FILE",
       "TLS and basic auth settings (exporter-toolkit web config format; default: none)",
       [](CommandLine& c, const std::string& v) {
         if (v.empty()) throw UsageError("--web.config.file: needs a file name");
         c.web_config_file = v;
       }},
      {"log.level", "LEVEL", "debug | info | warn | error (default: info)",
       [](CommandLine& c, const std::string& v) {
         requireOneOf("log.level", v, {"debug", "info", "warn", "error"});
         c.log_level = v;
       }},
      {"log.format", "FORMAT", "logfmt | json (default: logfmt)",
       [](CommandLine& c, const std::string& v) {
         requireOneOf("log.format", v, {"logfmt", "json"});
         c.log_format = v;
       }},
      {"shard", "I/N",
       "run only replica I's share of N (meetings split by a stable hash of the meeting ID; "
       "overrides sharding: in the config)",
       [](CommandLine& c, const std::string& v) {
         try {
           c.shard = config::parseShard(v);
         } catch (const std::invalid_argument& e) {
           throw UsageError(std::string("--shard: ") + e.what());
         }
       }},
      {"demo", nullptr, "run against the built-in meeting simulator (no account needed)",
       [](CommandLine& c, const std::string&) { c.demo = true; }},
      {"demo.enterprise", nullptr,
       "like --demo, in enterprise mode: meetings are discovered as they start and end",
       [](CommandLine& c, const std::string&) { c.demo = c.demo_enterprise = true; }},
      {"telegraf.execd", nullptr,
       "Telegraf inputs.execd mode: one exposition on stdout per line on stdin, exit at EOF, "
       "logs with E!/W!/I!/D! prefixes; no HTTP listener unless --web.listen-address is given",
       [](CommandLine& c, const std::string&) { c.telegraf_execd = true; }},
      {"probe", "MEETING_ID",
       "check the service for one meeting of the config: run one session for --probe.duration, "
       "print a report of every step (no secrets) and exit 0 if it subscribed and stayed "
       "alive, else 1 naming the failed step",
       [](CommandLine& c, const std::string& v) {
         if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
           throw UsageError("--probe: must be a meeting ID (digits), got \"" + v + "\"");
         }
         c.probe_meeting_id = v;
       }},
      {"probe.duration", "DURATION", "how long --probe stays connected (default: 60s)",
       [](CommandLine& c, const std::string& v) {
         try {
           c.probe_duration = config::parseDuration(v);
         } catch (const std::invalid_argument& e) {
           throw UsageError(std::string("--probe.duration: ") + e.what());
         }
         if (c.probe_duration <= std::chrono::milliseconds(0) ||
             c.probe_duration > std::chrono::hours(1)) {
           throw UsageError("--probe.duration: must be between 1ms and 1h, got \"" + v + "\"");
         }
       }},
      {"check-config", nullptr, "validate the config file and exit 0 (valid) or 1 (invalid)",
       [](CommandLine& c, const std::string&) { c.check_config = true; }},
      {"version", nullptr, "print the version and exit",
       [](CommandLine& c, const std::string&) { c.version = true; }},
      {"help", nullptr, "print this help and exit",
       [](CommandLine& c, const std::string&) { c.help = true; }},
  };
  return specs;
}

const FlagSpec* findFlag(const std::string& name) {
  for (const auto& spec : flagSpecs()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

}  // namespace

CommandLine parseCommandLine(const std::vector<std::string>& args) {
  CommandLine result;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      result.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      throw UsageError("unexpected argument \"" + arg + "\" (flags look like --name=value)");
    }
    const auto equals = arg.find('=');
    const std::string name =
        arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    const FlagSpec* spec = findFlag(name);
    if (spec == nullptr) throw UsageError("unknown flag --" + name + " (see --help)");
    std::string value;
    if (spec->value_name == nullptr) {
      if (equals != std::string::npos) {
        throw UsageError("--" + name + ": is a switch and takes no value");
      }
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UsageError("--" + name + ": needs a value (" + spec->value_name + ")");
    }
    spec->apply(result, value);
  }
  return result;
}

std::string usageText() {
  std::ostringstream out;
  out << "usage: huawei_meeting_exporter [flags]\n\n"
         "Prometheus exporter for Huawei Cloud Meeting conferences.\n\nFlags:\n";
  for (const auto& spec : flagSpecs()) {
    std::string left = std::string("  --") + spec.name;
    if (spec.value_name != nullptr) left += std::string("=") + spec.value_name;
    if (left.size() < 30) left.resize(30, ' ');
    out << left << ' ' << spec.help << '\n';
  }
  return out.str();
}

}  // namespace hme::app
