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

std::string randomPassword() {
  std::random_device entropy;
  std::string password;
  for (int i = 0; i < 12; ++i) password += static_cast<char>('a' + entropy() % 26);
  return password;
}

}  // namespace

Demo::Demo() : directory_(makeTemporaryDirectory()) {
  try {
    const auto pki = simulator::generatePki(directory_);
    simulator::SimulatorOptions options;
    options.cert_file = pki.cert_file;
    options.key_file = pki.key_file;
    options.tick = std::chrono::seconds(1);
    options.seed = std::random_device{}();
    simulator_ = std::make_unique<simulator::Simulator>(options);

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
      simulator_->addMeeting(spec);
      config_.meetings.push_back({spec.meeting_id, config::Secret(spec.host_password)});
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

}  // namespace hme::app
