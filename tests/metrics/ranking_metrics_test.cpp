// SPDX-License-Identifier: MIT
// Personalize's metrics on a hand-worked example, the evaluation split and the evaluation loop.
#include "tailor/metrics/ranking_metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tailor/error.hpp"
#include "tailor/recipes/popularity.hpp"

namespace tailor {
namespace {

TEST(MetricsRanking, HandWorkedExample) {
  // Relevant items at positions 2 and 5 of 5.
  std::vector<Index> ranked = {10, 20, 30, 40, 50};
  std::vector<Index> relevant = {20, 50};
  EXPECT_DOUBLE_EQ(reciprocal_rank_at_k(ranked, relevant, 25), 0.5);
  EXPECT_NEAR(ndcg_at_k(ranked, relevant, 5), 0.6241, 5e-5);
  const double expected =
      (1 / std::log(3.0) + 1 / std::log(6.0)) / (1 / std::log(2.0) + 1 / std::log(3.0));
  EXPECT_NEAR(ndcg_at_k(ranked, relevant, 5), expected, 1e-12);
  EXPECT_DOUBLE_EQ(precision_at_k(ranked, relevant, 5), 0.4);
  EXPECT_DOUBLE_EQ(precision_at_k(ranked, relevant, 10), 0.2);  // divided by k, not by the list
  EXPECT_DOUBLE_EQ(reciprocal_rank_at_k(ranked, relevant, 1), 0.0);
  std::vector<Index> none = {1, 2};
  EXPECT_DOUBLE_EQ(ndcg_at_k(none, relevant, 5), 0.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(relevant, relevant, 5), 1.0);
}

EventColumns make_events(Index users, Index per_user) {
  EventColumns e;
  for (Index u = 0; u < users; ++u) {
    for (Index k = 0; k < per_user; ++k) {
      e.users.push_back(u);
      e.items.push_back((u + k) % 50);
      e.timestamps.push_back(1000 - k);  // newest first in dataset order
      e.weights.push_back(1);
    }
  }
  return e;
}

TEST(MetricsRanking, HeldOutUsersSplitAsPersonalizeDoes) {
  EventColumns e = make_events(100, 20);
  EvaluationOptions o;
  o.execution.seed = 5;
  EvaluationSplit s = split_for_evaluation(e, 100, o);
  EXPECT_TRUE(s.fold_in_test_users);
  EXPECT_EQ(s.tests.size(), 10u);        // 10% of users
  EXPECT_EQ(s.train.size(), 90u * 20u);  // the others' events, all of them
  std::set<Index> test_users;
  for (const TestUser& t : s.tests) {
    test_users.insert(t.user);
    EXPECT_EQ(t.input.size(), 18u);  // oldest 90%
    EXPECT_EQ(t.truth.size(), 2u);   // newest 10%
    // The newest events are the first ones in dataset order: items u and u+1.
    std::vector<Index> newest = {t.user % 50, (t.user + 1) % 50};
    std::sort(newest.begin(), newest.end());
    EXPECT_EQ(t.truth, newest);
  }
  for (Index u : s.train.users) EXPECT_EQ(test_users.count(u), 0u);
  // Same seed, same split; another seed, another one.
  EXPECT_EQ(split_for_evaluation(e, 100, o).tests[0].user, s.tests[0].user);
  o.execution.seed = 6;
  std::set<Index> other;
  for (const TestUser& t : split_for_evaluation(e, 100, o).tests) other.insert(t.user);
  EXPECT_NE(other, test_users);
}

TEST(MetricsRanking, LatestPerUserSplitKeepsInputsInTraining) {
  EventColumns e = make_events(30, 10);
  EvaluationOptions o;
  o.split = SplitKind::LatestPerUser;
  EvaluationSplit s = split_for_evaluation(e, 30, o);
  EXPECT_FALSE(s.fold_in_test_users);
  EXPECT_EQ(s.tests.size(), 30u);
  EXPECT_EQ(s.train.size(), 30u * 9u);
  o.test_user_fraction = 1.5;
  EXPECT_THROW(split_for_evaluation(e, 30, o), Error);
}

TEST(MetricsRanking, EvaluateAveragesOverTestUsersAndMeasuresCoverage) {
  // A popularity model whose top items are 0, 1, 2, ...; user A's truth is {1}, user B's {7}.
  ItemScoreModel model("popularity-count", {9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  EvaluationSplit split;
  split.tests.push_back({0, {0}, {1}, {1}});  // input {0} is excluded, so item 1 is first
  split.tests.push_back({1, {}, {}, {7}});
  RankingMetrics m = evaluate(model, split, 20);
  EXPECT_EQ(m.users_evaluated, 2u);
  EXPECT_DOUBLE_EQ(m.mean_reciprocal_rank_at_25, (1.0 + 1.0 / 8) / 2);
  EXPECT_DOUBLE_EQ(m.precision_at_5, (0.2 + 0) / 2);
  EXPECT_DOUBLE_EQ(m.coverage, 10.0 / 20.0);  // every one of the 10 items was recommended
  EXPECT_NE(m.to_json().find("\"precision_at_10\":"), std::string::npos);
  EXPECT_EQ(m.named().size(), 8u);
}

}  // namespace
}  // namespace tailor
