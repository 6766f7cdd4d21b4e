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

std::vector<float> bf16_error_radii(const Bf16Panels& panels, const FactorMatrix& Y) {
  if (panels.empty()) return {};
  const std::size_t n = static_cast<std::size_t>(Y.rows()), f = static_cast<std::size_t>(Y.cols());
  const std::size_t pairs = (f + 1) / 2;
  const double unit = std::ldexp(1.0, -24);
  const double gamma = static_cast<double>(f) * unit / (1 - static_cast<double>(f) * unit);
  std::vector<float> radii(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t* word =
        panels.data() + (i / kScorePanel) * pairs * kScorePanel + i % kScorePanel;
    double residual = 0, norm_b = 0, norm_y = 0;
    for (std::size_t k = 0; k < f; ++k) {
      const std::uint32_t bits = k % 2 == 0 ? word[(k / 2) * kScorePanel] & 0xffff0000u
                                            : word[(k / 2) * kScorePanel] << 16;
      float b;
      std::memcpy(&b, &bits, sizeof b);
      const double y = Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
      residual += (b - y) * (b - y);  // b − y is exact in double
      norm_b += static_cast<double>(b) * b;
      norm_y += y * y;
    }
    // The last factor covers the rounding of these sums and of scale·r_i in float.
    const double radius = (std::sqrt(residual) + gamma * (std::sqrt(norm_b) + std::sqrt(norm_y))) *
                          (1 + std::ldexp(1.0, -10));
    radii[i] = static_cast<float>(radius);
    if (static_cast<double>(radii[i]) < radius) {
      radii[i] = std::nextafter(radii[i], std::numeric_limits<float>::infinity());
    }
  }
  return radii;
}

float score_bf16_panels(const Bf16Panels& panels, const float* u, int f, std::size_t n,
                        float* scores) {
  if (panels.empty() || f <= 0) return -1;
  const std::size_t width = static_cast<std::size_t>(f), pairs = (width + 1) / 2;
  double norm = 0;
  for (std::size_t k = 0; k < width; ++k) {
    if (!std::isfinite(u[k])) return -1;
    norm += static_cast<double>(u[k]) * static_cast<double>(u[k]);
  }
  // ‖u‖, rounded up; scores this large would overflow float32 anyway.
  const double scale = std::sqrt(norm) * (1 + std::ldexp(1.0, -20));
  if (!(scale < 1e30)) return -1;

  // Each word widens to two float32 factors with one mask and one shift, in the kernel of the
  // target in force (als_simd_kernels.inc).
  std::vector<float> v(u, u + width);
  v.resize(2 * pairs, 0.0f);  // an odd last factor pairs with a zero
  als_simd().scan_bf16(panels.data(), v.data(), pairs, n, scores);
  const float rounded = static_cast<float>(scale);
  return static_cast<double>(rounded) >= scale
             ? rounded
             : std::nextafter(rounded, std::numeric_limits<float>::infinity());
}

}  // namespace tailor::detail
