// Pacing of discovery passes with a manual clock: the interval, 429 backoff, the gateway's
// remain:0 hold and webhook triggers.

#include <boost/test/unit_test.hpp>

#include "plugin/discovery/pacer.h"

namespace d = hme::discovery;
using namespace std::chrono_literals;
using Clock = d::Pacer::Clock;

namespace {

const Clock::time_point t0 = Clock::time_point{} + 1000h;

double secondsAfter(Clock::time_point at, Clock::time_point base = t0) {
  return std::chrono::duration<double>(at - base).count();
}

// Runs one instantaneous pass at `now`.
void pass(d::Pacer& pacer, Clock::time_point now, d::PassPacing pacing = {}) {
  pacer.passStarted(now);
  pacer.passDone(now, pacing);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(discovery_pacer)

BOOST_AUTO_TEST_CASE(first_pass_at_once_then_every_interval_from_the_start) {
  d::Pacer pacer(30s);
  BOOST_TEST((pacer.nextPass() <= t0));
  pacer.passStarted(t0);
  pacer.passDone(t0 + 2s, {});  // a slow pass does not push the schedule
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 30.0);
  pacer.setInterval(10s);
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 10.0);
}

BOOST_AUTO_TEST_CASE(rate_limited_passes_back_off_exponentially_up_to_five_minutes) {
  d::Pacer pacer(30s);
  d::PassPacing limited;
  limited.rate_limited = true;
  Clock::time_point now = t0;
  const double expected[] = {60, 120, 240, 300, 300};
  for (double seconds : expected) {
    pass(pacer, now, limited);
    BOOST_TEST(secondsAfter(pacer.nextPass(), now) == seconds);
    now = pacer.nextPass();
  }
  BOOST_TEST(pacer.rateLimitedPasses() == 5u);
  pass(pacer, now);  // a clean pass resets
  BOOST_TEST(pacer.rateLimitedPasses() == 0u);
  BOOST_TEST(secondsAfter(pacer.nextPass(), now) == 30.0);
}

BOOST_AUTO_TEST_CASE(a_long_interval_is_its_own_backoff_cap) {
  d::Pacer pacer(10min);
  d::PassPacing limited;
  limited.rate_limited = true;
  pass(pacer, t0, limited);
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 600.0);
}

BOOST_AUTO_TEST_CASE(webhook_triggers_run_at_once_but_one_second_apart) {
  d::Pacer pacer(60s);
  pass(pacer, t0);
  pacer.trigger();
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 1.0);  // the previous pass started at t0
  pass(pacer, t0 + 20s);
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 80.0);  // the trigger was consumed
  pacer.trigger();
  pacer.trigger();
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 21.0);
}

BOOST_AUTO_TEST_CASE(remain_zero_holds_every_pass_for_the_window) {
  d::Pacer pacer(1s);
  d::PassPacing exhausted;
  exhausted.exhausted_window = 60s;
  pass(pacer, t0, exhausted);
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 60.0);
  pacer.trigger();
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 60.0);  // a webhook cannot jump the hold
  pass(pacer, t0 + 60s);
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 61.0);
}

BOOST_AUTO_TEST_CASE(a_trigger_cannot_undo_a_429_backoff) {
  d::Pacer pacer(10s);
  d::PassPacing limited;
  limited.rate_limited = true;
  pass(pacer, t0, limited);
  pacer.trigger();
  BOOST_TEST(secondsAfter(pacer.nextPass()) == 20.0);
}

BOOST_AUTO_TEST_SUITE_END()
