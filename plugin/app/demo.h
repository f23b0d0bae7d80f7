#pragma once
/// Demo mode: the built-in meeting simulator on loopback with three lively meetings, a throwaway
/// CA that the exporter trusts explicitly (verification stays on), and the config to watch them.
/// In enterprise mode the meetings come and go by themselves and the config names none: the
/// exporter discovers them with an App ID (and hears of them through signed webhooks).

#include <memory>
#include <string>

#include "config/config.h"
#include "simulator/simulator.h"

namespace hme::app {

/// A running demo simulator and the config that points the exporter at it. Not copyable;
/// stopping it (the destructor) closes the simulator and deletes its temporary files.
class Demo {
 public:
  /// Generates the PKI in a new temporary folder and starts the simulator on 127.0.0.1:0.
  /// `enterprise`: meetings start and end over time and are discovered. Throws
  /// std::runtime_error naming the step that failed.
  explicit Demo(bool enterprise = false);
  ~Demo();
  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  /// The exporter config for the demo meetings (default settings, shorter heartbeat).
  const config::Config& config() const { return config_; }
  /// The simulator's REST base URL.
  std::string apiUrl() const;
  /// Enterprise mode: lets the simulator post its webhooks to the exporter listening at
  /// `listen_address` (as WebServer::boundAddresses() reports it). No-op otherwise.
  void connectWebhook(const std::string& listen_address);

 private:
  std::string directory_;
  std::unique_ptr<simulator::Simulator> simulator_;
  config::Config config_;
  bool enterprise_ = false;
};

}  // namespace hme::app
