// huawei_meeting_exporter: flags in, exit code out. Everything else lives in plugin/app.
#include <signal.h>

#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "plugin/app/cli.h"
#include "plugin/app/exporter.h"
#include "plugin/app/probe.h"
#include "plugin/log/log.h"
#include "plugin/web/web_config.h"

int main(int argc, char** argv) {
  using namespace hme;
  // Block the shutdown and reload signals before any thread starts, so every thread inherits
  // the mask and runExporter receives them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  app::CommandLine command_line;
  try {
    command_line = app::parseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const app::UsageError& e) {
    std::cerr << "huawei_meeting_exporter: " << e.what() << '\n';
    return app::kExitBadConfig;
  }
  if (command_line.help) {
    std::cout << app::usageText();
    return app::kExitOk;
  }
  if (command_line.version) {
    std::cout << "huawei_meeting_exporter version " << app::version() << " (revision "
              << app::revision() << ")\n";
    return app::kExitOk;
  }
  log::logger().setLevel(*log::parseLevel(command_line.log_level));
  log::logger().setFormat(*log::parseFormat(command_line.log_format));
  // Telegraf relays a plugin's stderr into its own log by these level prefixes.
  if (command_line.telegraf_execd) log::logger().setFormat(log::Format::Telegraf);

  if (command_line.check_config) {
    try {
      const auto config = config::loadConfigFile(command_line.config_file);
      std::cout << "config OK: " << config::describe(config) << '\n';
      if (!command_line.web_config_file.empty()) {
        const auto web_config = web::loadWebConfigFile(command_line.web_config_file);
        std::cout << "web config OK: " << (web_config.tls ? "TLS" : "plain HTTP") << ", "
                  << web_config.basic_auth_users.size() << " basic auth users\n";
      }
      return app::kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "config invalid: " << e.what() << '\n';
      return app::kExitBadConfig;
    }
  }
  if (!command_line.probe_meeting_id.empty()) {
    config::Config config;
    try {
      config = config::loadConfigFile(command_line.config_file);
    } catch (const std::exception& e) {
      std::cerr << "config invalid: " << e.what() << '\n';
      return app::kExitBadConfig;
    }
    // The probe runs on this thread alone: let SIGINT and SIGTERM end it the default way.
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
    const auto outcome = app::runProbe(
        {std::move(config), command_line.probe_meeting_id, command_line.probe_duration}, std::cout);
    return outcome.exit_code;
  }
  return app::runExporter(command_line);
}
