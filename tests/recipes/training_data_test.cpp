// SPDX-License-Identifier: MIT
// TrainingData: aggregation into CSR and its transpose.
#include "tailor/recipes/training_data.hpp"

#include <gtest/gtest.h>

#include "tailor/error.hpp"

namespace tailor {
namespace {

TEST(RecipesTrainingData, SumsRepeatedPairsInBothDirections) {
  TrainingData d = TrainingData::build(3, 4, {2, 0, 2, 0, 2}, {1, 3, 1, 0, 0}, {1, 2, 3, 4, 5},
                                       {1.0f, 2.0f, 0.5f, 1.0f, 4.0f});
  EXPECT_EQ(d.nnz(), 4u);
  EXPECT_EQ(d.user_offsets, (std::vector<std::size_t>{0, 2, 2, 4}));
  EXPECT_EQ(d.user_items, (std::vector<Index>{0, 3, 0, 1}));
  EXPECT_EQ(d.user_values, (std::vector<float>{1.0f, 2.0f, 4.0f, 1.5f}));
  EXPECT_EQ(d.item_offsets, (std::vector<std::size_t>{0, 2, 3, 3, 4}));
  EXPECT_EQ(d.item_users, (std::vector<Index>{0, 2, 2, 0}));
  EXPECT_EQ(d.item_values, (std::vector<float>{1.0f, 4.0f, 1.5f, 2.0f}));
  EXPECT_EQ(d.users.size(), 5u);
}

TEST(RecipesTrainingData, RejectsOutOfRangeAndRaggedInput) {
  EXPECT_THROW(TrainingData::build(2, 2, {0, 2}, {0, 1}, {0, 0}, {1, 1}), Error);
  EXPECT_THROW(TrainingData::build(2, 2, {0}, {0, 1}, {0}, {1}), Error);
}

}  // namespace
}  // namespace tailor
