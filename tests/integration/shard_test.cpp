// Horizontal scale: replicas sharing one config split the meetings between them, each meeting
// run by exactly one replica. Three in-process Exporters against one simulator, then the built
// binary with --shard overriding the config.

#include "config/shard.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "metrics/store.h"
#include "plugin/app/exporter.h"
#include "simulator/simulator.h"
#include "test_server.h"

namespace {

using namespace std::chrono_literals;
using hme::testing::pkiPath;
namespace cfg = hme::config;
namespace sim = hme::simulator;

constexpr std::size_t kMeetings = 12;
constexpr std::size_t kReplicas = 3;

std::string meetingId(std::size_t i) { return std::to_string(900000001 + i); }
std::string passwordOf(std::size_t i) { return "shard-password-" + std::to_string(i); }

// A simulator with kMeetings quiet meetings (no scenario steps) on 127.0.0.1:0.
std::unique_ptr<sim::Simulator> startSimulator() {
  sim::SimulatorOptions options;
  options.cert_file = pkiPath("server.pem");
  options.key_file = pkiPath("server.key");
  options.tick = 0ms;
  auto simulator = std::make_unique<sim::Simulator>(options);
  for (std::size_t i = 0; i < kMeetings; ++i) {
    sim::MeetingSpec spec;
    spec.meeting_id = meetingId(i);
    spec.host_password = passwordOf(i);
    spec.participants = 2;
    spec.lively = false;
    simulator->addMeeting(spec);
  }
  simulator->start();
  return simulator;
}

cfg::Config sharedConfig(const sim::Simulator& simulator) {
  cfg::Config config;
  config.api.url = simulator.apiUrl();
  config.api.ca_file = pkiPath("ca.pem");
  config.api.timeout = 5s;
  for (std::size_t i = 0; i < kMeetings; ++i) {
    config.meetings.push_back({meetingId(i), cfg::Secret(passwordOf(i))});
  }
  return config;
}

std::set<std::string> ownedBy(std::size_t index, std::size_t count) {
  std::set<std::string> owned;
  for (std::size_t i = 0; i < kMeetings; ++i) {
    if (cfg::ownsMeeting({index, count}, meetingId(i))) owned.insert(meetingId(i));
  }
  return owned;
}

std::size_t subscribedIn(const hme::metrics::MeetingStore& store) {
  std::size_t subscribed = 0;
  for (const auto& summary : store.summaries()) {
    subscribed += summary.session_state == hme::metrics::SessionState::Subscribed ? 1 : 0;
  }
  return subscribed;
}

// The built exporter binary as a child process; stopped with SIGTERM.
class ExporterProcess {
 public:
  explicit ExporterProcess(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::string binary = HME_EXPORTER_BINARY;
    argv.push_back(binary.data());
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int error = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    BOOST_TEST_REQUIRE(error == 0, "cannot start " << binary);
  }
  ~ExporterProcess() { stop(); }
  ExporterProcess(const ExporterProcess&) = delete;
  ExporterProcess& operator=(const ExporterProcess&) = delete;

