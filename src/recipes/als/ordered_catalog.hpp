// SPDX-License-Identifier: MIT
// The item factors of a dot-product model in decreasing order of norm, for batch jobs that stop
// scoring a user early (internal).
//
// A score is u·y_i, so |u·y_i| ≤ ‖u‖·‖y_i‖. Scanned in decreasing ‖y_i‖, a user's scan may stop
// at a position p once ‖u‖ times the largest norm from p on is below a score the user's k-th best
// item is known to reach: no item left can enter the top k. ALS item norms are skewed (popular
// items have long factor vectors; on the 5M benchmark set the median item's norm is about 1/500
// of the largest), so most users stop early: there, 94% after the first 2,048 of 50,000 items.
//
// The softmax normaliser still needs every item's e^score. For the items not scanned it is taken
// from the catalog's moments: with s_i = u·y_i,
//   Σ e^s_i = N + u·Σ y_i + ½ uᵀ(Σ y_i y_iᵀ)u + R,  |R| ≤ e^a/6 · ‖u‖³ Σ ‖y_i‖³,
// where a ≥ |s_i| for every item of the tail (the Taylor remainder of e^s at second order), and
// the float32 scores the exact normaliser sums are within γ_f‖u‖‖y_i‖ of s_i, which moves each
// term by at most e^a·γ_f‖u‖‖y_i‖. The sums are kept per tail, every step() positions.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "recipes/als/als_kernels.hpp"
#include "recipes/als/int8_scan.hpp"

namespace tailor::detail {

/// The items a row of a batch job's scan of an ALS model's ordered catalog (recommend_all.cpp).
inline constexpr Index kOrderedCatalogStep = 2048;

class OrderedCatalog {
 public:
  /// The items of Y (n × f) but `removed` (ascending), longest factor vector first (ties by lower
  /// index), with their 8-bit copy for BlockSimd::score_block_int8 (biased, bias_int8_words())
  /// and its radii, and the moments of the tails where a scan may stop (`step` a multiple of
  /// kScorePanel). Empty (empty()) when Y has no 8-bit copy (int8_panels()) or no item is left.
  OrderedCatalog(const FactorMatrix& Y, const std::vector<Index>& removed, Index step);

  bool empty() const { return panels_.empty(); }
  /// Positions: the items but the removed ones.
  Index size() const { return static_cast<Index>(items_.size()); }
  /// The item at each position.
  const std::vector<Index>& items() const { return items_; }
  /// int8_error_radii() of the item at each position.
  const std::vector<float>& radii() const { return radii_; }
  float max_radius() const { return max_radius_; }
  /// int8_error_radii() of every item of Y, removed ones too, by item, and their largest.
  const std::vector<float>& item_radii() const { return item_radii_; }
  float max_item_radius() const { return max_item_radius_; }
  /// Rows of step() positions; a scan may stop where a tail is kept (stops_at()).
  Index step() const { return step_; }
  /// Whether a tail is kept from `position`: after rows 1 to 8 of step() positions, then after
  /// rows 16, 32, 64, ... (below size()).
  bool stops_at(Index position) const;

  /// BlockScorer::approximate_block() on positions [first, first + count) (first a multiple of
  /// kScorePanel): row j of out gets the approximate scores of the users' quantised rows
  /// (int8_block_user()), within scale·radii()[position] of the exact ones.
  void approximate_block(const std::uint32_t* users, std::size_t users_count, Index first,
                         Index count, float* out, std::size_t out_stride) const;

  /// At least |score| of every item from `position` on (below size()) for the user u (f floats,
  /// the model's width), exact or float32.
  double score_limit(const float* u, Index position) const;

  /// Σ e^score over the items from `position` on (where stops_at()) for the user u, to within a
  /// relative `tolerance` of the sum of the float32 scores' exponentials: false (sum untouched)
  /// when the bound on the error is larger (a user of large norm against long factor vectors).
  /// @throws tailor::Error(Internal) when no tail is kept from `position`
  bool tail_sum(const float* u, Index position, double tolerance, double* sum) const;
  /// How many tail_sum() calls have returned true: how many users' scans stopped early, for
  /// tests and diagnostics.
  std::uint64_t tails_summed() const { return tails_summed_.load(std::memory_order_relaxed); }

 private:
  // The sums over one tail: count, Σ y (f), Σ y yᵀ (f × f, row-major), Σ ‖y‖, Σ ‖y‖², Σ ‖y‖³.
  struct Tail {
    double count = 0;
    std::vector<double> first;
    std::vector<double> second;
    double norms = 0, norms2 = 0, norms3 = 0;
  };

  std::size_t f_ = 0;
  Index step_ = 0;
  std::vector<Index> items_;
  std::vector<double> norms_;  // ‖y‖ at each position, rounded up
  Int8Panels panels_;
  std::vector<float> radii_;
  float max_radius_ = 0;
  std::vector<float> item_radii_;
  float max_item_radius_ = 0;
  std::vector<Index> stops_;  // ascending, below size()
  std::vector<Tail> tails_;   // from each of stops_
  mutable std::atomic<std::uint64_t> tails_summed_{0};
};

}  // namespace tailor::detail
