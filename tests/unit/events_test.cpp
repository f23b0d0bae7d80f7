#include "metrics/events.h"

#include <boost/test/unit_test.hpp>
#include <string>

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(session_state_labels_match_the_catalogue) {
  using hme::metrics::SessionState;
  BOOST_TEST(std::string(hme::metrics::toLabel(SessionState::Waiting)) == "waiting");
  BOOST_TEST(std::string(hme::metrics::toLabel(SessionState::Subscribed)) == "subscribed");
  BOOST_TEST(std::string(hme::metrics::toLabel(hme::metrics::ConnectStage::WsToken)) == "ws_token");
  BOOST_TEST(std::string(hme::metrics::toLabel(hme::metrics::RejectReason::TooLarge)) ==
             "too_large");
}

BOOST_AUTO_TEST_SUITE_END()
