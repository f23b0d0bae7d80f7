#include "tests/integration/fault_harness.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "Poco/Base64Encoder.h"
#include "plugin/log/log.h"

namespace hme::faults {

std::string pkiFile(const std::string& name) {
  return std::string(HME_TESTDATA_DIR) + "/pki/" + name;
}

simulator::SimulatorOptions simulatorOptions() {
  simulator::SimulatorOptions options;
  options.cert_file = pkiFile("server.pem");
  options.key_file = pkiFile("server.key");
  options.tick = std::chrono::milliseconds(0);
  options.seed = 7;
  return options;
}

simulator::MeetingSpec meetingSpec(const std::string& meeting_id, int participants) {
  simulator::MeetingSpec spec;
  spec.meeting_id = meeting_id;
  spec.host_password = passwordFor(meeting_id);
  spec.participants = participants;
  spec.lively = false;
  return spec;
}

std::string passwordFor(const std::string& meeting_id) { return "pw-" + meeting_id + "-s3cr3t"; }

config::Config exporterConfig(const std::string& api_url) {
  config::Config config;
  config.api.url = api_url;
  config.api.ca_file = pkiFile("ca.pem");
  config.api.timeout = std::chrono::seconds(3);
  config.session.heartbeat_interval = std::chrono::seconds(1);
  config.session.heartbeat_timeout = std::chrono::seconds(3);
  config.session.backoff_initial = std::chrono::milliseconds(50);
  config.session.backoff_max = std::chrono::milliseconds(400);
  return config;
}

namespace {

std::string seriesKey(const Sample& sample) {
  std::string key = sample.name + "{";
  for (const auto& [name, label] : sample.labels) key += name + "=" + label + ",";
  return key + "}";
}

}  // namespace

std::vector<Sample> parseExposition(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    std::size_t i = line.find_first_of("{ ");
    if (i == std::string::npos) throw std::runtime_error("no value: " + line);
    sample.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t eq = line.find("=\"", i);
        if (eq == std::string::npos) throw std::runtime_error("bad label: " + line);
        const std::string label = line.substr(i, eq - i);
        std::string value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) throw std::runtime_error("unterminated label: " + line);
        sample.labels[label] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) throw std::runtime_error("unterminated labels: " + line);
      ++i;  // '}'
    }
    const std::string rest = line.substr(i);
    char* end = nullptr;
    sample.value = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) throw std::runtime_error("bad value: " + line);
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<double> value(const std::vector<Sample>& samples, const std::string& name,
                            const std::map<std::string, std::string>& labels) {
  std::optional<double> found;
  for (const auto& sample : samples) {
    if (sample.name != name) continue;
    bool match = true;
    for (const auto& [label, wanted] : labels) {
      const auto it = sample.labels.find(label);
      if (it == sample.labels.end() || it->second != wanted) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    if (found) throw std::runtime_error("several series match " + name);
    found = sample.value;
  }
  return found;
}

void MonotonicCounters::check(const std::vector<Sample>& samples) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++checks_;
  std::map<std::string, double> now;
  for (const auto& sample : samples) {
    const std::string& name = sample.name;
    if (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0) continue;
    const std::string key = seriesKey(sample);
    const auto previous = last_.find(key);
    if (previous != last_.end() && sample.value < previous->second) {
      std::ostringstream violation;
      violation << key << ": " << previous->second << " -> " << sample.value;
      violations_.push_back(violation.str());
    }
    now[key] = sample.value;
  }
  // A series that vanished (its meeting was removed) starts again from nothing.
  last_ = std::move(now);
}

std::vector<std::string> MonotonicCounters::violations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return violations_;
}

std::size_t MonotonicCounters::checks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return checks_;
}

Harness::Harness(const std::vector<simulator::MeetingSpec>& meetings,
                 simulator::SimulatorOptions options)
    : options_(std::move(options)), meetings_(meetings) {
  log::logger().setSink([logs = logs_](std::string_view line) {
    std::lock_guard<std::mutex> lock(logs->mutex);
    logs->lines.emplace_back(line);
  });
  sim_ = std::make_unique<simulator::Simulator>(options_);
  for (const auto& spec : meetings_) sim_->addMeeting(spec);
  sim_->start();
  options_.port = sim_->port();
  config_ = exporterConfig(sim_->apiUrl());
  for (const auto& spec : meetings_) {
    config_.meetings.push_back({spec.meeting_id, config::Secret(spec.host_password)});
  }
}

