#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metrics/collector.h"
#include "metrics/events.h"
#include "metrics/store.h"

namespace hme::metrics {
namespace {

TimePoint at(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

ParticipantChange person(const std::string& pid, int state = 0) {
  ParticipantFields fields;
  fields.role = 0;
  fields.state = state;
  return ParticipantChange{pid, ItemMode::Upsert, fields};
}

// meeting_id → value of one per-meeting family, from a scrape.
std::map<std::string, double> perMeeting(const std::vector<prometheus::MetricFamily>& families,
                                         const std::string& name) {
  std::map<std::string, double> values;
  for (const auto& family : families) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name != "meeting_id") continue;
        values[label.value] = family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                             : metric.gauge.value;
      }
    }
  }
  return values;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_store)

BOOST_AUTO_TEST_CASE(meetings_are_added_applied_and_removed_explicitly) {
  MeetingStore store;
  BOOST_TEST(!store.apply("900", Event{at(1), Subscribed{}}));  // unknown meeting: ignored
  BOOST_TEST(store.addMeeting("900", at(1)));
  BOOST_TEST(!store.addMeeting("900", at(2)));  // already tracked: unchanged
  BOOST_TEST(store.addMeeting("100", at(3)));
  BOOST_TEST((store.meetingIds() == std::vector<std::string>{"100", "900"}));

  BOOST_TEST(store.apply("900", Event{at(4), Subscribed{}}));
  BOOST_TEST(
      store.apply("900", std::vector<Event>{{at(5), HeartbeatSent{}}, {at(6), HeartbeatSent{}}}));
  const auto state = store.snapshot("900");
  BOOST_REQUIRE(state.has_value());
  BOOST_TEST(state->counters.connects == 1u);
  BOOST_TEST(state->counters.heartbeats_sent == 2u);
  BOOST_TEST((state->session.configured_at == at(1)));

  std::vector<std::string> visited;
  store.forEach(
      [&](const std::string& meeting_id, const MeetingState&) { visited.push_back(meeting_id); });
  BOOST_TEST((visited == std::vector<std::string>{"100", "900"}));

  BOOST_TEST(store.removeMeeting("900"));
  BOOST_TEST(!store.removeMeeting("900"));
  BOOST_TEST(!store.snapshot("900").has_value());
  BOOST_TEST(!store.visit("900", [](const MeetingState&) {}));
  BOOST_TEST(!store.apply("900", Event{at(7), HeartbeatSent{}}));
}

BOOST_AUTO_TEST_CASE(summaries_describe_each_meeting_for_the_status_page) {
  MeetingStore store;
  store.addMeeting("900", at(1));
  store.addMeeting("901", at(1));
  ConfBasicInfo basic;
  basic.title = "Weekly";
  store.apply("900",
              std::vector<Event>{
                  {at(2), ConnectFailed{ConnectStage::ControlToken, "HTTP 401 MMC.111072065"}},
                  {at(3), Subscribed{}},
                  {at(3), SessionStateChanged{SessionState::Subscribed, true}},
                  {at(4), basic},
                  {at(5), ParticipantsUpdate{true, {person("a"), person("b", 1)}}},
                  {at(6), FrameRejected{RejectReason::InvalidJson}},
                  {at(7), FrameReceived{"ParticipantsNotify"}},
              });
  const auto summaries = store.summaries();
  BOOST_REQUIRE(summaries.size() == 2u);
  const auto& s = summaries[0];
  BOOST_TEST(s.meeting_id == "900");
  BOOST_TEST(s.title == "Weekly");
  BOOST_TEST((s.session_state == SessionState::Subscribed));
  BOOST_TEST(s.up);
  BOOST_TEST(s.participants == 1u);
  BOOST_TEST(s.calling == 1u);
  BOOST_TEST((s.last_message_at == at(7)));
  BOOST_TEST(s.message_errors_total == 1u);
  BOOST_TEST(s.last_error == "control_token: HTTP 401 MMC.111072065");
  BOOST_TEST((s.last_error_at == at(2)));
  BOOST_TEST(!s.ended_at);
  BOOST_TEST(summaries[1].meeting_id == "901");
  BOOST_TEST(!summaries[1].up);
  BOOST_TEST((summaries[1].session_state == SessionState::Waiting));
}

BOOST_AUTO_TEST_CASE(config_reload_status_keeps_the_last_success_time) {
  MeetingStore store;
  BOOST_TEST(!store.exporterStatus().config_reload_ok);
  BOOST_TEST(!store.exporterStatus().last_reload_success_at);
  store.setConfigReload(true, at(10));
  store.setConfigReload(false, at(20));
  const auto status = store.exporterStatus();
  BOOST_TEST(!status.config_reload_ok);
  BOOST_TEST((status.last_reload_success_at == at(10)));
}