  /// Sends SIGTERM and returns the exit status.
  int stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(shard_integration)

BOOST_AUTO_TEST_CASE(three_replicas_cover_every_meeting_exactly_once) {
  auto simulator = startSimulator();
  const cfg::Config base = sharedConfig(*simulator);
  std::vector<std::unique_ptr<hme::app::Exporter>> replicas;
  for (std::size_t index = 0; index < kReplicas; ++index) {
    BOOST_TEST_REQUIRE(!ownedBy(index, kReplicas).empty(), "every replica has work");
    cfg::Config config = base;
    config.sharding = {index, kReplicas};
    replicas.push_back(
        std::make_unique<hme::app::Exporter>([config] { return config; }, "test", "test"));
    replicas.back()->start();
  }
  const auto all_subscribed = [&] {
    std::size_t subscribed = 0;
    for (const auto& replica : replicas) subscribed += subscribedIn(replica->store());
    return subscribed == kMeetings;
  };
  BOOST_TEST_REQUIRE(simulator->waitFor(all_subscribed, 60s));

  std::multiset<std::string> covered;
  for (std::size_t index = 0; index < kReplicas; ++index) {
    const auto ids = replicas[index]->store().meetingIds();
    const std::set<std::string> owned(ids.begin(), ids.end());
    BOOST_TEST((owned == ownedBy(index, kReplicas)), "replica " << index);
    covered.insert(ids.begin(), ids.end());
  }
  BOOST_TEST(covered.size() == kMeetings);
  for (std::size_t i = 0; i < kMeetings; ++i) {
    BOOST_TEST_CONTEXT(meetingId(i)) {
      BOOST_TEST(covered.count(meetingId(i)) == 1u);
      // The server saw one client per meeting: no meeting is run twice.
      const auto seen = simulator->observations(meetingId(i));
      BOOST_TEST(seen.connections_open == 1u);
      BOOST_TEST(seen.subscribes_accepted == 1u);
    }
  }
  replicas.clear();
  simulator->stop();
}

BOOST_AUTO_TEST_CASE(resharding_on_reload_hands_meetings_over) {
  auto simulator = startSimulator();
  cfg::Config config = sharedConfig(*simulator);
  config.sharding = {0, 2};
  auto current = std::make_shared<cfg::Config>(config);
  hme::app::Exporter exporter([current] { return *current; }, "test", "test");
  exporter.start();
  const auto owned = ownedBy(0, 2);
  BOOST_TEST_REQUIRE(
      simulator->waitFor([&] { return subscribedIn(exporter.store()) == owned.size(); }, 60s));
  const auto ids = exporter.store().meetingIds();
  BOOST_TEST((std::set<std::string>(ids.begin(), ids.end()) == owned));

  // The fleet shrinks to one replica: it takes over every meeting and keeps the ones it had.
  current->sharding = {0, 1};
  BOOST_TEST(exporter.reload().first);
  BOOST_TEST_REQUIRE(
      simulator->waitFor([&] { return subscribedIn(exporter.store()) == kMeetings; }, 60s));
  for (const auto& id : owned) {
    BOOST_TEST(simulator->observations(id).connections_accepted == 1u, id << " kept its socket");
  }
  exporter.stop();
  simulator->stop();
}

BOOST_AUTO_TEST_CASE(shard_flag_overrides_the_config_file) {
  auto simulator = startSimulator();
  const cfg::Config base = sharedConfig(*simulator);
  const std::string dir =
      std::filesystem::temp_directory_path() / ("hme-shard-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream file(dir + "/config.yml");
    file << "api:\n  url: " << base.api.url << "\n  ca_file: " << base.api.ca_file
         << "\nsharding: {index: 0, count: 1}\nmeetings:\n";
    for (std::size_t i = 0; i < kMeetings; ++i) {
      file << "  - id: \"" << meetingId(i) << "\"\n    host_password: " << passwordOf(i) << "\n";
    }
  }
  const auto owned = ownedBy(2, kReplicas);
  {
    ExporterProcess process({"--config.file=" + dir + "/config.yml", "--shard=2/3",
                             "--web.listen-address=127.0.0.1:0", "--log.level=warn"});
    const auto owned_subscribed = [&] {
      for (const auto& id : owned) {
        if (simulator->observations(id).subscribes_accepted == 0) return false;
      }
      return true;
    };
    BOOST_TEST_REQUIRE(simulator->waitFor(owned_subscribed, 60s));
    // Every runner starts at once, so by now any meeting of another shard would have called.
    for (std::size_t i = 0; i < kMeetings; ++i) {
      if (owned.count(meetingId(i)) != 0) continue;
      BOOST_TEST(simulator->observations(meetingId(i)).control_tokens_issued == 0u, meetingId(i));
    }
    const int status = process.stop();
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
  }
  std::filesystem::remove_all(dir);
  simulator->stop();
}

BOOST_AUTO_TEST_SUITE_END()
