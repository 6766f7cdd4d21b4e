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

namespace {
// What the radii allow the dot-product scan (scan_bf16_dot) beyond the float32 scans' rounding:
// the user's residual after its two bfloat16 parts, up to 2^−15·‖u‖ (2^−16 when no part is
// subnormal), and per factor 2^−100 for what it flushes to zero: its 2f multiply-adds and the
// final sums, each under 2^−126 away (at most 4f·2^−126 together), which ‖u‖·f·2^−100 covers for
// ‖u‖ ≥ 2^−24; the same floor covers the float32 scans' gradual underflow.
constexpr double kUserResidual = 0x1p-15;
constexpr double kFlushFloor = 0x1p-100;
// The users both scans take: norms in [2^−20, 2^50). With item factors under 2^50 (bf16_panels)
// no product or sum of 2f of them reaches float32's 2^128, and the floor above holds. Others go
// to the caller's exact float32 scan.
constexpr double kSmallestNorm = 0x1p-20;
constexpr double kLargestNorm = 0x1p50;
constexpr float kLargestFactor = 0x1p50f;

float rounded_up(double scale) {
  const float rounded = static_cast<float>(scale);
  return static_cast<double>(rounded) >= scale
             ? rounded
             : std::nextafter(rounded, std::numeric_limits<float>::infinity());
}

// Subnormal bfloat16 values as a zero of their sign: the dot-product instruction reads them so
// (scan_bf16_dot), and the panels then say what every kernel multiplies by.
std::uint16_t flush_subnormal(std::uint16_t half) {
  return (half & 0x7f80u) == 0 ? static_cast<std::uint16_t>(half & 0x8000u) : half;
}

// The user's parts for scan_bf16_dot: words of the high parts (pairs words), then of the low.
// |u_k − high_k − low_k| ≤ 2^−16·|u_k| unless a part would be subnormal (then flushed, and the
// caller's check of the residual sees it).
// u holds `width` factors; an odd last one pairs with a zero.
void split_user(const float* u, std::size_t width, std::size_t pairs, std::uint32_t* user,
                double* residual_norm) {
  double residual = 0;
  for (std::size_t k = 0; k < width; ++k) {
    const std::uint16_t high = flush_subnormal(float_to_bf16(u[k]));
    const float rest = u[k] - bf16_to_float(high);  // exact: high is u[k] to 8 bits
    const std::uint16_t low = flush_subnormal(float_to_bf16(rest));
    const double left = static_cast<double>(rest) - bf16_to_float(low);  // exact in double
    residual += left * left;
    const unsigned shift = k % 2 == 0 ? 16 : 0;
    user[k / 2] |= static_cast<std::uint32_t>(high) << shift;
    user[pairs + k / 2] |= static_cast<std::uint32_t>(low) << shift;
  }
  *residual_norm = std::sqrt(residual);
}
}  // namespace

float bf16_to_float(std::uint16_t half) {
  const std::uint32_t bits = static_cast<std::uint32_t>(half) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

Bf16Panels bf16_panels(const FactorMatrix& Y) {
  const std::size_t n = static_cast<std::size_t>(Y.rows()), f = static_cast<std::size_t>(Y.cols());
  if (n == 0 || f == 0 || !Y.allFinite()) return {};
  const std::size_t pairs = (f + 1) / 2, blocks = (n + kScorePanel - 1) / kScorePanel;
  Bf16Panels panels(blocks * pairs * kScorePanel, 0u);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t* word = panels.data() + (i / kScorePanel) * pairs * kScorePanel + i % kScorePanel;
    for (std::size_t k = 0; k < f; ++k) {
      std::uint16_t half =
          float_to_bf16(Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)));
      // Rounded to infinity, or past what keeps products finite (kLargestFactor).
      if (!(std::abs(bf16_to_float(half)) < kLargestFactor)) return {};
      half = flush_subnormal(half);
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
  const double gamma_2f =
      2 * static_cast<double>(f) * unit / (1 - 2 * static_cast<double>(f) * unit);
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
    // The float32 scans' arithmetic, and the dot-product scan's (see bf16_scan.hpp): its 2f terms,
    // at most (1 + 2^−6)·|u_k·b_ik| together per factor, its user's residual (at most 2^−15·‖u‖),
    // and what it flushes to zero (kFlushFloor). The last factor covers the rounding of these sums
    // and of scale·r_i in float.
    const double dot_terms = gamma_2f * (1 + std::ldexp(1.0, -6)) + kUserResidual;
    const double radius = (std::sqrt(residual) + std::max(gamma, dot_terms) * std::sqrt(norm_b) +
                           gamma * std::sqrt(norm_y) + kFlushFloor * static_cast<double>(f)) *
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
  const double norm_u = std::sqrt(norm);
  if (!(norm_u >= kSmallestNorm && norm_u < kLargestNorm)) return -1;
  const double scale = norm_u * (1 + std::ldexp(1.0, -20));  // ‖u‖, rounded up
  const AlsSimd& kernels = als_simd();
  if (kernels.scan_bf16_dot) {
    // The user in two bfloat16 parts, by dot-product instructions, when its residual is within
    // what the radii allow (bf16_error_radii); otherwise as below.
    std::vector<std::uint32_t> user(2 * pairs, 0u);
    double residual = 0;
    split_user(u, width, pairs, user.data(), &residual);
    if (residual <= kUserResidual * norm_u) {
      kernels.scan_bf16_dot(panels.data(), user.data(), pairs, n, scores);
      return rounded_up(scale);
    }
  }
  // Each word widens to two float32 factors with one mask and one shift, in the kernel of the
  // target in force (als_simd_kernels.inc).
  std::vector<float> v(u, u + width);
  v.resize(2 * pairs, 0.0f);  // an odd last factor pairs with a zero
  kernels.scan_bf16(panels.data(), v.data(), pairs, n, scores);
  return rounded_up(scale);
}

}  // namespace tailor::detail
