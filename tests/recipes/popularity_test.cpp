// SPDX-License-Identifier: MIT
// popularity-count and trending-now.
#include "tailor/recipes/popularity.hpp"

#include <gtest/gtest.h>

#include "tailor/error.hpp"

namespace tailor {
namespace {

TrainingData events(std::vector<Index> us, std::vector<Index> is, std::vector<std::int64_t> ts,
                    Index users = 10, Index items = 5) {
  std::vector<float> ws(us.size(), 1);
  return TrainingData::build(users, items, std::move(us), std::move(is), std::move(ts),
                             std::move(ws));
}

TEST(RecipesPopularity, CountsDistinctUsers) {
  // Item 0: user 1 five times. Item 1: three different users. Item 2: two users.
  TrainingData d = events({1, 1, 1, 1, 1, 2, 3, 4, 5, 6}, {0, 0, 0, 0, 0, 1, 1, 1, 2, 2},
                          {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  auto model = PopularityRecipe().train(d, {});
  const auto& pop = dynamic_cast<const ItemScoreModel&>(*model);
  EXPECT_FLOAT_EQ(pop.scores()[0], 1);
  EXPECT_FLOAT_EQ(pop.scores()[1], 3);
  EXPECT_FLOAT_EQ(pop.scores()[2], 2);
  std::vector<ScoredItem> top;
  model->recommend({}, 3, {}, top);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, 1u);
  EXPECT_EQ(top[1].item, 2u);
  EXPECT_EQ(top[2].item, 0u);
  std::vector<Index> excluded = {1};
  Bitmap allowed(5, true);
  allowed.reset(2);
  model->recommend({}, 2, {&allowed, excluded}, top);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].item, 0u);  // 1 excluded, 2 not allowed
  EXPECT_EQ(top[1].item, 3u);  // zero-score items keep index order
  EXPECT_FALSE(model->personalized());
}

TEST(RecipesPopularity, TimeDecayHalvesPerHalfLife) {
  const std::int64_t day = 86400;
  TrainingData d = events({1, 2}, {0, 1}, {0, 10 * day});
  PopularityParams p;
  p.half_life_days = 10;
  auto model = PopularityRecipe(p).train(d, {});
  const auto& pop = dynamic_cast<const ItemScoreModel&>(*model);
  EXPECT_NEAR(pop.scores()[0], 0.5, 1e-6);
  EXPECT_NEAR(pop.scores()[1], 1.0, 1e-6);
}

TEST(RecipesTrending, RanksTheLargestRise) {
  const std::int64_t hour = 3600;
  // now = 10h. Window 3h: latest (7h, 10h], previous (4h, 7h].
  // Item 0: 3 before, 3 now (no rise). Item 1: 0 before, 2 now. Item 2: 4 before, 1 now.
  TrainingData d =
      events({1, 2, 3, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5}, {0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2},
             {5 * hour, 5 * hour, 6 * hour, 8 * hour, 9 * hour, 10 * hour, 9 * hour, 10 * hour,
              5 * hour, 5 * hour, 6 * hour, 6 * hour, 9 * hour});
  auto model = TrendingRecipe().train(d, {});
  const auto& t = dynamic_cast<const ItemScoreModel&>(*model);
  EXPECT_FLOAT_EQ(t.scores()[0], 0);
  EXPECT_FLOAT_EQ(t.scores()[1], 2);
  EXPECT_FLOAT_EQ(t.scores()[2], -3);
  std::vector<ScoredItem> top;
  model->recommend({}, 1, {}, top);
  EXPECT_EQ(top[0].item, 1u);
  EXPECT_THROW(TrendingParams::from_json(R"({"window_hours": 0})"), Error);
}

}  // namespace
}  // namespace tailor
