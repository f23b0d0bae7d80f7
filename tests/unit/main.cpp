#define BOOST_TEST_MODULE huawei_meeting_exporter unit tests
#include <boost/test/unit_test.hpp>
