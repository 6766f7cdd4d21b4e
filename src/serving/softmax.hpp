// SPDX-License-Identifier: MIT
// The softmax normaliser (log Σ exp) of a request's scores: over the whole catalog for
// recommendations, over the list for personalized ranking.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

#include "tailor/types.hpp"

namespace tailor::detail {

// log Σ exp(s), the normaliser of softmax scores, over scores given in one piece or in chunks.
// The sum is kept relative to the largest score so far (rescaled when that moves), so that
// nothing overflows.
struct LogSumExp {
  double top = -std::numeric_limits<double>::infinity();
  double sum = 0;
  /// Folds n scores in, with the CPU target's vector exponential; returns the largest of them
  /// (-infinity for none).
  float add(const float* scores, std::size_t n);
  double value() const;
};

// The softmax normaliser of a request scored approximately (UserScorer::approximate_scores): the
// log-sum-exp of the approximate scores, with the term of each item since scored exactly
// replaced by its exact one, once. The items ranked, which carry most of the weight, so end up
// exact, and what is left is the small, mostly cancelling error of the rest.
struct Normaliser {
  LogSumExp lse;
  bool all_exact = false;
  std::vector<Index> exact_items;  // sorted
  // Σ of the exact items' terms (relative to lse.top), a floor of the sum: where an approximate
  // term far above its exact one held nearly all of the sum, taking it off could leave the sum at
  // or below 0 (by the rounding of the others), and its log undefined.
  double exact_sum = 0;
  void set_exact(Index item, float approximate, float exact);
  void set_all_exact(const std::vector<float>& exact);
};

// log Σ exp of n scores (0 for none).
double log_sum_exp(const float* scores, std::size_t n);

}  // namespace tailor::detail
