// SPDX-License-Identifier: MIT
// Model::without (data deletion): every recipe's copy forgets the users and items, never
// recommends the items, answers as before for everything else, and saves no trace of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/random_data.hpp"
#include "persistence/serialize.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"
#include "tailor/recipes/ranking.hpp"

namespace tailor {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

using test::random_data;

std::vector<Index> recommended(const Model& m, const UserQuery& q, std::size_t k) {
  std::vector<ScoredItem> out;
  m.recommend(q, k, {}, out);
  std::vector<Index> items;
  for (const ScoredItem& s : out) items.push_back(s.item);
  return items;
}

bool has(const std::vector<Index>& v, Index x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string saved(std::shared_ptr<const Model> model) {
  SolutionConfig config{"s", model->recipe(), "{}", {}};
  SolutionVersion v(std::move(config), TrainingMode::Full, std::move(model), std::nullopt,
                    std::nullopt, 0);
  return detail::serialize_version(v);
}

std::shared_ptr<const Model> reloaded(const std::string& bytes) {
  return detail::deserialize_version(bytes, "version").model();
}

// The bytes of a factor row, to search a saved model for.
std::string row_bytes(const FactorMatrix& m, Index row) {
  return std::string(reinterpret_cast<const char*>(m.row(row).data()), sizeof(float) * m.cols());
}

// --- user-personalization and personalized-ranking (ALS) --------------------------------------

class RecipesWithoutAls : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = random_data(60, 50, 0.08, 11);
    AlsParams p;
    p.factors = 8;
    p.iterations = 5;
    original_ = AlsRecipe(p).train(data_, {});
  }
  const AlsModel& original() const { return dynamic_cast<const AlsModel&>(*original_); }
  TrainingData data_;
  std::shared_ptr<const Model> original_;
};

TEST_F(RecipesWithoutAls, ZeroesTheRowsAndNeverRecommendsTheItems) {
  const std::vector<Index> users = {4, 9}, items = {0, 17};
  const auto copy = original().without(users, items);
  const auto& als = dynamic_cast<const AlsModel&>(*copy);
  EXPECT_EQ(als.removed_items(), items);
  EXPECT_EQ(als.num_items(), original().num_items());
  EXPECT_EQ(als.num_users(), original().num_users());
  for (Index u = 0; u < als.num_users(); ++u) {
    if (has(users, u))
      EXPECT_TRUE(als.user_factors().row(u).isZero(0)) << u;
    else
      EXPECT_EQ(als.user_factors().row(u), original().user_factors().row(u)) << u;
  }
  for (Index i = 0; i < als.num_items(); ++i) {
    if (has(items, i))
      EXPECT_TRUE(als.item_factors().row(i).isZero(0)) << i;
    else
      EXPECT_EQ(als.item_factors().row(i), original().item_factors().row(i)) << i;
  }
  std::vector<float> before, after, approximate, picked;
  for (Index u = 0; u < als.num_users(); ++u) {
    if (has(users, u)) continue;
    UserQuery q;
    q.user = u;
    const std::vector<Index> all = recommended(als, q, als.num_items());
    EXPECT_EQ(all.size(), als.num_items() - items.size()) << u;
    for (Index i : items) EXPECT_FALSE(has(all, i)) << u;
    // Every other score is the untouched model's, on every path.
    original().score_all(q, before);
    als.score_all(q, after);
    const auto scorer = als.scorer(q);
    const ScoreBound bound = scorer->approximate_scores(approximate);
    scorer->score(std::vector<Index>{0, 1, 17}, picked);
    EXPECT_EQ(picked, (std::vector<float>{kMinusInf, after[1], kMinusInf}));
    for (Index i = 0; i < als.num_items(); ++i) {
      if (has(items, i)) {
        EXPECT_EQ(after[i], kMinusInf);
        EXPECT_EQ(approximate[i], kMinusInf);
      } else {
        EXPECT_EQ(after[i], before[i]) << u << " " << i;
        EXPECT_LE(std::fabs(approximate[i] - after[i]), bound.of(i) + 1e-6f);
      }
    }
  }
  // Batch scoring too.
  std::vector<float> block(2 * 64);
  als.score_block(als.user_factors().data(), 2, 0, 50, block.data(), 64);
  for (int j = 0; j < 2; ++j) {
    EXPECT_EQ(block[j * 64 + 0], kMinusInf);
    EXPECT_EQ(block[j * 64 + 17], kMinusInf);
    EXPECT_NE(block[j * 64 + 1], kMinusInf);
  }
}

TEST_F(RecipesWithoutAls, AFoldedInUserNeverGetsTheItemsEither) {
  const auto copy = original().without({}, std::vector<Index>{2});
  UserQuery q;
  const std::vector<Index> history = {1, 3, 5};  // a span refers to it: it must outlive q
  q.history = history;
  const std::vector<Index> all = recommended(*copy, q, 50);
  EXPECT_EQ(all.size(), 49u);
  EXPECT_FALSE(has(all, 2));
}

