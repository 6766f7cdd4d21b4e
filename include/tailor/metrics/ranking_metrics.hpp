// SPDX-License-Identifier: MIT
// Offline metrics as Personalize defines them, and the evaluation split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/recipes/model.hpp"
#include "tailor/types.hpp"

namespace tailor {

/// precision@k: relevant items among the first k, divided by k.
/// @param ranked the recommendations, best first; @param relevant sorted, distinct
TAILOR_EXPORT double precision_at_k(Span<Index> ranked, Span<Index> relevant, std::size_t k);
/// NDCG@k with gain 1/log(1 + position) (position 1 = top), normalised by the ideal ranking of
/// min(k, |relevant|) relevant items.
TAILOR_EXPORT double ndcg_at_k(Span<Index> ranked, Span<Index> relevant, std::size_t k);
/// 1 / position of the first relevant item within the first k, or 0.
TAILOR_EXPORT double reciprocal_rank_at_k(Span<Index> ranked, Span<Index> relevant, std::size_t k);

/// The metrics of a solution version, averaged over evaluated users.
struct TAILOR_EXPORT RankingMetrics {
  double precision_at_5 = 0, precision_at_10 = 0, precision_at_25 = 0;
  double normalized_discounted_cumulative_gain_at_5 = 0;
  double normalized_discounted_cumulative_gain_at_10 = 0;
  double normalized_discounted_cumulative_gain_at_25 = 0;
  double mean_reciprocal_rank_at_25 = 0;
  double coverage = 0;  ///< distinct items recommended / items in the catalog
  std::size_t users_evaluated = 0;

  /// (Personalize metric name, value) pairs, e.g. ("precision_at_10", 0.12).
  std::vector<std::pair<std::string, double>> named() const;
  /// {"coverage":…,"mean_reciprocal_rank_at_25":…,…}
  std::string to_json() const;
};

/// Which evaluation split.
enum class SplitKind {
  /// Personalize's: a seeded 10% of users are held out; the model trains on the others, gets the
  /// oldest 90% of each held-out user's interactions as input and is scored on the newest 10%.
  HeldOutUsers,
  /// Every user's newest 10% is held out and the model trains on everything else.
  LatestPerUser,
};

struct EvaluationOptions {
  SplitKind split = SplitKind::HeldOutUsers;
  double test_user_fraction = 0.1;         ///< HeldOutUsers: share of users held out
  double test_interaction_fraction = 0.1;  ///< newest share of a test user's events scored
  ExecutionOptions execution;              ///< threads; the seed picks the held-out users
};

/// A user whose newest interactions are hidden from the model.
struct TestUser {
  Index user = kNoIndex;
  std::vector<Index> input;  ///< oldest interactions, the model's input (in time order)
  std::vector<float> input_weights;
  std::vector<Index> truth;  ///< distinct items of the newest interactions not in the input, sorted
};

/// Events as columns (what a solution trains on).
struct EventColumns {
  std::vector<Index> users, items;
  std::vector<std::int64_t> timestamps;
  std::vector<float> weights;
  std::size_t size() const { return users.size(); }
};

/// The split: the events the model trains on, and the test users.
struct EvaluationSplit {
  EventColumns train;
  std::vector<TestUser> tests;
  /// Whether test users must be folded in from their input (they are not in the training data).
  bool fold_in_test_users = true;
};

/// Splits events as EvaluationOptions says; deterministic for a seed. Users with fewer than two
/// events are never test users.
TAILOR_EXPORT EvaluationSplit split_for_evaluation(const EventColumns& events, Index num_users,
                                                   const EvaluationOptions& options);

/// The top `k` items for each test user, in split.tests' order, as evaluate() sees them: the
/// user's input events are the history (folded in when split.fold_in_test_users) and are never
/// recommended.
TAILOR_EXPORT std::vector<std::vector<ScoredItem>> recommend_test_users(
    const Model& model, const EvaluationSplit& split, std::size_t k,
    const ExecutionOptions& execution = {});

/// Recommends 25 items for each test user (their input excluded) and averages the metrics.
/// `catalog_size` is the number of items coverage is measured against.
TAILOR_EXPORT RankingMetrics evaluate(const Model& model, const EvaluationSplit& split,
                                      Index catalog_size, const ExecutionOptions& execution = {});

}  // namespace tailor
