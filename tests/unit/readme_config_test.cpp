// Keeps the README's YAML config examples true: each loads through the strict loader, the
// "Configuration" example shows the loader's defaults, and together they show every key the
// loader accepts (config::configKeyPaths()).
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/readme_util.h"

namespace {

namespace fs = std::filesystem;

// The README sections whose ```yaml blocks are exporter configs.
const char* const kConfigSections[] = {"Configuration", "Enterprise mode"};

struct Example {
  std::string section;
  std::string yaml;
};

std::vector<Example> readmeConfigExamples() {
  const std::string readme = hme::test::readmeText();
  std::vector<Example> examples;
  for (const char* section : kConfigSections) {
    for (auto& yaml : hme::test::fencedBlocks(hme::test::readmeSection(readme, section), "yaml")) {
      examples.push_back({section, std::move(yaml)});
    }
  }
  return examples;
}

// The examples name secret files under /run/secrets/ and ${VAR}s: the test provides both, so
// that what fails to load is the example itself.
class SecretsProvided {
 public:
  SecretsProvided()
      : dir_(fs::temp_directory_path() / ("hme_readme_config_" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~SecretsProvided() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  SecretsProvided(const SecretsProvided&) = delete;
  SecretsProvided& operator=(const SecretsProvided&) = delete;

  std::string prepare(const std::string& yaml) {
    static const std::regex secret_file(R"(/run/secrets/([A-Za-z0-9._-]+))");
    for (std::sregex_iterator it(yaml.begin(), yaml.end(), secret_file), end; it != end; ++it) {
      std::ofstream(dir_ / (*it)[1].str()) << "readme-example-secret\n";
    }
    static const std::regex variable(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
    for (std::sregex_iterator it(yaml.begin(), yaml.end(), variable), end; it != end; ++it) {
      ::setenv((*it)[1].str().c_str(), "readme-example-secret", 0);
    }
    return std::regex_replace(yaml, std::regex("/run/secrets/"), dir_.string() + "/");
  }

 private:
  fs::path dir_;
};

// Every map key in the document as a path like configKeyPaths() writes it (`meetings[].id`).
void collectKeyPaths(const YAML::Node& node, const std::string& path, std::set<std::string>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      const std::string key_path = (path.empty() ? "" : path + ".") + entry.first.Scalar();
      out.insert(key_path);
      collectKeyPaths(entry.second, key_path, out);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) collectKeyPaths(item, path + "[]", out);
  }
}

// A key that has an alternative is shown with it in a comment on its line,
// `app_key_file: …  # or  app_key: ${VAR}`: the alternative counts as shown, beside the key.
void collectAlternatives(const std::string& yaml, std::set<std::string>& shown) {
  static const std::regex alternative(R"(^\s*([A-Za-z_]+):[^#]*#\s*or\s+([A-Za-z_]+):)");
  std::set<std::string> found;
  std::istringstream lines(yaml);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (!std::regex_search(line, match, alternative)) continue;
    const std::string key = match[1];
    for (const std::string& path : shown) {
      const auto dot = path.rfind('.');
      const std::string leaf = dot == std::string::npos ? path : path.substr(dot + 1);
      if (leaf == key) found.insert(path.substr(0, path.size() - key.size()) + match[2].str());
    }
  }
  shown.insert(found.begin(), found.end());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readme)

BOOST_AUTO_TEST_CASE(config_examples_load) {
  const auto examples = readmeConfigExamples();
  BOOST_TEST(examples.size() >= 2u);
  SecretsProvided secrets;
  for (const auto& example : examples) {
    try {
      hme::config::loadConfigText(secrets.prepare(example.yaml), "");
    } catch (const hme::config::ConfigError& e) {
      BOOST_ERROR("a YAML example in README.md's \"" << example.section
                                                     << "\" section does not load: " << e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(configuration_example_shows_the_defaults) {
  const auto examples = readmeConfigExamples();
  BOOST_REQUIRE(!examples.empty());
  BOOST_REQUIRE(examples.front().section == "Configuration");
  SecretsProvided secrets;
  const auto shown = hme::config::loadConfigText(secrets.prepare(examples.front().yaml), "");
  const hme::config::Config defaults;
  auto described = [](hme::config::Config config) {
    config.meetings.clear();
    return hme::config::describe(config);
  };
  const bool same = shown.api == defaults.api && shown.session == defaults.session &&
                    shown.metrics == defaults.metrics && shown.sharding == defaults.sharding;
  BOOST_TEST(same,
             "README.md's \"Configuration\" example says its values are the defaults, but "
             "it loads as\n  "
                 << described(shown) << "\nand the loader's defaults are\n  "
                 << described(defaults));
}

BOOST_AUTO_TEST_CASE(config_examples_show_every_key_the_loader_accepts) {
  std::set<std::string> shown;
  for (const auto& example : readmeConfigExamples()) {
    std::set<std::string> keys;
    try {
      collectKeyPaths(YAML::Load(example.yaml), "", keys);
    } catch (const YAML::Exception& e) {
      BOOST_ERROR("a YAML example in README.md's \"" << example.section
                                                     << "\" section is not YAML: " << e.what());
    }
    collectAlternatives(example.yaml, keys);
    shown.insert(keys.begin(), keys.end());
  }
  const auto& accepted = hme::config::configKeyPaths();
  BOOST_TEST(accepted.size() >= 40u);
  for (const std::string& key : accepted) {
    BOOST_TEST(shown.count(key) == 1u,
               "config key " << key
                             << " is accepted by the loader but shown in no YAML example of "
                                "README.md (sections \"Configuration\", \"Enterprise mode\")");
  }
  for (const std::string& key : shown) {
    const bool accepted_key = std::find(accepted.begin(), accepted.end(), key) != accepted.end();
    BOOST_TEST(accepted_key,
               "README.md's YAML examples show the key " << key << ", which the loader rejects");
  }
}

BOOST_AUTO_TEST_SUITE_END()
