// Keeps the README's "Command line" table true: it lists exactly the flags `--help` prints, and
// the default it gives each flag is the one `--help` names.
#include <boost/test/unit_test.hpp>
#include <map>
#include <sstream>
#include <string>

#include "plugin/app/cli.h"
#include "tests/unit/readme_util.h"

namespace {

// Flag name (with its dashes) → the default `--help` names, "" when it names none.
std::map<std::string, std::string> helpFlags() {
  std::map<std::string, std::string> flags;
  std::istringstream lines(hme::app::usageText());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  --", 0) != 0) continue;
    const std::string name = line.substr(2, line.find_first_of("= ", 2) - 2);
    std::string default_value;
    const std::string marker = "(default: ";
    if (const auto at = line.rfind(marker); at != std::string::npos) {
      const auto start = at + marker.size();
      default_value = line.substr(start, line.find(')', start) - start);
    }
    flags[name] = default_value;
  }
  return flags;
}

// Flag name → the README table's default cell.
std::map<std::string, std::string> readmeFlags() {
  const std::string section = hme::test::readmeSection(hme::test::readmeText(), "Command line");
  std::map<std::string, std::string> flags;
  for (const auto& cells : hme::test::tableRows(section)) {
    BOOST_REQUIRE_MESSAGE(cells.size() >= 3, "README Command line row with too few cells");
    const auto spans = hme::test::codeSpans(cells[0]);
    BOOST_REQUIRE_MESSAGE(spans.size() == 1,
                          "README Command line row \"" << cells[0] << "\" names no flag");
    flags[spans[0]] = cells[1];
  }
  return flags;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readme)

BOOST_AUTO_TEST_CASE(command_line_table_lists_exactly_the_flags_of_help) {
  const auto help = helpFlags();
  const auto readme = readmeFlags();
  BOOST_TEST(help.size() >= 10u);
  for (const auto& [flag, default_value] : help) {
    BOOST_TEST(readme.count(flag) == 1u,
               flag << " is printed by --help but missing from README.md's \"Command line\" "
                       "table: add a row | `"
                    << flag << "` | default | meaning |");
  }
  for (const auto& [flag, cell] : readme) {
    BOOST_TEST(help.count(flag) == 1u, "README.md's \"Command line\" table lists "
                                           << flag << ", which --help does not print");
  }
}

BOOST_AUTO_TEST_CASE(command_line_table_gives_the_defaults_of_help) {
  const auto readme = readmeFlags();
  for (const auto& [flag, default_value] : helpFlags()) {
    const auto row = readme.find(flag);
    if (default_value.empty() || row == readme.end()) continue;
    const auto spans = hme::test::codeSpans(row->second);
    const bool same =
        row->second == default_value || (spans.size() == 1 && spans.front() == default_value);
    BOOST_TEST(same, "README.md's \"Command line\" table gives "
                         << flag << " the default \"" << row->second << "\", --help says \""
                         << default_value << "\"");
  }
}

BOOST_AUTO_TEST_SUITE_END()
