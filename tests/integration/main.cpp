#define BOOST_TEST_MODULE huawei_meeting_exporter integration tests
#include <boost/test/unit_test.hpp>
