// Keeps the README's metrics reference and the exporter's output in sync: the names in the
// table between the `metrics-reference` markers must be exactly the metric families that the
// golden expositions (rendered by the collector from replayed frames, and by the discovery
// metrics) contain.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> readmeTableNames() {
  const std::string readme = readFile(std::filesystem::path(HME_TESTDATA_DIR) / "../../README.md");
  const auto begin = readme.find("<!-- metrics-reference:start -->");
  const auto end = readme.find("<!-- metrics-reference:end -->");
  BOOST_REQUIRE(begin != std::string::npos && end != std::string::npos && begin < end);
  const std::string table = readme.substr(begin, end - begin);
  std::set<std::string> names;
  const std::regex row(R"(\n\| `(huawei_meeting_[a-z_]+)`)");
  for (std::sregex_iterator it(table.begin(), table.end(), row), last; it != last; ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

std::set<std::string> goldenFamilyNames() {
  std::set<std::string> names;
  // golden/: the meeting collector; golden-discovery/: enterprise mode's families.
  for (const char* folder : {"golden", "golden-discovery"}) {
    const auto golden = std::filesystem::path(HME_TESTDATA_DIR) / folder;
    for (const auto& entry : std::filesystem::directory_iterator(golden)) {
      if (entry.path().extension() != ".prom") continue;
      std::istringstream lines(readFile(entry.path()));
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# HELP ", 0) == 0) names.insert(line.substr(7, line.find(' ', 7) - 7));
      }
    }
  }
  return names;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readme)

BOOST_AUTO_TEST_CASE(metrics_reference_lists_exactly_the_rendered_families) {
  const auto documented = readmeTableNames();
  const auto rendered = goldenFamilyNames();
  BOOST_TEST(rendered.size() >= 50u);
  for (const auto& name : rendered) {
    BOOST_TEST(documented.count(name) == 1u, name << " is rendered but not in the README table");
  }
  for (const auto& name : documented) {
    BOOST_TEST(rendered.count(name) == 1u, name << " is in the README table but never rendered");
  }
}

BOOST_AUTO_TEST_SUITE_END()
