// SPDX-License-Identifier: MIT
// Vocabulary types: Span views and defaults.
#include "tailor/types.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tailor {
namespace {

TEST(DetailTypes, SpanViewsContainersWithoutCopying) {
  std::vector<Index> v = {3, 1, 4};
  Span<Index> s = v;
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.data(), v.data());
  EXPECT_EQ(s[2], 4u);
  Index sum = 0;
  for (Index x : s) sum += x;
  EXPECT_EQ(sum, 8u);
  EXPECT_TRUE(Span<Index>().empty());
  ExecutionOptions e;
  EXPECT_EQ(e.num_threads, 0);
  EXPECT_EQ(e.seed, 42u);
  EXPECT_EQ(kNoIndex, 0xFFFFFFFFu);
}

}  // namespace
}  // namespace tailor
