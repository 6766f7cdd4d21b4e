// SPDX-License-Identifier: MIT
#include "recipes/als/ordered_catalog.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "recipes/als/block_simd.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

namespace {
// γ_m = m·2^−24 / (1 − m·2^−24): the relative error of a float32 sum of m products.
double gamma(std::size_t m) {
  const double unit = std::ldexp(1.0, -24);
  return static_cast<double>(m) * unit / (1 - static_cast<double>(m) * unit);
}
// The rounding of the sums in double (n·2^−53 of their magnitudes, n < 2^23 items) and of the
// norms, as a share of N + ‖u‖Σ‖y‖ + ‖u‖²Σ‖y‖².
const double kSumRounding = std::ldexp(1.0, -30);
}  // namespace

OrderedCatalog::OrderedCatalog(const FactorMatrix& Y, const std::vector<Index>& removed, Index step)
    : f_(static_cast<std::size_t>(Y.cols())), step_(step) {
  TAILOR_THROW_IF(step == 0 || step % kScorePanel != 0, ErrorCode::Internal,
                  "ordered catalog: a step of ", step, " is not a multiple of ", kScorePanel);
  const Index n = static_cast<Index>(Y.rows());
  std::vector<double> norm(n);
  for (Index i = 0; i < n; ++i) {
    double s = 0;
    for (std::size_t k = 0; k < f_; ++k) {
      const double y = Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
      s += y * y;
    }
    // Rounded up past the rounding of the sum and the square root.
    norm[i] = std::sqrt(s) * (1 + kSumRounding);
  }
  items_.reserve(n);
  for (Index i = 0, r = 0; i < n; ++i) {
    while (r < removed.size() && removed[r] < i) ++r;
    if (r < removed.size() && removed[r] == i) continue;
    items_.push_back(i);
  }
  std::stable_sort(items_.begin(), items_.end(),
                   [&](Index a, Index b) { return norm[a] > norm[b]; });
  FactorMatrix ordered(static_cast<Eigen::Index>(items_.size()), Y.cols());
  norms_.resize(items_.size());
  for (std::size_t p = 0; p < items_.size(); ++p) {
    ordered.row(static_cast<Eigen::Index>(p)) = Y.row(static_cast<Eigen::Index>(items_[p]));
    norms_[p] = norm[items_[p]];
  }
  panels_ = int8_panels(ordered);
  if (panels_.empty()) {
    items_.clear();
    norms_.clear();
    return;
  }
  radii_ = int8_error_radii(panels_, ordered);
  bias_int8_words(panels_.words);
  for (float r : radii_) max_radius_ = std::max(max_radius_, r);

  // The tails' sums, from the last one back, each the next one plus its own step of rows.
  const std::size_t size = items_.size(), steps = (size + step_ - 1) / step_;
  tails_.resize(steps);
  Tail next;
  next.first.assign(f_, 0.0);
  next.second.assign(f_ * f_, 0.0);
  for (std::size_t b = steps; b-- > 0;) {
    const std::size_t begin = b * step_, end = std::min(size, begin + step_);
    const Eigen::MatrixXd rows = ordered
                                     .block(static_cast<Eigen::Index>(begin), 0,
                                            static_cast<Eigen::Index>(end - begin), ordered.cols())
                                     .cast<double>();
    const Eigen::VectorXd first = rows.colwise().sum().transpose();
    const Eigen::MatrixXd second = rows.transpose() * rows;
    next.count += static_cast<double>(end - begin);
    for (std::size_t k = 0; k < f_; ++k) {
      next.first[k] += first(static_cast<Eigen::Index>(k));
      for (std::size_t l = 0; l < f_; ++l) {
        next.second[k * f_ + l] +=
            second(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(l));
      }
    }
    for (std::size_t p = begin; p < end; ++p) {
      next.norms += norms_[p];
      next.norms2 += norms_[p] * norms_[p];
      next.norms3 += norms_[p] * norms_[p] * norms_[p];
    }
    tails_[b] = next;
  }
}

void OrderedCatalog::approximate_block(const std::uint32_t* users, std::size_t users_count,
                                       Index first, Index count, float* out,
                                       std::size_t out_stride) const {
  TAILOR_THROW_IF(empty() || first % kScorePanel != 0 || first + count > size(),
                  ErrorCode::Internal, "ordered catalog: positions [", first, ", ", first + count,
                  ") are not a block of its ", size());
  const std::size_t quads = (f_ + 3) / 4, first_panel = first / kScorePanel;
  // Rows built under another target (set_cpu_target() in between) may hold bytes this kernel's
  // range cannot take: the portable kernel takes any byte, exactly.
  const BlockSimd* kernels = &block_simd();
  if (!int8_users_within(users, users_count, quads, kernels->int8_user_largest)) {
    kernels = &block_simd(CpuTarget::kBaseline);
  }
  kernels->score_block_int8(panels_.words.data() + first_panel * quads * kScorePanel,
                            panels_.scales.data() + first_panel * kScorePanel, quads, users,
                            users_count, (count + kScorePanel - 1) / kScorePanel, out, out_stride);
}

double OrderedCatalog::score_limit(const float* u, Index position) const {
  double norm = 0;
  for (std::size_t k = 0; k < f_; ++k)
    norm += static_cast<double>(u[k]) * static_cast<double>(u[k]);
  // |fl(u·y)| ≤ (1 + γ_f)‖u‖‖y‖; the last factor covers the rounding of this product.
  return std::sqrt(norm) * norms_[position] * (1 + gamma(f_)) * (1 + kSumRounding);
}

bool OrderedCatalog::tail_sum(const float* u, Index position, double tolerance, double* sum) const {
  const Tail& tail = tails_[position / step_];
  double norm = 0;
  for (std::size_t k = 0; k < f_; ++k)
    norm += static_cast<double>(u[k]) * static_cast<double>(u[k]);
  norm = std::sqrt(norm) * (1 + kSumRounding);
  const double a = score_limit(u, position);
  // The Taylor remainder and the float32 scores' rounding (ordered_catalog.hpp), and the rounding
  // of the sums; each term is at least e^−a, so the tail is at least N·e^−a.
  const double error =
      std::exp(a) * (norm * norm * norm * tail.norms3 / 6 + gamma(f_) * norm * tail.norms) +
      kSumRounding * (tail.count + norm * tail.norms + norm * norm * tail.norms2);
  if (!(error <= tolerance * tail.count * std::exp(-a))) return false;
  double linear = 0, quadratic = 0;
  for (std::size_t k = 0; k < f_; ++k) {
    const double uk = u[k];
    linear += uk * tail.first[k];
    double row = 0;
    for (std::size_t l = 0; l < f_; ++l) row += tail.second[k * f_ + l] * static_cast<double>(u[l]);
    quadratic += uk * row;
  }
  *sum = tail.count + linear + quadratic / 2;
  tails_summed_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace tailor::detail
