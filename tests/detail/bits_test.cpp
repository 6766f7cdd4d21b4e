// SPDX-License-Identifier: MIT
// The portable bit helpers agree with a plain loop on edge and random words.
#include "tailor/detail/bits.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace tailor::detail {
namespace {

int slow_popcount(std::uint64_t x) {
  int n = 0;
  for (int i = 0; i < 64; ++i) n += static_cast<int>((x >> i) & 1);
  return n;
}

int slow_countr_zero(std::uint64_t x) {
  int n = 0;
  while (((x >> n) & 1) == 0) ++n;
  return n;
}

TEST(DetailBits, EdgeWords) {
  EXPECT_EQ(popcount64(0), 0);
  EXPECT_EQ(popcount64(~std::uint64_t{0}), 64);
  EXPECT_EQ(popcount64(std::uint64_t{1} << 63), 1);
  EXPECT_EQ(countr_zero64(1), 0);
  EXPECT_EQ(countr_zero64(std::uint64_t{1} << 63), 63);
  EXPECT_EQ(countr_zero64(0x8000'0000'0000'0100ull), 8);
}

TEST(DetailBits, AgreeWithLoopsOnRandomWords) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = rng() | 1ull << (i % 64);  // never 0, for countr_zero64
    ASSERT_EQ(popcount64(x), slow_popcount(x)) << x;
    ASSERT_EQ(countr_zero64(x), slow_countr_zero(x)) << x;
  }
}

TEST(DetailBits, PrefetchAcceptsAnyAddress) {
  // A hint only: it must neither fault nor change memory, even past the end of an array.
  const int values[2] = {7, 8};
  prefetch_read(values);
  prefetch_read(values + 2);
  prefetch_read(nullptr);
  EXPECT_EQ(values[0] + values[1], 15);
}

}  // namespace
}  // namespace tailor::detail
