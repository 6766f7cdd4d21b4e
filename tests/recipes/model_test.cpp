// SPDX-License-Identifier: MIT
// The Model interface's default operations.
#include "tailor/recipes/model.hpp"

#include <gtest/gtest.h>

#include "tailor/error.hpp"
#include "tailor/recipes/popularity.hpp"

namespace tailor {
namespace {

// A model that only implements score_all, to exercise the defaults.
class FixedScores : public Model {
 public:
  const std::string& recipe() const override { return name_; }
  Index num_items() const override { return 4; }
  Index num_users() const override { return 0; }
  bool personalized() const override { return true; }
  void score_all(const UserQuery&, std::vector<float>& s) const override {
    s = {0.3f, 0.7f, 0.7f, 0.1f};
  }

 private:
  std::string name_ = "fixed";
};

TEST(RecipesModel, DefaultRecommendAndScore) {
  FixedScores m;
  std::vector<ScoredItem> top;
  m.recommend({}, 3, {}, top);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, 1u);  // tie with 2: lower index first
  EXPECT_EQ(top[1].item, 2u);
  EXPECT_EQ(top[2].item, 0u);
  std::vector<Index> excluded = {1, 9};
  m.recommend({}, 10, {nullptr, excluded}, top);
  EXPECT_EQ(top.size(), 3u);
  std::vector<Index> items = {3, 0};
  std::vector<float> scores;
  m.score({}, items, scores);
  EXPECT_FLOAT_EQ(scores[0], 0.1f);
  std::vector<Index> bad = {4};
  EXPECT_THROW(m.score({}, bad, scores), Error);
  EXPECT_FALSE(m.has_similar_items());
  EXPECT_THROW(m.similar_items(0, 1, {}, top), Error);
}

}  // namespace
}  // namespace tailor
