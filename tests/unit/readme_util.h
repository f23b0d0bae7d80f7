#pragma once
/// Reading README.md for the tests that keep it true (readme_*_test.cpp): its sections, its
/// Markdown tables and its fenced code blocks.

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace hme::test {

/// The whole text of a file; fails the test when it cannot be read.
inline std::string readTextFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The project's README.md.
inline std::string readmeText() {
  return readTextFile(std::filesystem::path(HME_TESTDATA_DIR) / "../../README.md");
}

/// The README section whose `## ` heading starts with `heading`, up to the next `## ` heading;
/// fails the test when there is none.
inline std::string readmeSection(const std::string& readme, const std::string& heading) {
  const auto begin = readme.find("\n## " + heading);
  BOOST_REQUIRE_MESSAGE(begin != std::string::npos,
                        "README.md has no section \"## " << heading << "\"");
  const auto end = readme.find("\n## ", begin + 1);
  return readme.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

/// The cells of each Markdown table row in `text` that starts with "| `" (header and separator
/// rows do not), trimmed; `\|` inside a cell is a literal bar.
inline std::vector<std::vector<std::string>> tableRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
        cell += '|';
        ++i;
      } else if (line[i] == '|') {
        const auto first = cell.find_first_not_of(' ');
        const auto last = cell.find_last_not_of(' ');
        cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

/// The `code` spans of a Markdown text, in order, without their backticks.
inline std::vector<std::string> codeSpans(const std::string& text) {
  std::vector<std::string> spans;
  for (std::size_t open = text.find('`'); open != std::string::npos;) {
    const std::size_t close = text.find('`', open + 1);
    if (close == std::string::npos) break;
    spans.push_back(text.substr(open + 1, close - open - 1));
    open = text.find('`', close + 1);
  }
  return spans;
}

/// The bodies of the fenced code blocks of `text` opened with "```" + `language`.
inline std::vector<std::string> fencedBlocks(const std::string& text, const std::string& language) {
  std::vector<std::string> blocks;
  const std::string fence = "\n```" + language + "\n";
  for (std::size_t open = text.find(fence); open != std::string::npos;
       open = text.find(fence, open + 1)) {
    const std::size_t body = open + fence.size();
    const std::size_t close = text.find("\n```", body - 1);
    if (close == std::string::npos) break;
    blocks.push_back(text.substr(body, close + 1 - body));
    open = close;
  }
  return blocks;
}

}  // namespace hme::test
