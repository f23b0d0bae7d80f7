// hme::Secret: a password or token that cannot be printed or turned into a string by accident.

#include "secret/secret.h"

#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

namespace {

template <class T, class = void>
struct Streamable : std::false_type {};
template <class T>
struct Streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<T>())>>
    : std::true_type {};

// The properties the rest of the code relies on, checked where they are defined.
static_assert(!Streamable<const hme::Secret&>::value, "a Secret must not be printable");
static_assert(Streamable<const std::string&>::value, "the detector works");
static_assert(!std::is_convertible_v<hme::Secret, std::string>, "no conversion to string");
static_assert(!std::is_convertible_v<hme::Secret, std::string_view>, "no conversion to view");
static_assert(!std::is_convertible_v<std::string, hme::Secret>, "no silent wrapping either");

}  // namespace

BOOST_AUTO_TEST_SUITE(secret)

BOOST_AUTO_TEST_CASE(reveal_empty_and_compare) {
  const hme::Secret none;
  const hme::Secret token("cnr0123456789abcdef");
  BOOST_TEST(none.empty());
  BOOST_TEST(!token.empty());
  BOOST_TEST(token.reveal() == "cnr0123456789abcdef");
  BOOST_TEST((token == hme::Secret("cnr0123456789abcdef")));
  BOOST_TEST((token != none));
}

BOOST_AUTO_TEST_CASE(found_in_tells_whether_text_repeats_the_secret) {
  const hme::Secret password("964776");
  BOOST_TEST(password.foundIn("meeting 900964776"));
  BOOST_TEST(password.foundIn("964776"));
  BOOST_TEST(!password.foundIn("96477"));
  BOOST_TEST(!password.foundIn(""));
  // An empty secret is in nothing, so it never withholds a message.
  BOOST_TEST(!hme::Secret().foundIn("anything"));
}

BOOST_AUTO_TEST_SUITE_END()
