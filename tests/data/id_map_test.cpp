// SPDX-License-Identifier: MIT
// IdMap against std::unordered_map as the obvious reference (filled through the library's
// DataAccess: users only read IdMaps).
#include "tailor/data/id_map.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <unordered_map>

#include "data/data_access.hpp"

namespace tailor {
namespace {

using detail::DataAccess;

TEST(DataIdMap, AssignsDenseIndicesInFirstSeenOrder) {
  IdMap m;
  EXPECT_EQ(m.find("a"), kNoIndex);
  EXPECT_EQ(DataAccess::insert(m, "u1"), 0u);
  EXPECT_EQ(DataAccess::insert(m, "u2"), 1u);
  EXPECT_EQ(DataAccess::insert(m, "u1"), 0u);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.name(1), "u2");
  EXPECT_EQ(m.find("u2"), 1u);
  EXPECT_EQ(m.find("u3"), kNoIndex);
}

TEST(DataIdMap, DistinguishesIdsSharingAnEightBytePrefix) {
  IdMap m;
  Index a = DataAccess::insert(m, "prefix-12-a-long-id");
  Index b = DataAccess::insert(m, "prefix-12-b-long-id");
  Index c = DataAccess::insert(m, "prefix-1");
  Index d = DataAccess::insert(m, "prefix-1");
  EXPECT_NE(a, b);
  EXPECT_EQ(c, d);
  EXPECT_EQ(m.find("prefix-12-a-long-id"), a);
  EXPECT_EQ(m.find("prefix-12-c-long-id"), kNoIndex);
  EXPECT_EQ(DataAccess::insert(m, std::string_view("")),
            3u);  // the empty string is an id like any other
  EXPECT_EQ(m.find(""), 3u);
}

TEST(DataIdMap, MatchesAReferenceMapOnManyRandomIds) {
  std::mt19937_64 rng(7);
  IdMap m;
  std::unordered_map<std::string, Index> reference;
  for (int i = 0; i < 200000; ++i) {
    std::string id = "id" + std::to_string(rng() % 50000);
    if (rng() % 3 == 0) id += std::string(rng() % 20, 'x');
    Index expected = reference.emplace(id, static_cast<Index>(reference.size())).first->second;
    ASSERT_EQ(DataAccess::insert(m, id), expected);
  }
  ASSERT_EQ(m.size(), reference.size());
  for (const auto& [id, index] : reference) {
    ASSERT_EQ(m.find(id), index);
    ASSERT_EQ(m.name(index), id);
  }
  DataAccess::clear(m);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.find("id1"), kNoIndex);
}

TEST(DataIdMap, ReserveKeepsContents) {
  IdMap m;
  DataAccess::insert(m, "a");
  DataAccess::insert(m, "b");
  DataAccess::reserve(m, 100000, 1000000);
  EXPECT_EQ(m.find("b"), 1u);
  EXPECT_GT(m.memory_bytes(), 100000u);
}

// The hash as first written (word by word, the tail copied into a zero word): event ids in
// snapshots and the checksums of every file are these values, so they must never change.
std::uint64_t reference_hash(std::string_view s) {
  auto mix = [](std::uint64_t a, std::uint64_t b) {
    __uint128_t r = static_cast<__uint128_t>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
  };
  constexpr std::uint64_t p0 = 0xa0761d6478bd642fULL, p1 = 0xe7037ed1a0b428dbULL;
  std::uint64_t h = p0 ^ (s.size() * p1);
  std::size_t k = 0;
  for (; k + 8 <= s.size(); k += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + k, 8);
    h = mix(h ^ w, p1);
  }
  if (k < s.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + k, s.size() - k);
    h = mix(h ^ w, p0);
  }
  return mix(h, p1 ^ 0x8ebc6af09c88c6e3ULL);
}

TEST(DataIdMap, TheHashOfEveryLengthIsTheOriginalOne) {
  std::mt19937 rng(5);
  std::string bytes(100, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t n = 0; offset + n <= 48; ++n) {
      const std::string_view s(bytes.data() + offset, n);
      EXPECT_EQ(IdMap::hash(s), reference_hash(s)) << n << " bytes at " << offset;
    }
  }
  EXPECT_EQ(IdMap::hash("user-1"), reference_hash("user-1"));
}

}  // namespace
}  // namespace tailor
