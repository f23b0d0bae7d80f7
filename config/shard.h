#pragma once
/// Which replica runs which meeting (horizontal scale, docs/scaling.md). Pure and header-only so
/// that the command line, the supervisor and the tests share one definition.
///
/// The owner of a meeting is jump consistent hash (Lamping & Veach, 2014) of the FNV-1a 64-bit
/// hash of its meeting_id. Both are fixed algorithms — unlike std::hash, the result is the same
/// in every build, process and platform — and jump hash moves only about 1/n of the meetings
/// when the replica count grows from n − 1 to n.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.h"

namespace hme::config {

/// FNV-1a, 64-bit, over the bytes of `text`. Pure.
constexpr std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/// Jump consistent hash: the bucket in [0, buckets) of `key`; 0 when buckets is 0. Pure.
constexpr std::size_t jumpHash(std::uint64_t key, std::size_t buckets) {
  std::int64_t bucket = -1;
  std::int64_t next = 0;
  const auto limit = static_cast<std::int64_t>(buckets);
  while (next < limit) {
    bucket = next;
    key = key * 2862933555777941757ULL + 1;
    next = static_cast<std::int64_t>(
        static_cast<double>(bucket + 1) *
        (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return bucket < 0 ? 0 : static_cast<std::size_t>(bucket);
}

/// The replica (0 … count − 1) that runs `meeting_id` when `count` replicas share a config.
constexpr std::size_t shardOf(std::string_view meeting_id, std::size_t count) {
  return jumpHash(fnv1a64(meeting_id), count);
}

/// True when the replica described by `sharding` runs `meeting_id` (always, unsharded).
constexpr bool ownsMeeting(const ShardingConfig& sharding, std::string_view meeting_id) {
  return sharding.count <= 1 || shardOf(meeting_id, sharding.count) == sharding.index;
}

/// Parses `index/count` (e.g. `2/5`, as in `--shard=2/5`): decimal integers with
/// 0 ≤ index < count ≤ 65536. Throws std::invalid_argument with the reason.
inline ShardingConfig parseShard(std::string_view text) {
  const auto number = [&text](std::string_view digits) {
    if (digits.empty() || digits.size() > 6) {
      throw std::invalid_argument("expected index/count like 0/3, got \"" + std::string(text) +
                                  "\"");
    }
    std::size_t value = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') {
        throw std::invalid_argument("expected index/count like 0/3, got \"" + std::string(text) +
                                    "\"");
      }
      value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    return value;
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw std::invalid_argument("expected index/count like 0/3, got \"" + std::string(text) + "\"");
  }
  ShardingConfig sharding;
  sharding.index = number(text.substr(0, slash));
  sharding.count = number(text.substr(slash + 1));
  if (sharding.count < 1 || sharding.count > 65536) {
    throw std::invalid_argument("count must be between 1 and 65536, got " +
                                std::to_string(sharding.count));
  }
  if (sharding.index >= sharding.count) {
    throw std::invalid_argument("index must be below count (" + std::to_string(sharding.count) +
                                "), got " + std::to_string(sharding.index));
  }
  return sharding;
}

}  // namespace hme::config
