// The direct text renderer (metrics/text_renderer.h, Collector::renderText) must write exactly
// the bytes of prometheus-cpp's TextSerializer over Collector::Collect(): checked value by value
// against TextSerializer, and exposition by exposition over stores that exercise every family,
// escaping, opt-in names, the series limit, retention and the rating rule. The golden test checks
// Collect() + TextSerializer against the golden files, so together they pin renderText too.

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/events.h"
#include "metrics/store.h"
#include "metrics/text_renderer.h"

namespace {

namespace m = hme::metrics;
using namespace std::chrono_literals;

const m::TimePoint kStart{std::chrono::milliseconds(1702459160000)};

// A family of gauges with these values, serialised by prometheus-cpp.
std::string serialized(const std::vector<double>& values) {
  prometheus::MetricFamily family;
  family.name = "x";
  family.help = "h";
  family.type = prometheus::MetricType::Gauge;
  for (double value : values) {
    prometheus::ClientMetric metric;
    metric.gauge.value = value;
    family.metric.push_back(metric);
  }
  return prometheus::TextSerializer().Serialize({family});
}

std::string rendered(const std::vector<double>& values) {
  m::TextExposition text(1);
  text.declare(0, "x", "h", prometheus::MetricType::Gauge);
  for (double value : values) text.add(0, {}, value);
  return std::move(text).finish();
}

void apply(m::MeetingStore& store, const std::string& meeting_id, m::EventBody body,
           m::TimePoint at = kStart) {
  BOOST_TEST_REQUIRE(store.apply(meeting_id, m::Event{at, std::move(body)}));
}

m::ParticipantChange person(const std::string& pid, int role, bool calling, m::ClientType client,
                            const std::string& name) {
  m::ParticipantChange change;
  change.pid = pid;
  change.fields.role = role;
  change.fields.state = calling ? 1 : 0;
  change.fields.muted = pid.back() % 2 == 0;
  change.fields.video = pid.back() % 3 == 0;
  change.fields.is_cohost = role == 0 && pid.back() % 5 == 0;
  change.fields.client = client;
  change.fields.name = name;
  return change;
}

m::NetConditionChange figures(const std::string& pid, const std::string& rating, double delay) {
  m::NetConditionChange change;
  change.pid = pid;
  change.figures.net_info = rating;
  change.figures.delay_ms = delay;
  change.figures.jitter_up_ms = 4.5;
  change.figures.audio_loss_up = 1000;
  change.figures.video_loss_down = 0.3;
  change.figures.audio_flux_down = 2;
  change.figures.screen_flux_up = 1.0 / 3.0;
  return change;
}

// A store with several meetings in different states and every kind of content.
std::shared_ptr<m::MeetingStore> richStore(bool names) {
  m::ReduceOptions reduce;
  reduce.keep_participant_names = names;
  auto store = std::make_shared<m::MeetingStore>(reduce);
  store->setConfigReload(true, kStart);
  const char* ratings[] = {"good",      "bad",  "normal", "poor",  "fair",
                           "excellent", "weak", "great",  "awful", "x-1"};
  for (int meeting = 0; meeting < 4; ++meeting) {
    const std::string id = std::to_string(900000001 + meeting);
    store->addMeeting(id, kStart);
    if (meeting == 3) continue;  // configured, never connected
    apply(*store, id, m::SessionStateChanged{m::SessionState::Subscribed, true});
    apply(*store, id, m::Subscribed{});
    apply(*store, id, m::HeartbeatAnswered{0.052});
    apply(*store, id, m::FrameReceived{"ParticipantsNotify"});
    apply(*store, id, m::FrameRejected{m::RejectReason::TooLarge});
    apply(*store, id, m::ConnectFailed{m::ConnectStage::WsToken, "HTTP 401"});
    m::ConfBasicInfo info;
    info.display_id = "900 000 00" + std::to_string(meeting);
    info.title = "Team \"A\" \\ notes\nline " + std::to_string(meeting);
    info.conf_mode = meeting == 0 ? "RTC" : "COMMON";
    info.media = meeting + 1;
    info.start_time_ms = 1702458900123;
    apply(*store, id, info);
    m::ConfDynamicInfo flags;
    flags.state = meeting == 2 ? "Destroyed" : "Created";
    flags.lock = 1;
    flags.pic_num = 4;
    flags.end_time_ms = 1702462500000;
    apply(*store, id, flags);
    m::ParticipantsUpdate people;
    people.full = true;
    m::NetConditionUpdate net;
    net.full = true;
    for (int p = 0; p < 12; ++p) {
      const std::string pid = "p" + std::to_string(meeting) + "x" + std::to_string(p);
      people.items.push_back(person(pid, p % 3, p == 7, static_cast<m::ClientType>(p % 4),
                                    "Name \"" + std::to_string(p) + "\"\\"));
      if (p % 4 != 3) {
        net.items.push_back(figures(pid, ratings[(meeting * 12 + p) % 10], 37.0 * p));
      }
    }
    net.items.push_back(figures("zz-not-a-participant", "good", 12));
    apply(*store, id, std::move(people));
    apply(*store, id, std::move(net));
    m::InviteResults invites;
    invites.items = {{"+861", "0"}, {"+862", "11076010"}, {"+863", "11076008"}};
    apply(*store, id, invites);
    if (meeting == 2) {
      apply(*store, id, m::Disconnected{m::DisconnectReason::MeetingEnded, "ended"}, kStart + 1s);
      apply(*store, id, m::SessionStateChanged{m::SessionState::Ended, false}, kStart + 1s);
    }
  }
  return store;
}

void checkSame(const m::Collector& collector) {
  const std::string stock = m::renderText(collector.Collect());
  const std::string direct = collector.renderText();
  BOOST_TEST(!direct.empty());
  BOOST_TEST(direct == stock);
  if (direct != stock) {
    std::size_t at = 0;
    while (at < direct.size() && at < stock.size() && direct[at] == stock[at]) ++at;
    BOOST_TEST_MESSAGE("first difference at byte " << at << ": '" << direct.substr(at, 80)
                                                   << "' vs '" << stock.substr(at, 80) << "'");
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(perf_text_renderer)

BOOST_AUTO_TEST_CASE(sample_values_match_text_serializer) {
  std::vector<double> values = {0.0,
                                -0.0,
                                1,
                                -1,
                                0.052,
                                0.1 + 0.2,
                                1702459160,
                                1702458900.5,
                                1e15,
                                9999999999999998.0,
                                1e16,
                                1e20,
                                -1e17,
                                1.5e-7,
                                1.0 / 3.0,
                                std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::denorm_min(),
                                9.739,
                                74.165};
  std::uint64_t state = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    double bits = 0;
    std::memcpy(&bits, &state, sizeof bits);
    values.push_back(bits);
    values.push_back(static_cast<double>(state % 1000000) / 1000.0);
    values.push_back(static_cast<double>(state % 100000000000ULL));
    values.push_back(std::ldexp(static_cast<double>(state % 4096), -static_cast<int>(state % 60)));
  }
  BOOST_TEST(rendered(values) == serialized(values));
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped_like_text_serializer) {
  std::string value;
  m::appendEscapedLabelValue(value, "a\"b\\c\nd\te");
  BOOST_TEST(value == "a\\\"b\\\\c\\nd\te");
  m::TextExposition text(2);
  text.declare(0, "empty_family", "never sampled", prometheus::MetricType::Gauge);
  text.declare(1, "y_total", "", prometheus::MetricType::Counter);
  text.add(1, {{"a", "1"}, {"b", "x\"y"}}, 2);
  text.add(1, std::vector<m::LabelRef>{{"a", "2"}}, {{"b", ""}}, 3);
  BOOST_TEST(text.samples() == 2u);
  // No HELP line for an empty help, no lines at all for a family without samples.
  BOOST_TEST(
      std::move(text).finish() ==
      "# TYPE y_total counter\ny_total{a=\"1\",b=\"x\\\"y\"} 2\ny_total{a=\"2\",b=\"\"} 3\n");
}

BOOST_AUTO_TEST_CASE(empty_store_renders_like_collect) {
  auto store = std::make_shared<m::MeetingStore>();
  checkSame(m::Collector(store, "1.2.3", "abc"));
}

BOOST_AUTO_TEST_CASE(rich_stores_render_like_collect) {
  for (const bool names : {false, true}) {
    for (const bool series : {true, false}) {
      BOOST_TEST_CONTEXT("names " << names << ", participant series " << series) {
        m::RenderOptions options;
        options.participant_names = names;
        options.participant_series = series;
        options.max_participants_per_meeting = 5;
        options.now = [] { return kStart + 10s; };
        m::Collector collector(richStore(names), "0.0.0-test", "test\"rev", options);
        checkSame(collector);
        // Rendering twice changes nothing (the rating memory is settled after the first).
        checkSame(collector);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(expired_meetings_vanish_from_both_renders) {
  m::RenderOptions options;
  options.ended_meeting_retention = 5s;
  options.now = [] { return kStart + 1h; };
  m::Collector collector(richStore(false), "v", "r", options);
  checkSame(collector);
  const std::string text = collector.renderText();
  BOOST_TEST(text.find("meeting_id=\"900000003\"") == std::string::npos);
  BOOST_TEST(text.find("huawei_meeting_up{meeting_id=\"900000001\"} 1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
