// SPDX-License-Identifier: MIT
#include "recipes/als/bf16_scan.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tailor::detail {

std::uint16_t float_to_bf16(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  // Adding just under half of the dropped part, plus the kept part's lowest bit, rounds to
  // nearest with ties to even; a carry correctly bumps the exponent.
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

Bf16Panels bf16_panels(const FactorMatrix& Y) {
  const std::size_t n = static_cast<std::size_t>(Y.rows()), f = static_cast<std::size_t>(Y.cols());
  if (n == 0 || f == 0 || !Y.allFinite()) return {};
  const std::size_t pairs = (f + 1) / 2, blocks = (n + kScorePanel - 1) / kScorePanel;
  Bf16Panels panels(blocks * pairs * kScorePanel, 0u);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t* word = panels.data() + (i / kScorePanel) * pairs * kScorePanel + i % kScorePanel;
    for (std::size_t k = 0; k < f; ++k) {
      const std::uint16_t half =
          float_to_bf16(Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)));
      if ((half & 0x7fffu) == 0x7f80u) return {};  // rounded to infinity
      word[(k / 2) * kScorePanel] |= static_cast<std::uint32_t>(half) << (k % 2 == 0 ? 16 : 0);
    }
  }
  return panels;
}

float max_row_norm(const FactorMatrix& Y) {
  double largest = 0;
  for (Eigen::Index i = 0; i < Y.rows(); ++i)
    largest = std::max(largest, Y.row(i).cast<double>().norm());
  const float rounded = static_cast<float>(largest);
  return static_cast<double>(rounded) >= largest
             ? rounded
             : std::nextafter(rounded, std::numeric_limits<float>::infinity());
}

float score_bf16_panels(const Bf16Panels& panels, float max_norm, const float* u, int f,
                        std::size_t n, float* scores) {
  if (panels.empty() || f <= 0) return -1;
  const std::size_t width = static_cast<std::size_t>(f), pairs = (width + 1) / 2;
  double norm1 = 0, norm2 = 0;
  for (std::size_t k = 0; k < width; ++k) {
    if (!std::isfinite(u[k])) return -1;
    norm1 += std::abs(static_cast<double>(u[k]));
    norm2 += static_cast<double>(u[k]) * static_cast<double>(u[k]);
  }
  norm2 = std::sqrt(norm2);
  // Scores this large would overflow float32 anyway; leave them to the float32 scan.
  if (!(norm2 * static_cast<double>(max_norm) < 1e30)) return -1;
  // The bound, per item i, with y its factors and b their bfloat16 values:
  // - rounding to bfloat16 (8 significant bits): |b_k − y_k| ≤ 2^−8·|y_k|, or ≤ 2^−134 in the
  //   subnormal range; through u that is at most 2^−8·Σ|u_k y_k| + 2^−134·Σ|u_k|;
  // - float32 arithmetic, in this scan and in the float32 one: each within γ_f·Σ|u_k y_k| (the
  //   first on b, whose magnitudes are at most 1 + 2^−8 times y's), with
  //   γ_f = f·2^−24 / (1 − f·2^−24), whatever the summation order, with or without FMA;
  // - Σ|u_k y_k| ≤ ‖u‖·‖y‖ ≤ ‖u‖·max_norm (Cauchy–Schwarz).
  // The last factor covers the rounding of this sum and of its conversion to float.
  const double unit = std::ldexp(1.0, -24);
  const double gamma = static_cast<double>(f) * unit / (1 - static_cast<double>(f) * unit);
  const double bound =
      ((std::ldexp(1.0, -8) + 2.01 * gamma) * norm2 * static_cast<double>(max_norm) +
       std::ldexp(1.0, -134) * norm1) *
      (1 + std::ldexp(1.0, -10));

  // One panel's 16 scores as a vector value (GCC/Clang vector extension), as in score_panels():
  // each word vector widens to two factor vectors with one mask and one shift, and four
  // accumulators keep four FMA chains in flight.
  using Vec = float __attribute__((vector_size(kScorePanel * sizeof(float))));
  using Words = std::uint32_t __attribute__((vector_size(kScorePanel * sizeof(std::uint32_t))));
  // The two factors of each word, widened to float32 (out-parameters: returning a vector value
  // would depend on the vector ABI of the build).
  auto widen = [](const std::uint32_t* p, Vec& high, Vec& low) {
    Words w;
    std::memcpy(&w, p, sizeof w);
    const Words high_bits = w & 0xffff0000u, low_bits = w << 16;
    std::memcpy(&high, &high_bits, sizeof high);
    std::memcpy(&low, &low_bits, sizeof low);
  };
  std::vector<float> v(u, u + width);
  v.resize(2 * pairs, 0.0f);  // an odd last factor pairs with a zero
  const std::size_t blocks = (n + kScorePanel - 1) / kScorePanel;
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::uint32_t* p = panels.data() + b * pairs * kScorePanel;
    Vec a0 = {}, a1 = {}, a2 = {}, a3 = {};
    std::size_t j = 0;
    for (; j + 2 <= pairs; j += 2, p += 2 * kScorePanel) {
      Vec y0, y1, y2, y3;
      widen(p, y0, y1);
      widen(p + kScorePanel, y2, y3);
      a0 += v[2 * j] * y0;
      a1 += v[2 * j + 1] * y1;
      a2 += v[2 * j + 2] * y2;
      a3 += v[2 * j + 3] * y3;
    }
    if (j < pairs) {
      Vec y0, y1;
      widen(p, y0, y1);
      a0 += v[2 * j] * y0;
      a1 += v[2 * j + 1] * y1;
    }
    store_panel_scores((a0 + a1) + (a2 + a3), b, n, scores);
  }
  return static_cast<float>(bound);
}

}  // namespace tailor::detail
