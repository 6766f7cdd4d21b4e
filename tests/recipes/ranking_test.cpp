// SPDX-License-Identifier: MIT
// Ranking a candidate list: known items by score, unknown ones appended, flagged.
#include "tailor/recipes/ranking.hpp"

#include <gtest/gtest.h>

#include "tailor/recipes/popularity.hpp"

namespace tailor {
namespace {

TEST(RecipesRanking, OrdersKnownItemsAndAppendsUnknownOnes) {
  ItemScoreModel model("test", {0.1f, 0.9f, 0.5f, 0.5f});
  std::vector<Index> candidates = {0, 7, 2, kNoIndex, 1, 3};
  std::vector<RankedItem> ranked = rank_items(model, {}, candidates);
  ASSERT_EQ(ranked.size(), 6u);
  EXPECT_EQ(ranked[0].item, 1u);
  EXPECT_EQ(ranked[1].item, 2u);  // ties keep the given order
  EXPECT_EQ(ranked[2].item, 3u);
  EXPECT_EQ(ranked[3].item, 0u);
  EXPECT_TRUE(ranked[3].known);
  EXPECT_EQ(ranked[4].item, 7u);
  EXPECT_FALSE(ranked[4].known);
  EXPECT_EQ(ranked[5].item, kNoIndex);
  EXPECT_FALSE(ranked[5].known);
  EXPECT_TRUE(rank_items(model, {}, {}).empty());
}

}  // namespace
}  // namespace tailor
