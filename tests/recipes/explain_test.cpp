// SPDX-License-Identifier: MIT
// Model::explain: ALS contributions checked against a slow dense computation of Hu, Koren &
// Volinsky's decomposition, item-kNN terms against its scores, and the default explains nothing.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <numeric>

#include "common/random_data.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"

namespace tailor {
namespace {

TEST(RecipesExplain, AlsContributionsAreTheDenseDecompositionAndSumToTheScore) {
  const TrainingData data = test::random_data(80, 40, 0.08, 3);
  AlsParams params;
  params.factors = 6;
  params.alpha = 3.0f;
  params.regularization = 0.2f;
  params.iterations = 4;
  const auto model = AlsRecipe(params).train(data, {});
  const auto& als = dynamic_cast<const AlsModel&>(*model);

  // A history with a repeated item (its weights add up) and varied weights.
  const std::vector<Index> history = {3, 7, 12, 3, 25};
  const std::vector<float> weights = {1.0f, 2.0f, 0.5f, 1.5f, 1.0f};
  UserQuery q;
  q.history = history;
  q.weights = weights;
  const std::vector<Index> items = {0, 5, 12, 39};
  std::vector<std::vector<ScoredItem>> out;
  als.explain(q, items, 100, out);
  ASSERT_EQ(out.size(), items.size());

  // Slow and dense, in double: A = Yᵀ C Y + λI with C the full diagonal of confidences.
  const Eigen::MatrixXd Y = als.item_factors().cast<double>();
  Eigen::VectorXd c = Eigen::VectorXd::Ones(Y.rows());
  std::vector<double> value(Y.rows(), 0.0);
  for (std::size_t e = 0; e < history.size(); ++e) value[history[e]] += weights[e];
  for (Index i = 0; i < Y.rows(); ++i) c[i] = 1.0 + params.alpha * value[i];
  const Eigen::MatrixXd A = Y.transpose() * c.asDiagonal() * Y +
                            params.regularization * Eigen::MatrixXd::Identity(Y.cols(), Y.cols());
  const Eigen::MatrixXd W = A.inverse();
  const Eigen::VectorXf x = als.fold_in(history, weights);

  for (std::size_t n = 0; n < items.size(); ++n) {
    const Index i = items[n];
    ASSERT_EQ(out[n].size(), 4u) << "one term per distinct history item";
    double sum = 0;
    for (std::size_t t = 0; t < out[n].size(); ++t) {
      const Index j = out[n][t].item;
      const double expected = (Y.row(i) * W * Y.row(j).transpose())(0, 0) * c[j];
      EXPECT_NEAR(out[n][t].score, expected, 1e-4 + 1e-3 * std::abs(expected)) << i << " " << j;
      if (t > 0) {
        EXPECT_GE(out[n][t - 1].score, out[n][t].score) << "largest first";
      }
      sum += out[n][t].score;
    }
    const double score = als.item_factors().row(i).dot(x);
    EXPECT_NEAR(sum, score, 1e-4 + 1e-3 * std::abs(score)) << "item " << i;
  }

  // k keeps the largest; an empty history explains nothing.
  std::vector<std::vector<ScoredItem>> top;
  als.explain(q, items, 2, top);
  ASSERT_EQ(top[1].size(), 2u);
  EXPECT_EQ(top[1][0].item, out[1][0].item);
  EXPECT_EQ(top[1][1].item, out[1][1].item);
  als.explain(UserQuery{}, items, 3, top);
  for (const auto& terms : top) EXPECT_TRUE(terms.empty());
}

TEST(RecipesExplain, ItemKnnTermsAreTheNeighbourListsAnItemIsOn) {
  const TrainingData data = test::random_data(100, 30, 0.1, 5);
  const auto model = ItemKnnRecipe().train(data, {});
  const std::vector<Index> history = {0, 1, 4, 0};
  UserQuery q;
  q.history = history;
  std::vector<float> scores;
  model->score_all(q, scores);
  std::vector<Index> items(30);
  std::iota(items.begin(), items.end(), Index{0});
  std::vector<std::vector<ScoredItem>> out;
  model->explain(q, items, 10, out);
  int explained = 0;
  for (Index i = 0; i < 30; ++i) {
    float sum = 0;
    for (const ScoredItem& t : out[i]) {
      EXPECT_TRUE(t.item == 0 || t.item == 1 || t.item == 4) << "a history item";
      sum += t.score;
    }
    EXPECT_NEAR(sum, scores[i], 1e-5f) << i;
    explained += !out[i].empty();
  }
  EXPECT_GT(explained, 5);
}

TEST(RecipesExplain, ModelsWithoutAnExplanationGiveEmptyLists) {
  const TrainingData data = test::random_data(20, 10, 0.2, 1);
  const auto model = PopularityRecipe().train(data, {});
  const std::vector<Index> history = {1, 2};
  UserQuery q;
  q.history = history;
  std::vector<std::vector<ScoredItem>> out;
  const std::vector<Index> items = {0, 3};
  model->explain(q, items, 5, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].empty() && out[1].empty());
}

}  // namespace
}  // namespace tailor