// One writer thread per meeting applies joins, leaves, full snapshots and other events while two
// scrapers Collect and render. Every scrape must see each meeting consistently
// (joins − leaves = participants + calling) and counters that never go backwards.
// Run it under -DHME_SANITIZE=thread to check the locking.
BOOST_AUTO_TEST_CASE(concurrent_writers_and_scrapers_see_consistent_meetings) {
  constexpr int kMeetings = 3;
  constexpr int kWriterSteps = 400;
  constexpr int kScrapes = 150;

  auto store = std::make_shared<MeetingStore>();
  for (int m = 0; m < kMeetings; ++m) store->addMeeting("90" + std::to_string(m), at(0));
  Collector collector(store, "test", "test");

  std::atomic<int> writers_done{0};
  // Writers pause halfway until both scrapers have scraped once, so scrapes and writes overlap
  // for sure (a synchronisation, not a sleep).
  std::atomic<int> scrapes_started{0};
  std::vector<std::thread> threads;
  for (int m = 0; m < kMeetings; ++m) {
    threads.emplace_back([&store, &writers_done, &scrapes_started, m] {
      const std::string meeting_id = "90" + std::to_string(m);
      std::int64_t clock = 1;
      for (int step = 0; step < kWriterSteps; ++step) {
        if (step == kWriterSteps / 2) {
          while (scrapes_started.load() < 2) std::this_thread::yield();
        }
        const std::string pid = "p" + std::to_string(step % 37);
        std::vector<Event> batch;
        batch.push_back({at(++clock), FrameReceived{"ParticipantsNotify"}});
        if (step % 50 == 49) {
          // A reconnect: a full snapshot of some other set of participants.
          std::vector<ParticipantChange> snapshot;
          for (int k = step % 7; k < 20; k += 3)
            snapshot.push_back(person("p" + std::to_string(k)));
          snapshot.push_back(person("callee", 1));
          batch.push_back({at(++clock), Subscribed{}});
          batch.push_back({at(++clock), ParticipantsUpdate{true, snapshot}});
        } else if (step % 3 == 2) {
          batch.push_back({at(++clock), ParticipantsUpdate{false, {{pid, ItemMode::Remove, {}}}}});
        } else {
          batch.push_back(
              {at(++clock), ParticipantsUpdate{false, {person(pid, step % 11 == 0 ? 1 : 0)}}});
          NetFigures figures;
          figures.delay_ms = step;
          figures.net_info = step % 2 ? "good" : "poor";
          batch.push_back(
              {at(++clock), NetConditionUpdate{false, {{pid, ItemMode::Upsert, figures}}}});
        }
        // Alternate single events and batches: both paths take the meeting lock.
        if (step % 2 == 0) {
          store->apply(meeting_id, batch);
        } else {
          for (const auto& event : batch) store->apply(meeting_id, event);
        }
      }
      ++writers_done;
    });
  }

  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::atomic<int> scrapes_during_writes{0};
  for (int s = 0; s < 2; ++s) {
    threads.emplace_back([&] {
      std::map<std::string, double> last_joins;
      for (int i = 0; i < kScrapes; ++i) {
        const bool writing = writers_done.load() < kMeetings;
        const auto families = collector.Collect();
        if (i == 0) ++scrapes_started;
        const auto text = renderText(families);
        const auto joins = perMeeting(families, "huawei_meeting_participant_joins_total");
        const auto leaves = perMeeting(families, "huawei_meeting_participant_leaves_total");
        const auto online = perMeeting(families, "huawei_meeting_participants");
        const auto calling = perMeeting(families, "huawei_meeting_participants_calling");
        std::string problem;
        if (joins.size() != kMeetings || text.empty()) problem = "missing meetings";
        for (const auto& [meeting_id, value] : joins) {
          if (value - leaves.at(meeting_id) != online.at(meeting_id) + calling.at(meeting_id)) {
            problem = "joins - leaves != participants + calling for " + meeting_id;
          }
          if (value < last_joins[meeting_id]) problem = "joins went backwards for " + meeting_id;
          last_joins[meeting_id] = value;
        }
        if (writing) ++scrapes_during_writes;
        if (!problem.empty()) {
          std::lock_guard<std::mutex> lock(failures_mutex);
          failures.push_back(problem);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  BOOST_TEST(failures.empty(), (failures.empty() ? "" : failures.front()));
  BOOST_TEST(scrapes_during_writes.load() >= 2);
  // After the writers: the final state is the deterministic result of each writer's sequence.
  const auto final_joins =
      perMeeting(collector.Collect(), "huawei_meeting_participant_joins_total");
  BOOST_TEST(final_joins.at("900") == final_joins.at("902"));
  BOOST_TEST(final_joins.at("900") > 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace hme::metrics
