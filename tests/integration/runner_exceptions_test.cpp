// An exception escaping a meeting's processing inside its runner thread (MeetingRunner::run()
// catches it and calls restartSession): the failure is counted, the meeting reconnects after a
// backoff, the other meetings keep their one connection and the process lives.
//
// The exception is a real std::bad_alloc from a replacement global operator new (this file,
// integration_tests binary only; production code has no hook). It is disarmed by default and
// forwards to malloc/free, so the sanitizers' malloc interception still sees every block. Armed,
// it throws once, for the next allocation of exactly sizeof(session::Command) bytes made on one
// given thread: the meeting's runner thread, whose id a log sink captures from a line that
// thread logs itself ("session state changed"). On a live connection that allocation is the
// Commands vector Session::onTick fills with the next SendHeartbeat (Session::tickLive), which
// is outside the transport's and decoder's own catch blocks, so the exception reaches run().

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "plugin/log/log.h"
#include "plugin/session/session.h"
#include "tests/integration/exporter_fixture.h"

namespace {

// --- Fault injection ----------------------------------------------------------------------------

std::atomic<bool> g_armed{false};
std::atomic<std::thread::id> g_target_thread{};
std::atomic<std::size_t> g_target_size{0};
std::atomic<int> g_fired{0};

void* allocate(std::size_t size) {
  if (g_armed.load() && size == g_target_size.load() &&
      std::this_thread::get_id() == g_target_thread.load()) {
    bool expected = true;
    if (g_armed.compare_exchange_strong(expected, false)) {
      g_fired.fetch_add(1);
      throw std::bad_alloc();
    }
  }
  for (;;) {
    if (void* block = std::malloc(size == 0 ? 1 : size)) return block;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

// Throws std::bad_alloc once, for the next allocation of exactly `size` bytes on `thread`.
void armBadAlloc(std::thread::id thread, std::size_t size) {
  g_fired.store(0);
  g_target_thread.store(thread);
  g_target_size.store(size);
  g_armed.store(true);
}

void disarm() { g_armed.store(false); }

}  // namespace

// GCC sees that these operator new bodies end in malloc and warns that operator delete frees
// "mismatched" memory; malloc and free are exactly the pair intended here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* block) noexcept { std::free(block); }
void operator delete[](void* block) noexcept { std::free(block); }
void operator delete(void* block, std::size_t) noexcept { std::free(block); }
void operator delete[](void* block, std::size_t) noexcept { std::free(block); }
// The nothrow forms too (simdjson allocates with them): every operator new and delete of the
// process must be one family, or a sanitizer sees memory from its own operator new freed here.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* block, const std::nothrow_t&) noexcept { std::free(block); }
void operator delete[](void* block, const std::nothrow_t&) noexcept { std::free(block); }
#pragma GCC diagnostic pop

namespace {

using namespace hme::testing;
using namespace std::chrono_literals;

const std::string kFailing = "930000001";
const std::string kOther = "930000002";

// Collects every log line and remembers the thread that logged the first line containing all
// of `needles` (logging is synchronous: the sink runs on the logging thread). Restores the
// stderr sink and the previous level on destruction.
class ThreadSpotter {
 public:
  explicit ThreadSpotter(std::vector<std::string> needles)
      : state_(std::make_shared<State>()), previous_level_(hme::log::logger().level()) {
    state_->needles = std::move(needles);
    hme::log::logger().setSink([state = state_](std::string_view line) {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->lines.append(line);
      if (state->spotted) return;
      for (const auto& needle : state->needles) {
        if (line.find(needle) == std::string_view::npos) return;
      }
      state->spotted = std::this_thread::get_id();
    });
    hme::log::logger().setLevel(hme::log::Level::Info);
  }
  ~ThreadSpotter() {
    hme::log::logger().setLevel(previous_level_);
    hme::log::logger().setSink({});
  }
  ThreadSpotter(const ThreadSpotter&) = delete;
  ThreadSpotter& operator=(const ThreadSpotter&) = delete;

  std::optional<std::thread::id> thread() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->spotted;
  }
  std::string text() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->lines;
  }

 private:
  struct State {
    std::mutex mutex;
    std::vector<std::string> needles;
    std::string lines;
    std::optional<std::thread::id> spotted;
  };
  std::shared_ptr<State> state_;
  hme::log::Level previous_level_;
};

// Disarms the trigger however the test ends.
struct Disarm {
  Disarm() = default;
  Disarm(const Disarm&) = delete;
  Disarm& operator=(const Disarm&) = delete;
  ~Disarm() { disarm(); }
};

double valueOr0(const ExporterHarness& h, const std::string& name, const Labels& labels) {
  return h.metric(name, labels).value_or(0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(runner_exceptions)

BOOST_AUTO_TEST_CASE(bad_alloc_in_runner_thread_restarts_only_that_session) {
  const Disarm disarm_at_exit;
  // The runner thread of kFailing logs its own state changes; "up=1" is the line of going live.
  ThreadSpotter spotter({"session state changed", "meeting_id=" + kFailing, "up=1"});
  ExporterHarness h;
  h.addMeeting(testMeetingSpec(kFailing));
  h.addMeeting(testMeetingSpec(kOther));
  h.start();
  BOOST_REQUIRE(h.waitUp(kFailing, 10s));
  BOOST_REQUIRE(h.waitUp(kOther, 10s));
  const auto runner = spotter.thread();
  BOOST_REQUIRE(runner.has_value());

  const Labels error_disconnect = forMeeting(kFailing, {{"reason", "error"}});
  const double failing_connects =
      valueOr0(h, "huawei_meeting_connects_total", forMeeting(kFailing));
  const double failing_errors = valueOr0(h, "huawei_meeting_disconnects_total", error_disconnect);
  const double handshake_failures = valueOr0(h, "huawei_meeting_connect_failures_total",
                                             forMeeting(kFailing, {{"stage", "handshake"}}));
  const double other_connects = valueOr0(h, "huawei_meeting_connects_total", forMeeting(kOther));
  BOOST_REQUIRE_EQUAL(failing_connects, 1.0);
  BOOST_REQUIRE_EQUAL(other_connects, 1.0);
  const auto other_before = h.simulator().observations(kOther);

  // Armed between two heartbeats: just after the server saw one, the answer is handled within
  // milliseconds and the runner thread then sleeps in poll() until the next heartbeat is due.
  const std::size_t seen = h.simulator().observations(kFailing).heartbeats.size();
  BOOST_REQUIRE(
      h.waitFor([&] { return h.simulator().observations(kFailing).heartbeats.size() > seen; }, 5s));
  std::this_thread::sleep_for(300ms);
  armBadAlloc(*runner, sizeof(hme::session::Command));
  BOOST_REQUIRE(h.waitFor([] { return g_fired.load() == 1; }, 5s));

  // Counted as a disconnect for an internal error (it was connected), not as a connect failure,
  // and logged by restartSession with the exception's text.
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_disconnects_total", error_disconnect,
      [&](double v) { return v == failing_errors + 1; }, 5s));
  BOOST_CHECK_EQUAL(valueOr0(h, "huawei_meeting_connect_failures_total",
                             forMeeting(kFailing, {{"stage", "handshake"}})),
                    handshake_failures);
  BOOST_CHECK(h.waitFor(
      [&] {
        const std::string logs = spotter.text();
        return logs.find("session failed, restarting it after a backoff") != std::string::npos &&
               logs.find("internal error: std::bad_alloc") != std::string::npos;
      },
      5s));

  // A fresh session subscribes again after the backoff.
  BOOST_CHECK(h.waitForMetric(
      "huawei_meeting_connects_total", forMeeting(kFailing),
      [&](double v) { return v == failing_connects + 1; }, 10s));
  BOOST_CHECK(h.waitUp(kFailing, 10s));
  BOOST_CHECK(h.waitFor(
      [&] { return h.simulator().observations(kFailing).subscribes_accepted >= 2; }, 10s));
  BOOST_CHECK_EQUAL(valueOr0(h, "huawei_meeting_disconnects_total", error_disconnect),
                    failing_errors + 1);

  // The other meeting kept its single connection throughout.
  BOOST_CHECK_EQUAL(valueOr0(h, "huawei_meeting_connects_total", forMeeting(kOther)),
                    other_connects);
  BOOST_CHECK_EQUAL(h.metric("huawei_meeting_up", forMeeting(kOther)).value_or(-1), 1.0);
  const auto other_after = h.simulator().observations(kOther);
  BOOST_CHECK_EQUAL(other_after.connections_accepted, other_before.connections_accepted);
  BOOST_CHECK_EQUAL(other_after.connections_open, 1U);
  BOOST_CHECK_EQUAL(g_fired.load(), 1);
}

BOOST_AUTO_TEST_SUITE_END()