TEST_F(RecipesWithoutAls, RemovalsAccumulateIgnoreUnknownIndicesAndSurviveUpdate) {
  const auto once = original().without(std::vector<Index>{1}, std::vector<Index>{3, 999});
  const auto twice = once->without(std::vector<Index>{12345}, std::vector<Index>{7, 3});
  const auto& als = dynamic_cast<const AlsModel&>(*twice);
  EXPECT_EQ(als.removed_items(), (std::vector<Index>{3, 7}));
  EXPECT_TRUE(als.user_factors().row(1).isZero(0));
  AlsParams p = original().params();
  const auto updated = AlsRecipe(p).update(als, random_data(70, 55, 0.08, 12), {});
  EXPECT_EQ(dynamic_cast<const AlsModel&>(*updated).removed_items(), (std::vector<Index>{3, 7}));
  UserQuery q;
  q.user = 65;  // a user the update added
  const std::vector<Index> all = recommended(*updated, q, 55);
  EXPECT_FALSE(has(all, 3));
  EXPECT_FALSE(has(all, 7));
  EXPECT_EQ(all.size(), 53u);
}

TEST_F(RecipesWithoutAls, SavedCopyHoldsNoFactorOfTheRowsAndStillExcludesTheItems) {
  const Index user = 5, item = 1;
  const std::string original_bytes = saved(original_);
  ASSERT_NE(original_bytes.find(row_bytes(original().user_factors(), user)), std::string::npos);
  ASSERT_NE(original_bytes.find(row_bytes(original().item_factors(), item)), std::string::npos);
  const auto copy = original().without(std::vector<Index>{user}, std::vector<Index>{item});
  const std::string bytes = saved(copy);
  EXPECT_EQ(bytes.find(row_bytes(original().user_factors(), user)), std::string::npos);
  EXPECT_EQ(bytes.find(row_bytes(original().item_factors(), item)), std::string::npos);
  const auto back = reloaded(bytes);
  const auto& als = dynamic_cast<const AlsModel&>(*back);
  EXPECT_EQ(als.removed_items(), std::vector<Index>{item});
  UserQuery q;
  q.user = 0;
  EXPECT_FALSE(has(recommended(als, q, 50), item));
  std::vector<float> expected, actual;
  copy->score_all(q, expected);
  als.score_all(q, actual);
  EXPECT_EQ(actual, expected);
}

TEST_F(RecipesWithoutAls, PersonalizedRankingPutsARemovedCandidateLastAsUnknown) {
  const auto copy = original().without({}, std::vector<Index>{2});
  UserQuery q;
  q.user = 0;
  const std::vector<RankedItem> ranked = rank_items(*copy, q, std::vector<Index>{2, 4, 6});
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked.back().item, 2u);
  EXPECT_FALSE(ranked.back().known);
  EXPECT_TRUE(ranked[0].known && ranked[1].known);
  const std::vector<RankedItem> untouched = rank_items(original(), q, std::vector<Index>{4, 6});
  EXPECT_EQ(ranked[0].item, untouched[0].item);
  EXPECT_EQ(ranked[0].score, untouched[0].score);
}

// --- sims (item-kNN) --------------------------------------------------------------------------