Harness::~Harness() {
  if (exporter_) exporter_->stop();
  exporter_.reset();
  if (sim_) sim_->stop();
  log::logger().setSink({});
}

void Harness::startExporter() {
  exporter_ = std::make_unique<app::Exporter>([this] { return config_; }, "test", "test");
  exporter_->start();
}

void Harness::restartSimulator(simulator::SimulatorOptions options) {
  sim_->stop();
  sim_.reset();
  if (options.port == 0) options.port = options_.port;
  options_ = std::move(options);
  sim_ = std::make_unique<simulator::Simulator>(options_);
  for (const auto& spec : meetings_) sim_->addMeeting(spec);
  sim_->start();
}

std::vector<std::string> Harness::logs() const {
  std::lock_guard<std::mutex> lock(logs_->mutex);
  return logs_->lines;
}

std::string Harness::allOutput() {
  std::string out;
  for (const auto& line : logs()) out += line;
  if (exporter_) {
    out += exporter_->renderMetrics();
    out += exporter_->renderStatusPage();
    out += exporter_->readiness().second;
  }
  return out;
}

std::vector<std::string> Harness::leakedSecrets(const std::string& extra) {
  const std::string haystack = allOutput() + extra;
  std::vector<std::string> leaked;
  for (const auto& secret : sim_->secrets()) {
    std::ostringstream base64;
    {
      Poco::Base64Encoder encoder(base64);
      encoder.rdbuf()->setLineLength(0);
      encoder << secret;
    }
    for (const std::string& needle : {secret, "Basic " + base64.str()}) {
      if (needle.size() >= 4 && haystack.find(needle) != std::string::npos) {
        leaked.push_back(needle);
      }
    }
  }
  return leaked;
}

void Harness::sampleMaybe() {
  if (!exporter_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_sample_ < std::chrono::milliseconds(200)) return;
  last_sample_ = now;
  scrape();
}

bool Harness::waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  return sim_->waitFor(
      [&] {
        sampleMaybe();
        return predicate();
      },
      timeout);
}

bool Harness::waitUp(const std::string& meeting_id, std::chrono::milliseconds timeout) {
  return waitFor(
      [&] {
        const auto current = state(meeting_id);
        return current.session.state == metrics::SessionState::Subscribed && current.session.up;
      },
      timeout);
}

metrics::MeetingState Harness::state(const std::string& meeting_id) const {
  if (!exporter_) return {};
  return exporter_->store().snapshot(meeting_id).value_or(metrics::MeetingState{});
}

std::vector<Sample> Harness::scrape() {
  auto samples = parseExposition(exporter_->renderMetrics());
  counters_.check(samples);
  return samples;
}

double Harness::metric(const std::string& name, const std::string& meeting_id,
                       std::map<std::string, std::string> labels) {
  labels["meeting_id"] = meeting_id;
  return value(scrape(), name, labels).value_or(0);
}

bool Harness::countsMatchTruth(const std::string& meeting_id, bool exact, std::string& why) const {
  const auto truth = sim_->truth(meeting_id);
  const auto held = state(meeting_id);
  if (!truth) {
    why = "no truth";
    return false;
  }
  std::ostringstream out;
  const auto& counters = held.counters;
  std::size_t online = 0;
  std::size_t calling = 0;
  for (const auto& [pid, record] : held.participants) (record.calling ? calling : online) += 1;
  out << "exporter joins " << counters.participant_joins << " leaves "
      << counters.participant_leaves << " held " << held.participants.size() << " online " << online
      << " calling " << calling << "; truth joins " << truth->joins << " leaves " << truth->leaves
      << " online " << truth->participants << " calling " << truth->calling;
  why = out.str();
  if (counters.participant_joins - counters.participant_leaves != held.participants.size()) {
    return false;
  }
  if (online != truth->participants || calling != truth->calling) return false;
  std::vector<std::string> pids;
  for (const auto& [pid, record] : held.participants) pids.push_back(pid);
  std::vector<std::string> truth_pids = truth->pids;
  std::sort(truth_pids.begin(), truth_pids.end());
  if (pids != truth_pids) {
    why += " (different pids)";
    return false;
  }
  if (exact && (counters.participant_joins != truth->joins ||
                counters.participant_leaves != truth->leaves)) {
    return false;
  }
  return true;
}

std::size_t openFds() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

std::size_t threadCount() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

}  // namespace hme::faults
