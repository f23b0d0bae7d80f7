// Keeps the README's metrics reference and the exporter's output in sync: the table between the
// `metrics-reference` markers must list exactly the metric families that the golden expositions
// (rendered by the collector from replayed frames, and by the discovery metrics) contain, each
// with its type, its labels and the values of its closed-set labels.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/unit/readme_util.h"

namespace {

// Labels whose values come from a fixed list in the code: the README row must name each value
// the exporter renders. Free-form labels (ids, titles, names, version, the server's push action
// and network rating names, webhook event names) are not checked.
const std::set<std::string> kClosedSetLabels = {"state",  "stage", "reason",    "result",   "role",
                                                "client", "media", "direction", "conf_mode"};

struct DocumentedFamily {
  std::string type;
  std::set<std::string> labels;           ///< always present
  std::set<std::string> optional_labels;  ///< "(+ `name` if …)": present with an option
  std::set<std::string> mentioned;        ///< every `code` span of the row
};

struct RenderedFamily {
  std::string type;
  std::map<std::string, std::set<std::string>> label_values;
  bool has_samples = false;
};

std::map<std::string, DocumentedFamily> readmeTable() {
  const std::string readme = hme::test::readmeText();
  const auto begin = readme.find("<!-- metrics-reference:start -->");
  const auto end = readme.find("<!-- metrics-reference:end -->");
  BOOST_REQUIRE(begin != std::string::npos && end != std::string::npos && begin < end);
  std::map<std::string, DocumentedFamily> families;
  for (const auto& cells : hme::test::tableRows(readme.substr(begin, end - begin))) {
    BOOST_REQUIRE_MESSAGE(cells.size() >= 4, "README metrics row with too few cells: " << cells[0]);
    const auto names = hme::test::codeSpans(cells[0]);
    BOOST_REQUIRE_MESSAGE(names.size() == 1, "README metrics row names no metric: " << cells[0]);
    DocumentedFamily family;
    family.type = cells[1];
    const auto optional_at = cells[2].find("(+");
    for (const auto& label : hme::test::codeSpans(cells[2].substr(0, optional_at))) {
      family.labels.insert(label);
    }
    if (optional_at != std::string::npos) {
      for (const auto& label : hme::test::codeSpans(cells[2].substr(optional_at))) {
        family.optional_labels.insert(label);
      }
    }
    for (const auto& cell : cells) {
      for (const auto& span : hme::test::codeSpans(cell)) family.mentioned.insert(span);
    }
    families[names[0]] = std::move(family);
  }
  return families;
}

std::map<std::string, RenderedFamily> goldenFamilies() {
  std::map<std::string, RenderedFamily> families;
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? )");
  static const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)\")");
  // golden/: the meeting collector; golden-discovery/: enterprise mode's families.
  for (const char* folder : {"golden", "golden-discovery"}) {
    const auto golden = std::filesystem::path(HME_TESTDATA_DIR) / folder;
    for (const auto& entry : std::filesystem::directory_iterator(golden)) {
      if (entry.path().extension() != ".prom") continue;
      std::istringstream lines(hme::test::readTextFile(entry.path()));
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# TYPE ", 0) == 0) {
          const auto space = line.find(' ', 7);
          families[line.substr(7, space - 7)].type = line.substr(space + 1);
          continue;
        }
        std::smatch match;
        if (line.empty() || line[0] == '#' || !std::regex_search(line, match, sample)) continue;
        RenderedFamily& family = families[match[1]];
        family.has_samples = true;
        const std::string labels = match[3];
        for (std::sregex_iterator it(labels.begin(), labels.end(), label), last; it != last; ++it) {
          family.label_values[(*it)[1]].insert((*it)[2]);
        }
      }
    }
  }
  return families;
}

bool perMeeting(const std::string& name) { return name.rfind("huawei_meeting_exporter_", 0) != 0; }

}  // namespace

BOOST_AUTO_TEST_SUITE(readme)

BOOST_AUTO_TEST_CASE(metrics_reference_lists_exactly_the_rendered_families) {
  const auto documented = readmeTable();
  const auto rendered = goldenFamilies();
  BOOST_TEST(rendered.size() >= 50u);
  for (const auto& [name, family] : rendered) {
    BOOST_TEST(documented.count(name) == 1u, name << " is rendered but not in the README table");
  }
  for (const auto& [name, family] : documented) {
    BOOST_TEST(rendered.count(name) == 1u, name << " is in the README table but never rendered");
  }
}

BOOST_AUTO_TEST_CASE(metrics_reference_gives_the_rendered_types) {
  const auto rendered = goldenFamilies();
  for (const auto& [name, family] : readmeTable()) {
    const auto found = rendered.find(name);
    if (found == rendered.end()) continue;
    BOOST_TEST(family.type == found->second.type,
               "README metrics table: " << name << " has type \"" << family.type
                                        << "\", the exporter renders \"" << found->second.type
                                        << "\"");
  }
}

BOOST_AUTO_TEST_CASE(metrics_reference_gives_the_rendered_labels) {
  const auto rendered = goldenFamilies();
  for (const auto& [name, family] : readmeTable()) {
    const auto found = rendered.find(name);
    if (found == rendered.end()) continue;
    BOOST_TEST_CONTEXT("README metrics table row " << name) {
      BOOST_TEST(found->second.has_samples, "no golden exposition has a sample of " << name);
      const auto& values = found->second.label_values;
      // meeting_id is on every per-meeting series, said once above the table.
      BOOST_TEST(values.count("meeting_id") == (perMeeting(name) ? 1u : 0u),
                 name << (perMeeting(name) ? " lacks" : " has") << " the meeting_id label");
      for (const auto& [label, label_values] : values) {
        if (label == "meeting_id") continue;
        BOOST_TEST((family.labels.count(label) + family.optional_labels.count(label)) == 1u,
                   name << " is rendered with the label " << label
                        << ", which its README row does not list");
      }
      for (const auto& label : family.labels) {
        BOOST_TEST(values.count(label) == 1u, "the README row of "
                                                  << name << " lists the label " << label
                                                  << ", which the exporter never renders");
      }
      for (const auto& [label, label_values] : values) {
        if (kClosedSetLabels.count(label) == 0) continue;
        for (const auto& value : label_values) {
          BOOST_TEST(family.mentioned.count(value) == 1u,
                     name << " is rendered with " << label << "=\"" << value
                          << "\", which its README row does not name: add `" << value << "`");
        }
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
