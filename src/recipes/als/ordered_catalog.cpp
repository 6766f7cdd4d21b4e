// SPDX-License-Identifier: MIT
#include "recipes/als/ordered_catalog.hpp"

#include <algorithm>
#include <cmath>

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

// ‖v‖ of f floats, rounded up past the rounding of the sum and the square root.
double norm_up(const float* v, std::size_t f) {
  double s = 0;
  for (std::size_t k = 0; k < f; ++k) s += static_cast<double>(v[k]) * static_cast<double>(v[k]);
  return std::sqrt(s) * (1 + kSumRounding);
}
}  // namespace

OrderedCatalog::OrderedCatalog(const FactorMatrix& Y, const std::vector<Index>& removed, Index step)
    : f_(static_cast<std::size_t>(Y.cols())), step_(step) {
  TAILOR_THROW_IF(step == 0 || step % kScorePanel != 0, ErrorCode::Internal,
                  "ordered catalog: a step of ", step, " is not a multiple of ", kScorePanel);
  const Index n = static_cast<Index>(Y.rows());
  std::vector<double> norm(n);
  for (Index i = 0; i < n; ++i) norm[i] = norm_up(Y.row(static_cast<Eigen::Index>(i)).data(), f_);
  // The 8-bit copy in item order, with each item's radius; its words are then moved to the
  // items' positions (no float copy of the factors in order).
  Int8Panels unordered = int8_panels(Y);
  if (unordered.empty()) return;
  item_radii_ = int8_error_radii(unordered, Y);
  for (float r : item_radii_) max_item_radius_ = std::max(max_item_radius_, r);
  items_.reserve(n);
  for (Index i = 0, r = 0; i < n; ++i) {
    while (r < removed.size() && removed[r] < i) ++r;
    if (r < removed.size() && removed[r] == i) continue;
    items_.push_back(i);
  }
  std::stable_sort(items_.begin(), items_.end(),
                   [&](Index a, Index b) { return norm[a] > norm[b]; });
  const std::size_t size = items_.size(), quads = (f_ + 3) / 4;
  if (size == 0) return;
  const std::size_t panels = (size + kScorePanel - 1) / kScorePanel;
  panels_.words.assign(panels * quads * kScorePanel, 0u);
  panels_.scales.assign(panels * kScorePanel, 0.0f);
  norms_.resize(size);
  radii_.resize(size);
  for (std::size_t p = 0; p < size; ++p) {
    const std::size_t i = items_[p];
    const std::uint32_t* from =
        unordered.words.data() + (i / kScorePanel) * quads * kScorePanel + i % kScorePanel;
    std::uint32_t* to =
        panels_.words.data() + (p / kScorePanel) * quads * kScorePanel + p % kScorePanel;
    for (std::size_t g = 0; g < quads; ++g) to[g * kScorePanel] = from[g * kScorePanel];
    panels_.scales[p] = unordered.scales[i];
    norms_[p] = norm[i];
    radii_[p] = item_radii_[i];
    max_radius_ = std::max(max_radius_, radii_[p]);
  }
  unordered = {};
  bias_int8_words(panels_.words);

  // The tails' sums, from the last one back, each the next one plus the rows up to it. A scan may
  // stop after rows 1 to 8, then 16, 32, ...: most stop after the first, and the moments (f × f
  // each) of a tail after every row would grow with the catalog (1.5 GiB at a million items of
  // 256 factors).
  for (std::size_t row = 1; row * step_ < size; row = row < 8 ? row + 1 : 2 * row) {
    stops_.push_back(static_cast<Index>(row * step_));
  }
  tails_.resize(stops_.size());
  Tail next;
  next.first.assign(f_, 0.0);
  next.second.assign(f_ * f_, 0.0);
  Eigen::MatrixXd rows;
  for (std::size_t t = stops_.size(); t-- > 0;) {
    const std::size_t begin = stops_[t], end = t + 1 < stops_.size() ? stops_[t + 1] : size;
    // The rows in order, a step at a time (a step's doubles: 1 MiB at 64 factors).
    for (std::size_t b0 = begin; b0 < end; b0 += step_) {
      const std::size_t b1 = std::min(end, b0 + step_);
      rows.resize(static_cast<Eigen::Index>(b1 - b0), static_cast<Eigen::Index>(f_));
      for (std::size_t p = b0; p < b1; ++p) {
        rows.row(static_cast<Eigen::Index>(p - b0)) =
            Y.row(static_cast<Eigen::Index>(items_[p])).cast<double>();
      }
      const Eigen::VectorXd first = rows.colwise().sum().transpose();
      const Eigen::MatrixXd second = rows.transpose() * rows;
      next.count += static_cast<double>(b1 - b0);
      for (std::size_t k = 0; k < f_; ++k) {
        next.first[k] += first(static_cast<Eigen::Index>(k));
        for (std::size_t l = 0; l < f_; ++l) {
          next.second[k * f_ + l] +=
              second(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(l));
        }
      }
      for (std::size_t p = b0; p < b1; ++p) {
        next.norms += norms_[p];
        next.norms2 += norms_[p] * norms_[p];
        next.norms3 += norms_[p] * norms_[p] * norms_[p];
      }
    }
    tails_[t] = next;
  }
}

void OrderedCatalog::approximate_block(const std::uint32_t* users, std::size_t users_count,
                                       Index first, Index count, float* out,
                                       std::size_t out_stride) const {
  TAILOR_THROW_IF(empty() || first % kScorePanel != 0 || first + count > size(),
                  ErrorCode::Internal, "ordered catalog: positions [", first, ", ", first + count,
                  ") are not a block of its ", size());
  score_int8_block(panels_, (f_ + 3) / 4, users, users_count, first / kScorePanel,
                   (count + kScorePanel - 1) / kScorePanel, out, out_stride);
}

double OrderedCatalog::score_limit(const float* u, Index position) const {
  // |fl(u·y)| ≤ (1 + γ_f)‖u‖‖y‖, both norms rounded up.
  return norm_up(u, f_) * norms_[position] * (1 + gamma(f_));
}

bool OrderedCatalog::stops_at(Index position) const {
  return std::binary_search(stops_.begin(), stops_.end(), position);
}

bool OrderedCatalog::tail_sum(const float* u, Index position, double tolerance, double* sum) const {
  const auto at = std::lower_bound(stops_.begin(), stops_.end(), position);
  TAILOR_THROW_IF(at == stops_.end() || *at != position, ErrorCode::Internal,
                  "ordered catalog: no tail is kept from position ", position);
  const Tail& tail = tails_[static_cast<std::size_t>(at - stops_.begin())];
  const double norm = norm_up(u, f_), a = norm * norms_[position] * (1 + gamma(f_));
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
