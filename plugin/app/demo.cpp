#include "plugin/app/demo.h"

#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>

#include "simulator/pki.h"

namespace hme::app {
namespace {

std::string makeTemporaryDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "hme-demo-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("demo: cannot create a temporary folder: " +
                             std::system_category().message(errno));
  }
  return pattern;
}

std::string randomPassword(int length = 12) {
  std::random_device entropy;
  std::string password;
  for (int i = 0; i < length; ++i) password += static_cast<char>('a' + entropy() % 26);
  return password;
}

// Enterprise demo: meetings that start after `start` seconds, run `run` seconds, pause `pause`
// seconds and start again, forever. Two are scheduled by other users, whose host password the
// administrator does not see: one of them has it in the static config, the other is skipped.
struct EnterpriseMeeting {
  const char* meeting_id;
  const char* title;
  const char* scheduler;
  bool webinar;
  int participants;
  int start;
  int run;
  int pause;
};

constexpr EnterpriseMeeting kEnterpriseMeetings[] = {
    {"900200001", "Daily stand-up", "", false, 8, 2, 90, 40},
    {"900200002", "Sales pipeline review", "", false, 5, 10, 150, 30},
    {"900200003", "Customer onboarding", "", false, 4, 25, 60, 60},
    {"900200004", "Town hall", "", true, 25, 40, 180, 60},
    {"900200005", "Architecture sync", "Alice Chen", false, 6, 15, 120, 45},
    {"900200006", "Recruiting debrief", "Bob Li", false, 3, 30, 100, 50},
};
constexpr const char* kStaticFallbackMeeting = "900200005";

void addEnterpriseMeetings(simulator::Simulator& simulator, config::Config& config) {
  for (const auto& meeting : kEnterpriseMeetings) {
    simulator::MeetingSpec spec;
    spec.meeting_id = meeting.meeting_id;
    spec.host_password = randomPassword();
    spec.title = meeting.title;
    spec.scheduler = meeting.scheduler;
    spec.webinar = meeting.webinar;
    spec.participants = meeting.participants;
    spec.started = false;
    spec.start_delay = std::chrono::seconds(meeting.start);
    spec.duration = std::chrono::seconds(meeting.run);
    spec.restart_after = std::chrono::seconds(meeting.pause);
    simulator.addMeeting(spec);
    if (spec.meeting_id == kStaticFallbackMeeting) {
      config.meetings.push_back({spec.meeting_id, config::Secret(spec.host_password)});
    }
  }
}

void addClassicMeetings(simulator::Simulator& simulator, config::Config& config) {
  const struct {
    const char* meeting_id;
    const char* title;
    int participants;
  } meetings[] = {{"900100001", "Weekly all-hands", 12},
                  {"900100002", "Design review \"Q4\"", 6},
                  {"900100003", "Customer onboarding", 4}};
  for (const auto& meeting : meetings) {
    simulator::MeetingSpec spec;
    spec.meeting_id = meeting.meeting_id;
    spec.host_password = randomPassword();
    spec.title = meeting.title;
    spec.participants = meeting.participants;
    simulator.addMeeting(spec);
    config.meetings.push_back({spec.meeting_id, config::Secret(spec.host_password)});
  }
}

}  // namespace

Demo::Demo(bool enterprise) : directory_(makeTemporaryDirectory()), enterprise_(enterprise) {
  try {
    const auto pki = simulator::generatePki(directory_);
    simulator::SimulatorOptions options;
    options.cert_file = pki.cert_file;
    options.key_file = pki.key_file;
    options.tick = std::chrono::seconds(1);
    options.seed = std::random_device{}();
    if (enterprise) {
      options.management.enabled = true;
      options.management.app_id = "hme-demo-app";
      options.management.app_key = randomPassword(32);
      options.management.withhold_chair_for_others = true;
      config::DiscoveryConfig discovery;
      discovery.app_id = options.management.app_id;
      discovery.app_key = config::Secret(options.management.app_key);
      discovery.interval = std::chrono::seconds(10);
      discovery.webhook = config::WebhookConfig{"/webhook", "hme-demo-subscriber",
                                                config::Secret(randomPassword(32))};
      config_.discovery = discovery;
    }
    simulator_ = std::make_unique<simulator::Simulator>(options);
    if (enterprise) {
      addEnterpriseMeetings(*simulator_, config_);
    } else {
      addClassicMeetings(*simulator_, config_);
    }
    simulator_->start();
    config_.api.url = simulator_->apiUrl();
    config_.api.ca_file = pki.ca_file;
    config_.session.heartbeat_interval = std::chrono::seconds(20);
    config_.session.heartbeat_timeout = std::chrono::seconds(30);
  } catch (...) {
    simulator_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
    throw;
  }
}

Demo::~Demo() {
  simulator_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string Demo::apiUrl() const { return simulator_->apiUrl(); }

void Demo::connectWebhook(const std::string& listen_address) {
  if (!enterprise_ || !config_.discovery || !config_.discovery->webhook) return;
  // "[::]:9877" or "0.0.0.0:9877" listen everywhere; the simulator posts over loopback.
  const auto colon = listen_address.rfind(':');
  std::string host = listen_address.substr(0, colon);
  if (host == "[::]" || host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  const auto& webhook = *config_.discovery->webhook;
  simulator_->management().setWebhookTarget(
      {"http://" + host + listen_address.substr(colon) + webhook.path, webhook.subscriber_id,
       webhook.subscriber_key.reveal(), ""});
}

}  // namespace hme::app