TEST(RecipesWithout, ItemKnnDropsTheItemFromEveryListAndNeverRecommendsIt) {
  const TrainingData data = random_data(80, 40, 0.1, 5);
  ItemKnnParams p;
  p.neighbors = 10;
  p.min_cointeraction_count = 1;
  p.max_user_history_length_percentile = 1.0f;
  const auto original_model = ItemKnnRecipe(p).train(data, {});
  const auto& original = dynamic_cast<const ItemKnnModel&>(*original_model);
  // An item that has neighbours and is a neighbour of others.
  Index gone = kNoIndex;
  std::size_t appearances = 0;
  for (Index i = 0; i < original.num_items() && gone == kNoIndex; ++i) {
    std::size_t n = 0;
    for (Index j = 0; j < original.num_items(); ++j) {
      for (Index x : original.neighbors(j)) n += x == i;
    }
    if (n > 2 && !original.neighbors(i).empty()) {
      gone = i;
      appearances = n;
    }
  }
  ASSERT_NE(gone, kNoIndex);
  ASSERT_GT(appearances, 0u);
  const auto copy_model = original.without(std::vector<Index>{0, 1}, std::vector<Index>{gone});
  const auto& copy = dynamic_cast<const ItemKnnModel&>(*copy_model);
  EXPECT_TRUE(copy.neighbors(gone).empty());
  EXPECT_EQ(copy.popularity()[gone], kMinusInf);
  for (Index j = 0; j < copy.num_items(); ++j) {
    if (j == gone) continue;
    // The same list in the same order, less the item.
    std::vector<Index> expected;
    std::vector<float> expected_sims;
    for (std::size_t e = 0; e < original.neighbors(j).size(); ++e) {
      if (original.neighbors(j)[e] == gone) continue;
      expected.push_back(original.neighbors(j)[e]);
      expected_sims.push_back(original.similarities(j)[e]);
    }
    EXPECT_EQ(std::vector<Index>(copy.neighbors(j).begin(), copy.neighbors(j).end()), expected)
        << j;
    EXPECT_EQ(std::vector<float>(copy.similarities(j).begin(), copy.similarities(j).end()),
              expected_sims);
    EXPECT_EQ(copy.popularity()[j], original.popularity()[j]);
    std::vector<ScoredItem> similar;
    copy.similar_items(j, copy.num_items(), {}, similar);
    EXPECT_EQ(similar.size(), copy.num_items() - 2u);  // all but the item itself and the removed
    for (const ScoredItem& s : similar) EXPECT_NE(s.item, gone);
  }
  std::vector<ScoredItem> similar;
  copy.similar_items(gone, 5, {}, similar);
  EXPECT_EQ(similar.size(), 5u);
  for (const ScoredItem& s : similar) EXPECT_NE(s.item, gone);
  // Histories that pointed at it, and the popularity back-fill, never bring it back.
  for (Index u = 0; u < data.num_users; ++u) {
    UserQuery q;
    std::vector<Index> history(
        data.user_items.begin() + static_cast<std::ptrdiff_t>(data.user_offsets[u]),
        data.user_items.begin() + static_cast<std::ptrdiff_t>(data.user_offsets[u + 1]));
    q.history = history;
    const std::vector<Index> all = recommended(copy, q, copy.num_items());
    EXPECT_FALSE(has(all, gone)) << u;
    EXPECT_EQ(all.size(), copy.num_items() - 1u);
    std::vector<float> scores;
    copy.score_all(q, scores);
    EXPECT_EQ(scores[gone], kMinusInf);
  }
  // Saved and loaded, it is the same copy.
  const auto back = reloaded(saved(copy_model));
  const auto& knn = dynamic_cast<const ItemKnnModel&>(*back);
  EXPECT_TRUE(knn.neighbors(gone).empty());
  UserQuery q;
  const std::vector<Index> history = {original.neighbors(gone)[0]};  // q.history refers to it
  q.history = history;
  EXPECT_FALSE(has(recommended(knn, q, knn.num_items()), gone));
}

// --- popularity-count and trending-now ---------------------------------------------------------

TEST(RecipesWithout, PopularityAndTrendingNeverRankTheItems) {
  const TrainingData data = random_data(50, 30, 0.1, 9);
  TrendingParams trending;
  trending.window_hours = 6;
  const std::vector<std::shared_ptr<const Model>> models = {
      PopularityRecipe().train(data, {}), TrendingRecipe(trending).train(data, {})};
  for (const auto& model : models) {
    const auto& original = dynamic_cast<const ItemScoreModel&>(*model);
    const std::vector<Index> gone = {0, 4};  // the most popular items
    const std::vector<Index> before = recommended(original, {}, 3);
    const auto copy = original.without(std::vector<Index>{0}, gone);
    const auto& scores = dynamic_cast<const ItemScoreModel&>(*copy).scores();
    for (Index i = 0; i < original.num_items(); ++i) {
      EXPECT_EQ(scores[i], has(gone, i) ? kMinusInf : original.scores()[i])
          << model->recipe() << " " << i;
    }
    const std::vector<Index> all = recommended(*copy, {}, copy->num_items());
    EXPECT_EQ(all.size(), copy->num_items() - gone.size()) << model->recipe();
    for (Index i : gone) EXPECT_FALSE(has(all, i)) << model->recipe();
    // The rest keep their order.
    std::vector<Index> expected = recommended(original, {}, original.num_items());
    expected.erase(
        std::remove_if(expected.begin(), expected.end(), [&](Index i) { return has(gone, i); }),
        expected.end());
    EXPECT_EQ(all, expected) << model->recipe();
    const auto back = reloaded(saved(copy));
    EXPECT_EQ(recommended(*back, {}, back->num_items()), expected) << model->recipe();
  }
}

// --- a model that cannot forget -----------------------------------------------------------------

class FixedModel : public Model {
 public:
  const std::string& recipe() const override { return name_; }
  Index num_items() const override { return 2; }
  Index num_users() const override { return 0; }
  bool personalized() const override { return false; }
  void score_all(const UserQuery&, std::vector<float>& scores) const override { scores = {1, 2}; }

 private:
  std::string name_ = "fixed";
};

TEST(RecipesWithout, AModelThatCannotForgetSaysSo) {
  FixedModel m;
  EXPECT_THROW(m.without({}, std::vector<Index>{1}), Error);
}

}  // namespace
}  // namespace tailor
