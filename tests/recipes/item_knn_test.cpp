// SPDX-License-Identifier: MIT
// item-kNN against a brute-force similarity, and its fallbacks.
#include "tailor/recipes/item_knn.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "common/random_data.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

using test::random_data;

TEST(RecipesItemKnn, NeighboursMatchBruteForceCosine) {
  TrainingData d = random_data(50, 40, 0.1, 4);
  ItemKnnParams p;
  p.neighbors = 5;
  p.min_cointeraction_count = 2;
  p.max_user_history_length_percentile = 1.0f;
  auto model = ItemKnnRecipe(p).train(d, {});
  const auto& knn = dynamic_cast<const ItemKnnModel&>(*model);
  // Brute force: binary vectors, cosine, pairs with >= 2 shared users.
  auto users_of = [&](Index i) {
    return std::vector<Index>(
        d.item_users.begin() + static_cast<std::ptrdiff_t>(d.item_offsets[i]),
        d.item_users.begin() + static_cast<std::ptrdiff_t>(d.item_offsets[i + 1]));
  };
  for (Index i = 0; i < d.num_items; ++i) {
    std::vector<ScoredItem> expected;
    auto a = users_of(i);
    for (Index j = 0; j < d.num_items; ++j) {
      if (j == i) continue;
      auto b = users_of(j);
      std::vector<Index> shared;
      std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(shared));
      if (shared.size() < 2) continue;
      expected.push_back(
          {j, static_cast<float>(shared.size() / std::sqrt(double(a.size()) * double(b.size())))});
    }
    std::sort(expected.begin(), expected.end(), [](const ScoredItem& x, const ScoredItem& y) {
      return x.score > y.score || (x.score == y.score && x.item < y.item);
    });
    if (expected.size() > 5) expected.resize(5);
    Span<Index> got = knn.neighbors(i);
    Span<float> sims = knn.similarities(i);
    ASSERT_EQ(got.size(), expected.size()) << "item " << i;
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_NEAR(sims[k], expected[k].score, 1e-5) << "item " << i << " rank " << k;
    }
  }
}

TEST(RecipesItemKnn, ThreadCountDoesNotChangeTheModel) {
  TrainingData d = random_data(300, 150, 0.05, 8);
  for (ItemSimilarity similarity :
       {ItemSimilarity::Cosine, ItemSimilarity::Bm25, ItemSimilarity::Tfidf}) {
    ItemKnnParams p;
    p.similarity = similarity;
    p.min_cointeraction_count = 1;
    TrainContext one, three;
    one.execution.num_threads = 1;
    three.execution.num_threads = 3;
    auto a = ItemKnnRecipe(p).train(d, one);
    auto b = ItemKnnRecipe(p).train(d, three);
    const auto& ka = dynamic_cast<const ItemKnnModel&>(*a);
    const auto& kb = dynamic_cast<const ItemKnnModel&>(*b);
    for (Index i = 0; i < d.num_items; ++i) {
      ASSERT_EQ(std::vector<Index>(ka.neighbors(i).begin(), ka.neighbors(i).end()),
                std::vector<Index>(kb.neighbors(i).begin(), kb.neighbors(i).end()))
          << static_cast<int>(similarity);
    }
  }
}

TEST(RecipesItemKnn, UserScoresSumNeighboursAndBackFillWithPopularItems) {
  // Users 0-2 read items 0 and 1 together; item 2 is popular on its own; item 3 is rare.
  std::vector<Index> us = {0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 6};
  std::vector<Index> is = {0, 1, 0, 1, 0, 1, 2, 2, 2, 3, 2};
  TrainingData d = TrainingData::build(7, 5, us, is, std::vector<std::int64_t>(us.size(), 0),
                                       std::vector<float>(us.size(), 1));
  ItemKnnParams p;
  p.min_cointeraction_count = 2;
  auto model = ItemKnnRecipe(p).train(d, {});
  std::vector<Index> history = {0};
  UserQuery q;
  q.history = history;
  std::vector<ScoredItem> recs;
  model->recommend(q, 3, {nullptr, history}, recs);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].item, 1u);  // the co-read neighbour
  EXPECT_GT(recs[0].score, 0.0f);
  EXPECT_EQ(recs[1].item, 2u);  // then the most popular item, as back-fill
  EXPECT_EQ(recs[1].score, 0.0f);
  // Similar items: item 3 has no neighbour (one shared user < 2): popular items instead.
  std::vector<ScoredItem> similar;
  model->similar_items(3, 2, {}, similar);
  ASSERT_EQ(similar.size(), 2u);
  EXPECT_EQ(similar[0].item, 2u);
  for (const ScoredItem& s : similar) EXPECT_NE(s.item, 3u);
  model->similar_items(0, 1, {}, similar);
  EXPECT_EQ(similar[0].item, 1u);
  // An item the model never saw (index past its catalog) gets popular items too.
  model->similar_items(99, 1, {}, similar);
  EXPECT_EQ(similar[0].item, 2u);
}

TEST(RecipesItemKnn, LongHistoriesAreLeftOut) {
  // User 0 touches everything; with the percentile cut-off they create no neighbours.
  std::vector<Index> us, is;
  for (Index i = 0; i < 20; ++i) {
    us.push_back(0);
    is.push_back(i);
  }
  for (Index u = 1; u < 40; ++u) {
    us.push_back(u);
    is.push_back(u % 20);
  }
  TrainingData d = TrainingData::build(40, 20, us, is, std::vector<std::int64_t>(us.size(), 0),
                                       std::vector<float>(us.size(), 1));
  ItemKnnParams p;
  p.min_cointeraction_count = 1;
  p.max_user_history_length_percentile = 0.9f;
  auto cut = ItemKnnRecipe(p).train(d, {});
  EXPECT_TRUE(dynamic_cast<const ItemKnnModel&>(*cut).neighbors(0).empty());
  p.max_user_history_length_percentile = 1.0f;
  auto kept = ItemKnnRecipe(p).train(d, {});
  EXPECT_FALSE(dynamic_cast<const ItemKnnModel&>(*kept).neighbors(0).empty());
}

TEST(RecipesItemKnn, RejectsBadParams) {
  EXPECT_THROW(ItemKnnParams::from_json(R"({"similarity":"jaccard"})"), Error);
  EXPECT_THROW(ItemKnnParams::from_json(R"({"popularity_discount_factor": 2})"), Error);
  EXPECT_THROW(ItemKnnParams::from_json(R"({"neighbors": 0})"), Error);
}

}  // namespace
}  // namespace tailor
