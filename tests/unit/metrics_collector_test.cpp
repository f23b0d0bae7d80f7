#include <boost/test/unit_test.hpp>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/events.h"
#include "metrics/store.h"

namespace hme::metrics {
namespace {

using prometheus::MetricFamily;
using LabelMap = std::map<std::string, std::string>;

TimePoint at(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

const MetricFamily* findFamily(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

// The value of the sample of `name` whose label set is exactly `labels`.
std::optional<double> sample(const std::vector<MetricFamily>& families, const std::string& name,
                             const LabelMap& labels) {
  const auto* family = findFamily(families, name);
  if (family == nullptr) return std::nullopt;
  for (const auto& metric : family->metric) {
    LabelMap have;
    for (const auto& label : metric.label) have[label.name] = label.value;
    if (have != labels) continue;
    return family->type == prometheus::MetricType::Counter ? metric.counter.value
                                                           : metric.gauge.value;
  }
  return std::nullopt;
}

// Like sample(), NaN when absent (fails every == check, and prints as nan).
double value(const std::vector<MetricFamily>& families, const std::string& name,
             const LabelMap& labels) {
  return sample(families, name, labels).value_or(std::numeric_limits<double>::quiet_NaN());
}

// Number of samples of `name` carrying meeting_id=`meeting_id` (any meeting if empty).
std::size_t seriesCount(const std::vector<MetricFamily>& families, const std::string& name,
                        const std::string& meeting_id = "") {
  const auto* family = findFamily(families, name);
  if (family == nullptr) return 0;
  std::size_t count = 0;
  for (const auto& metric : family->metric) {
    bool match = meeting_id.empty();
    for (const auto& label : metric.label) {
      if (label.name == "meeting_id" && label.value == meeting_id) match = true;
    }
    count += match ? 1 : 0;
  }
  return count;
}

// Every sample labelled meeting_id=`meeting_id`, across all families.
std::size_t meetingSeries(const std::vector<MetricFamily>& families,
                          const std::string& meeting_id) {
  std::size_t count = 0;
  for (const auto& family : families) count += seriesCount(families, family.name, meeting_id);
  return count;
}

ParticipantChange person(std::string pid, int role, ClientType client, int state = 0) {
  ParticipantFields fields;
  fields.role = role;
  fields.state = state;
  fields.client = client;
  fields.muted = true;
  fields.video = true;
  fields.hand_raised = true;
  fields.sharing = true;
  return ParticipantChange{std::move(pid), ItemMode::Upsert, fields};
}

NetConditionChange figures(std::string pid, double delay_ms, double loss, double jitter_ms,
                           std::string rating = "good") {
  NetFigures net;
  net.net_info = std::move(rating);
  net.delay_ms = delay_ms;
  net.audio_loss_up = loss;
  net.jitter_up_ms = jitter_ms;
  return NetConditionChange{std::move(pid), ItemMode::Upsert, net};
}

struct Fixture {
  std::shared_ptr<MeetingStore> store = std::make_shared<MeetingStore>();
  TimePoint now = at(1700000000);
  RenderOptions options;
  std::unique_ptr<Collector> collector;

  Fixture() {
    options.now = [this] { return now; };
    collector = std::make_unique<Collector>(store, "1.2.3", "abc123", options);
  }

  void reconfigure() { collector->setOptions(options); }

  void apply(const std::string& meeting_id, EventBody body) {
    BOOST_REQUIRE(store->apply(meeting_id, Event{now, std::move(body)}));
  }

  std::vector<MetricFamily> scrape() const { return collector->Collect(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_collector)

BOOST_FIXTURE_TEST_CASE(exporter_metrics_are_always_present, Fixture) {
  auto families = scrape();
  BOOST_TEST(value(families, "huawei_meeting_exporter_build_info",
                   {{"version", "1.2.3"}, {"revision", "abc123"}}) == 1.0);
  for (const char* state : {"waiting", "connecting", "subscribed", "backoff", "ended"}) {
    BOOST_TEST(value(families, "huawei_meeting_exporter_sessions", {{"state", state}}) == 0.0);
  }
  BOOST_TEST(value(families, "huawei_meeting_exporter_config_last_reload_successful", {}) == 0.0);
  store->setConfigReload(true, at(1700000100));
  store->setConfigReload(false, at(1700000200));
  families = scrape();
  BOOST_TEST(value(families, "huawei_meeting_exporter_config_last_reload_successful", {}) == 0.0);
  BOOST_TEST(value(families, "huawei_meeting_exporter_config_last_reload_success_timestamp_seconds",
                   {}) == 1700000100.0);
  // No meetings: no per-meeting families at all (empty families are left out).
  BOOST_TEST(findFamily(families, "huawei_meeting_up") == nullptr);
}

BOOST_FIXTURE_TEST_CASE(a_new_meeting_shows_up_zero_and_zeroed_counters, Fixture) {
  store->addMeeting("900", now);
  const auto families = scrape();
  const LabelMap m = {{"meeting_id", "900"}};
  BOOST_TEST(value(families, "huawei_meeting_up", m) == 0.0);
  BOOST_TEST(value(families, "huawei_meeting_exporter_sessions", {{"state", "waiting"}}) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_connects_total", m) == 0.0);
  const std::map<std::string, std::vector<std::string>> labelled = {
      {"huawei_meeting_connect_failures_total",
       {"control_token", "ws_token", "handshake", "subscribe"}},
      {"huawei_meeting_disconnects_total",
       {"server_closed", "heartbeat_timeout", "error", "meeting_ended", "incomplete_message"}},
      {"huawei_meeting_message_errors_total",
       {"invalid_json", "invalid_message", "too_large", "binary_frame"}},
      {"huawei_meeting_participant_leave_reasons_total",
       {"left", "removed_by_host", "removed_by_admin", "mcu_no_media", "client_no_media",
        "sip_timeout", "websocket_timeout", "other"}},
      {"huawei_meeting_invite_failures_total",
       {"no_answer", "offline", "busy", "rejected", "other"}},
  };
  for (const auto& [name, reasons] : labelled) {
    const std::string label = name == "huawei_meeting_connect_failures_total" ? "stage" : "reason";
    BOOST_TEST(seriesCount(families, name, "900") == reasons.size(), name);
    for (const auto& reason : reasons) {
      BOOST_TEST(value(families, name, {{"meeting_id", "900"}, {label, reason}}) == 0.0, name);
    }
  }
  BOOST_TEST(seriesCount(families, "huawei_meeting_messages_total", "900") == 15u);
  BOOST_TEST(value(families, "huawei_meeting_messages_total",
                   {{"meeting_id", "900"}, {"action", "HeartBeat"}}) == 0.0);
  for (const char* role : {"host", "cohost", "participant", "audience"}) {
    BOOST_TEST(value(families, "huawei_meeting_participants_by_role",
                     {{"meeting_id", "900"}, {"role", role}}) == 0.0);
  }
  // Values not reported yet are absent rather than a misleading 0.
  BOOST_TEST(!sample(families, "huawei_meeting_heartbeat_rtt_seconds", m));
  BOOST_TEST(!sample(families, "huawei_meeting_last_message_timestamp_seconds", m));
  BOOST_TEST(findFamily(families, "huawei_meeting_info") == nullptr);
  BOOST_TEST(findFamily(families, "huawei_meeting_state") == nullptr);
}

BOOST_FIXTURE_TEST_CASE(calling_participants_count_only_as_calling, Fixture) {
  store->addMeeting("900", now);
  apply("900", ParticipantsUpdate{true,
                                  {person("a", 1, ClientType::Desktop),
                                   person("b", 0, ClientType::Mobile, 1),  // being called
                                   person("c", 2, ClientType::Pad)}});
  apply("900", NetConditionUpdate{true, {figures("a", 10, 0, 1), figures("b", 900, 5000, 500)}});
  const auto families = scrape();
  const LabelMap m = {{"meeting_id", "900"}};
  BOOST_TEST(value(families, "huawei_meeting_participants", m) == 2.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_calling", m) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_muted", m) == 2.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_video", m) == 2.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_hand_raised", m) == 2.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_sharing", m) == 2.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_by_role",
                   {{"meeting_id", "900"}, {"role", "participant"}}) == 0.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_by_client",
                   {{"meeting_id", "900"}, {"client", "mobile"}}) == 0.0);
  BOOST_TEST(value(families, "huawei_meeting_participants_by_client",
                   {{"meeting_id", "900"}, {"client", "pad"}}) == 1.0);
  // b's terrible figures count nowhere: not poor network, no quality, no series.
  BOOST_TEST(value(families, "huawei_meeting_participants_poor_network", m) == 0.0);
  BOOST_TEST(value(families, "huawei_meeting_network_quality_participants",
                   {{"meeting_id", "900"}, {"quality", "good"}}) == 1.0);
  BOOST_TEST(!sample(families, "huawei_meeting_participant_rtt_seconds",
                     {{"meeting_id", "900"}, {"participant_id", "b"}}));
  BOOST_TEST(seriesCount(families, "huawei_meeting_participant_info", "900") == 2u);
  BOOST_TEST(value(families, "huawei_meeting_participant_joins_total", m) == 3.0);
}

BOOST_FIXTURE_TEST_CASE(roles_and_clients_partition_the_participants, Fixture) {
  store->addMeeting("900", now);
  ParticipantFields cohost;
  cohost.role = 0;
  cohost.is_cohost = true;
  ParticipantFields bare;  // no ROLE, no client: participant / other
  apply("900", ParticipantsUpdate{true,
                                  {person("h", 1, ClientType::Desktop),
                                   {"co", ItemMode::Upsert, cohost},
                                   person("p", 0, ClientType::Mobile),
                                   person("au", 2, ClientType::Other),
                                   {"x", ItemMode::Upsert, bare}}});
  const auto families = scrape();
  const auto role = [&](const char* label) {
    return value(families, "huawei_meeting_participants_by_role",
                 {{"meeting_id", "900"}, {"role", label}});
  };
  const auto client = [&](const char* label) {
    return value(families, "huawei_meeting_participants_by_client",
                 {{"meeting_id", "900"}, {"client", label}});
  };
  BOOST_TEST(role("host") == 1.0);
  BOOST_TEST(role("cohost") == 1.0);
  BOOST_TEST(role("participant") == 2.0);
  BOOST_TEST(role("audience") == 1.0);
  BOOST_TEST(client("desktop") == 1.0);
  BOOST_TEST(client("mobile") == 1.0);
  BOOST_TEST(client("pad") == 0.0);
  BOOST_TEST(client("other") == 3.0);
  BOOST_TEST(value(families, "huawei_meeting_participant_info",
                   {{"meeting_id", "900"},
                    {"participant_id", "co"},
                    {"role", "cohost"},
                    {"client", "other"}}) == 1.0);
}

BOOST_FIXTURE_TEST_CASE(participant_network_series_carry_base_units, Fixture) {
  store->addMeeting("900", now);
  apply("900", ParticipantsUpdate{true, {person("a", 1, ClientType::Desktop)}});
  NetFigures net;
  net.delay_ms = 37;
  net.jitter_down_ms = 8;
  net.video_loss_up = 250;
  net.screen_flux_down = 80;
  apply("900", NetConditionUpdate{true, {{"a", ItemMode::Upsert, net}}});
  const auto families = scrape();
  const LabelMap p = {{"meeting_id", "900"}, {"participant_id", "a"}};
  auto labels = [&](LabelMap extra) {
    extra.insert(p.begin(), p.end());
    return extra;
  };
  BOOST_TEST(value(families, "huawei_meeting_participant_rtt_seconds", p) == 0.037);
  BOOST_TEST(value(families, "huawei_meeting_participant_jitter_seconds",
                   labels({{"direction", "downstream"}})) == 0.008);
  BOOST_TEST(!sample(families, "huawei_meeting_participant_jitter_seconds",
                     labels({{"direction", "upstream"}})));  // not reported
  BOOST_TEST(value(families, "huawei_meeting_participant_packet_loss_ratio",
                   labels({{"media", "video"}, {"direction", "upstream"}})) == 0.025);
  BOOST_TEST(value(families, "huawei_meeting_participant_throughput_bytes_per_second",
                   labels({{"media", "screen"}, {"direction", "downstream"}})) == 1000.0);
  BOOST_TEST(seriesCount(families, "huawei_meeting_participant_packet_loss_ratio") == 1u);
  BOOST_TEST(value(families, "huawei_meeting_participants_over_series_limit",
                   {{"meeting_id", "900"}}) == 0.0);

  // A participant who leaves disappears from participant series at once.
  apply("900", ParticipantsUpdate{false, {{"a", ItemMode::Remove, {}}}});
  const auto after = scrape();
  BOOST_TEST(findFamily(after, "huawei_meeting_participant_rtt_seconds") == nullptr);
  BOOST_TEST(findFamily(after, "huawei_meeting_participant_info") == nullptr);
}

BOOST_FIXTURE_TEST_CASE(participant_series_are_capped_and_can_be_disabled, Fixture) {
  store->addMeeting("900", now);
  apply("900", ParticipantsUpdate{true,
                                  {person("c", 0, ClientType::Pad), person("a", 0, ClientType::Pad),
                                   person("b", 0, ClientType::Pad),
                                   person("0", 0, ClientType::Pad, 1)}});  // calling: not counted
  apply("900", NetConditionUpdate{
                   true, {figures("a", 1, 1, 1), figures("b", 1, 1, 1), figures("c", 1, 1, 1)}});
  options.max_participants_per_meeting = 2;
  reconfigure();
  auto families = scrape();
  BOOST_TEST(seriesCount(families, "huawei_meeting_participant_info") == 2u);
  BOOST_TEST(seriesCount(families, "huawei_meeting_participant_rtt_seconds") == 2u);
  // Stable choice: the first pids in order (a, b); c is left out.
  BOOST_TEST(!sample(families, "huawei_meeting_participant_rtt_seconds",
                     {{"meeting_id", "900"}, {"participant_id", "c"}}));
  BOOST_TEST(value(families, "huawei_meeting_participants_over_series_limit",
                   {{"meeting_id", "900"}}) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_participants", {{"meeting_id", "900"}}) == 3.0);

  options.participant_series = false;
  reconfigure();
  families = scrape();
  for (const char* name :
       {"huawei_meeting_participant_info", "huawei_meeting_participant_rtt_seconds",
        "huawei_meeting_participant_jitter_seconds", "huawei_meeting_participant_packet_loss_ratio",
        "huawei_meeting_participant_throughput_bytes_per_second",
        "huawei_meeting_participants_over_series_limit"}) {
    BOOST_TEST(findFamily(families, name) == nullptr, name);
  }
  // Per-meeting network metrics stay on.
  BOOST_TEST(value(families, "huawei_meeting_network_quality_participants",
                   {{"meeting_id", "900"}, {"quality", "good"}}) == 3.0);
}

BOOST_FIXTURE_TEST_CASE(names_are_labels_only_when_opted_in, Fixture) {
  store->setReduceOptions(ReduceOptions{true, 100000, 10000});
  store->addMeeting("900", now);
  auto alice = person("a", 1, ClientType::Desktop);
  alice.fields.name = "Alice";
  apply("900", ParticipantsUpdate{true, {alice}});
  LabelMap info = {
      {"meeting_id", "900"}, {"participant_id", "a"}, {"role", "host"}, {"client", "desktop"}};
  BOOST_TEST(value(scrape(), "huawei_meeting_participant_info", info) == 1.0);
  options.participant_names = true;
  reconfigure();
  info["name"] = "Alice";
  BOOST_TEST(value(scrape(), "huawei_meeting_participant_info", info) == 1.0);
}

BOOST_FIXTURE_TEST_CASE(poor_network_uses_strict_thresholds, Fixture) {
  store->addMeeting("900", now);
  apply("900",
        ParticipantsUpdate{true,
                           {person("ok", 0, ClientType::Pad), person("edge", 0, ClientType::Pad),
                            person("loss", 0, ClientType::Pad), person("rtt", 0, ClientType::Pad),
                            person("jit", 0, ClientType::Pad)}});
  // Defaults: loss 0.05 (= 500 in 0.01 %), rtt 0.3 s, jitter 0.05 s.
  apply("900", NetConditionUpdate{true,
                                  {figures("ok", 10, 0, 1), figures("edge", 300, 500, 50),
                                   figures("loss", 10, 501, 1), figures("rtt", 301, 0, 1),
                                   figures("jit", 10, 0, 51)}});
  const LabelMap m = {{"meeting_id", "900"}};
  BOOST_TEST(value(scrape(), "huawei_meeting_participants_poor_network", m) == 3.0);
  options.poor_network.rtt_seconds = 0.2;
  reconfigure();
  BOOST_TEST(value(scrape(), "huawei_meeting_participants_poor_network", m) == 4.0);
}

BOOST_FIXTURE_TEST_CASE(a_ninth_distinct_rating_is_other, Fixture) {
  store->addMeeting("900", now);
  std::vector<ParticipantChange> people;
  std::vector<NetConditionChange> nets;
  const std::vector<std::string> ratings = {"ra", "rb", "rc", "rd", "re", "rf", "rg", "rh"};
  for (std::size_t i = 0; i < ratings.size(); ++i) {
    const std::string pid = "p" + std::to_string(i);
    people.push_back(person(pid, 0, ClientType::Pad));
    nets.push_back(figures(pid, 1, 0, 0, "R" + ratings[i].substr(1)));  // lower-cased to r…
  }
  people.push_back(person("q1", 0, ClientType::Pad));
  nets.push_back(figures("q1", 1, 0, 0, "not a word!"));
  apply("900", ParticipantsUpdate{true, people});
  apply("900", NetConditionUpdate{true, nets});
  auto families = scrape();
  for (const auto& rating : ratings) {
    BOOST_TEST(value(families, "huawei_meeting_network_quality_participants",
                     {{"meeting_id", "900"}, {"quality", rating}}) == 1.0);
  }
  BOOST_TEST(value(families, "huawei_meeting_network_quality_participants",
                   {{"meeting_id", "900"}, {"quality", "other"}}) == 1.0);

  // A second meeting brings a ninth well-formed rating: the process has seen eight, so `other`.
  store->addMeeting("901", now);
  apply("901", ParticipantsUpdate{true, {person("z", 0, ClientType::Pad)}});
  apply("901", NetConditionUpdate{true, {figures("z", 1, 0, 0, "excellent")}});
  families = scrape();
  BOOST_TEST(value(families, "huawei_meeting_network_quality_participants",
                   {{"meeting_id", "901"}, {"quality", "other"}}) == 1.0);
  BOOST_TEST(!sample(families, "huawei_meeting_network_quality_participants",
                     {{"meeting_id", "901"}, {"quality", "excellent"}}));
  // Both meetings expose the same label set: 8 ratings + other.
  BOOST_TEST(seriesCount(families, "huawei_meeting_network_quality_participants", "900") == 9u);
  BOOST_TEST(seriesCount(families, "huawei_meeting_network_quality_participants", "901") == 9u);
}

BOOST_FIXTURE_TEST_CASE(ended_meeting_vanishes_after_retention_until_resubscribed, Fixture) {
  options.ended_meeting_retention = std::chrono::minutes(5);
  reconfigure();
  store->addMeeting("900", now);
  store->addMeeting("901", now);
  apply("900", Subscribed{});
  apply("900", ParticipantsUpdate{true, {person("a", 1, ClientType::Desktop)}});
  ConfDynamicInfo destroyed;
  destroyed.state = "Destroyed";
  apply("900", destroyed);
  const TimePoint ended = now;
  apply("900", SessionStateChanged{SessionState::Ended, false});

  now = ended + std::chrono::minutes(5) - std::chrono::seconds(1);
  auto families = scrape();
  BOOST_TEST(value(families, "huawei_meeting_participants", {{"meeting_id", "900"}}) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_state",
                   {{"meeting_id", "900"}, {"state", "destroyed"}}) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_state",
                   {{"meeting_id", "900"}, {"state", "created"}}) == 0.0);

  now = ended + std::chrono::minutes(5);
  families = scrape();
  BOOST_TEST(meetingSeries(families, "900") == 0u);  // up and session counters included
  BOOST_TEST(meetingSeries(families, "901") > 0u);
  BOOST_TEST(value(families, "huawei_meeting_exporter_sessions", {{"state", "ended"}}) == 1.0);

  // Retried in the background: still gone while connecting or failing.
  apply("900", SessionStateChanged{SessionState::Connecting, false});
  apply("900", ConnectFailed{ConnectStage::ControlToken, "HTTP 400"});
  BOOST_TEST(meetingSeries(scrape(), "900") == 0u);

  // A new subscription brings everything back, counters continuing where they were.
  apply("900", Subscribed{});
  families = scrape();
  BOOST_TEST(value(families, "huawei_meeting_connects_total", {{"meeting_id", "900"}}) == 2.0);
  BOOST_TEST(value(families, "huawei_meeting_connect_failures_total",
                   {{"meeting_id", "900"}, {"stage", "control_token"}}) == 1.0);
}

BOOST_FIXTURE_TEST_CASE(removed_meeting_series_are_gone, Fixture) {
  store->addMeeting("900", now);
  store->addMeeting("901", now);
  BOOST_TEST(store->removeMeeting("900"));
  const auto families = scrape();
  BOOST_TEST(meetingSeries(families, "900") == 0u);
  BOOST_TEST(value(families, "huawei_meeting_exporter_sessions", {{"state", "waiting"}}) == 1.0);
}

BOOST_FIXTURE_TEST_CASE(meeting_level_gauges_come_from_basic_and_dynamic_info, Fixture) {
  store->addMeeting("900", now);
  ConfBasicInfo basic;
  basic.display_id = "900 487 914";
  basic.title = "Weekly";
  basic.conf_mode = "COMMON";
  basic.media = 2;
  basic.start_time_ms = 1611988486336;
  apply("900", basic);
  ConfDynamicInfo dynamic;
  dynamic.state = "Schedule";
  dynamic.lock = 0;
  dynamic.rec_state = 1;
  dynamic.audience_total_count = 7;
  apply("900", dynamic);
  apply("900", FrameReceived{"ConfDynamicInfoNotify"});
  apply("900", HeartbeatAnswered{0.125});
  const auto families = scrape();
  const LabelMap m = {{"meeting_id", "900"}};
  BOOST_TEST(value(families, "huawei_meeting_info",
                   {{"meeting_id", "900"},
                    {"display_id", "900 487 914"},
                    {"title", "Weekly"},
                    {"conf_mode", "common"},
                    {"media", "video"}}) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_start_timestamp_seconds", m) == 1611988486.336);
  BOOST_TEST(value(families, "huawei_meeting_state",
                   {{"meeting_id", "900"}, {"state", "scheduled"}}) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_locked", m) == 0.0);
  BOOST_TEST(value(families, "huawei_meeting_recording", m) == 1.0);
  BOOST_TEST(value(families, "huawei_meeting_audience_members", m) == 7.0);
  BOOST_TEST(!sample(families, "huawei_meeting_chat_forbidden", m));  // never reported
  BOOST_TEST(value(families, "huawei_meeting_heartbeat_rtt_seconds", m) == 0.125);
  BOOST_TEST(value(families, "huawei_meeting_last_message_timestamp_seconds", m) == 1700000000.0);
  BOOST_TEST(value(families, "huawei_meeting_messages_total",
                   {{"meeting_id", "900"}, {"action", "ConfDynamicInfoNotify"}}) == 1.0);
}

BOOST_FIXTURE_TEST_CASE(text_exposition_escapes_label_values_and_has_help_everywhere, Fixture) {
  store->addMeeting("900", now);
  ConfBasicInfo basic;
  basic.title = "a\"b\\c\nd";
  apply("900", basic);
  const auto text = renderText(scrape());
  BOOST_TEST(text.find(R"(title="a\"b\\c\nd")") != std::string::npos);

  // Every sample's family has a HELP and a TYPE line, and no sample carries a timestamp.
  std::set<std::string> helped;
  std::set<std::string> typed;
  std::istringstream lines(text);
  std::string line;
  std::size_t samples = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      helped.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
    } else {
      ++samples;
      const auto name = line.substr(0, line.find_first_of("{ "));
      BOOST_TEST(helped.count(name) == 1u, name);
      BOOST_TEST(typed.count(name) == 1u, name);
      const auto close = line.rfind('}');
      const auto value = line.substr(close == std::string::npos ? line.find(' ') : close + 1);
      BOOST_TEST(value.find(' ', 1) == std::string::npos, line);  // only " <value>"
    }
  }
  BOOST_TEST(samples > 50u);
}

BOOST_AUTO_TEST_CASE(collector_requires_a_store) {
  BOOST_CHECK_THROW(Collector(nullptr, "v", "r"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace hme::metrics
