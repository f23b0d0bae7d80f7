// Horizontal scale (config/shard.h, `sharding:` in the config, `--shard=i/n`): the hash is the
// published FNV-1a 64 and jump consistent hash, every meeting has exactly one owner, and both
// ways of saying which replica this is are validated with exact messages.

#include "config/shard.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugin/app/cli.h"

namespace {

namespace cfg = hme::config;

const std::string kDir = std::string(HME_TESTDATA_DIR) + "/config/sharding";

std::string loadError(const std::string& file) {
  try {
    cfg::loadConfigFile(kDir + "/" + file);
  } catch (const cfg::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string shardError(const std::string& text) {
  try {
    cfg::parseShard(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::string> meetingIds(std::size_t count) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < count; ++i) ids.push_back(std::to_string(900000000 + i * 7919));
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shard)

BOOST_AUTO_TEST_CASE(fnv1a64_matches_the_published_vectors) {
  static_assert(cfg::fnv1a64("") == 0xcbf29ce484222325ULL);
  BOOST_TEST(cfg::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  BOOST_TEST(cfg::fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

BOOST_AUTO_TEST_CASE(assignments_are_pinned) {
  // A change of algorithm would move meetings between running replicas: these must not change.
  BOOST_TEST(cfg::jumpHash(0, 1) == 0u);
  BOOST_TEST(cfg::jumpHash(12345, 0) == 0u);
  std::vector<std::size_t> pinned;
  for (const char* id : {"900964776", "900964777", "900964778", "1", "987654321"}) {
    pinned.push_back(cfg::shardOf(id, 3));
  }
  const std::vector<std::size_t> expected = {2, 0, 2, 2, 2};
  BOOST_TEST(pinned == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(every_meeting_has_exactly_one_owner_and_shares_are_even) {
  const auto ids = meetingIds(3000);
  for (std::size_t count : {1u, 2u, 3u, 7u}) {
    BOOST_TEST_CONTEXT(count << " replicas") {
      std::vector<std::size_t> per_shard(count);
      for (const auto& id : ids) {
        std::size_t owners = 0;
        for (std::size_t index = 0; index < count; ++index) {
          if (cfg::ownsMeeting({index, count}, id)) {
            ++owners;
            ++per_shard[index];
          }
        }
        BOOST_TEST(owners == 1u, id);
      }
      for (std::size_t share : per_shard) {
        // Within 15 % of an even split.
        BOOST_TEST(share * count * 100 >= ids.size() * 85);
        BOOST_TEST(share * count * 100 <= ids.size() * 115);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(growing_the_fleet_moves_only_meetings_to_the_new_replica) {
  const auto ids = meetingIds(3000);
  for (std::size_t count = 1; count < 8; ++count) {
    std::size_t moved = 0;
    for (const auto& id : ids) {
      const std::size_t before = cfg::shardOf(id, count);
      const std::size_t after = cfg::shardOf(id, count + 1);
      BOOST_TEST((after == before || after == count), id);
      moved += after != before ? 1 : 0;
    }
    // About 1/(count+1) of the meetings move.
    BOOST_TEST(moved * (count + 1) * 100 >= ids.size() * 80);
    BOOST_TEST(moved * (count + 1) * 100 <= ids.size() * 120);
  }
}

BOOST_AUTO_TEST_CASE(parse_shard_accepts_index_slash_count) {
  const auto shard = cfg::parseShard("2/5");
  BOOST_TEST(shard.index == 2u);
  BOOST_TEST(shard.count == 5u);
  BOOST_TEST(cfg::parseShard("0/1").count == 1u);
  BOOST_TEST(shardError("3/3") == "index must be below count (3), got 3");
  BOOST_TEST(shardError("0/0") == "count must be between 1 and 65536, got 0");
  BOOST_TEST(shardError("0/70000") == "count must be between 1 and 65536, got 70000");
  for (const char* bad : {"1", "a/b", "-1/3", "1/3x", "/3", "1/", "", "1//3", "9999999/99999999"}) {
    BOOST_TEST(shardError(bad) ==
               std::string("expected index/count like 0/3, got \"") + bad + "\"");
  }
}

BOOST_AUTO_TEST_CASE(shard_flag_is_parsed_and_validated) {
  BOOST_TEST(!hme::app::parseCommandLine({}).shard.has_value());
  const auto parsed = hme::app::parseCommandLine({"--shard=1/3"});
  BOOST_TEST_REQUIRE(parsed.shard.has_value());
  BOOST_TEST(parsed.shard->index == 1u);
  BOOST_TEST(parsed.shard->count == 3u);
  BOOST_TEST(hme::app::parseCommandLine({"--shard", "0/2"}).shard->count == 2u);
  try {
    hme::app::parseCommandLine({"--shard=3/3"});
    BOOST_FAIL("--shard=3/3 was accepted");
  } catch (const hme::app::UsageError& e) {
    BOOST_TEST(std::string(e.what()) == "--shard: index must be below count (3), got 3");
  }
  BOOST_TEST(hme::app::usageText().find("--shard=I/N") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(config_section_is_loaded_and_described) {
  const auto config = cfg::loadConfigFile(kDir + "/valid.yml");
  BOOST_TEST(config.sharding.index == 1u);
  BOOST_TEST(config.sharding.count == 3u);
  BOOST_TEST(cfg::describe(config).find(" shard=1/3") != std::string::npos);
  BOOST_TEST(cfg::describe(cfg::Config{}).find("shard=") == std::string::npos);
  cfg::Config other = config;
  other.sharding.index = 2;
  BOOST_TEST((other != config));
  BOOST_TEST((cfg::loadConfigText("sharding:\n", "") == cfg::Config{}));
}

BOOST_AUTO_TEST_CASE(invalid_sharding_fixtures_fail_with_their_exact_message) {
  const std::map<std::string, std::string> cases = {
      {"invalid-index-too-large.yml", "sharding.index: must be below count (3), got 3"},
      {"invalid-count-zero.yml", "sharding.count: must be between 1 and 65536, got 0"},
      {"invalid-index-negative.yml", "sharding.index: must not be negative, got -1"},
      {"invalid-count-not-integer.yml", "sharding.count: expected an integer, got \"three\""},
      {"invalid-unknown-key.yml", "sharding.shard: unknown key (allowed: index, count)"},
      {"invalid-not-a-map.yml", "sharding: expected a map, got \"1/3\""},
      {"invalid-index-without-count.yml", "sharding.index: must be below count (1), got 2"},
  };
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("invalid-", 0) == 0) on_disk.insert(name);
  }
  BOOST_TEST(on_disk.size() == cases.size(), "every invalid fixture has a row");
  for (const auto& [file, message] : cases) {
    BOOST_TEST_CONTEXT(file) {
      BOOST_TEST(on_disk.count(file) == 1u);
      BOOST_TEST(loadError(file) == message);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
