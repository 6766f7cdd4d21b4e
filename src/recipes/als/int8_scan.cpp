// SPDX-License-Identifier: MIT
#include "recipes/als/int8_scan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tailor::detail {

namespace {

// Scales below this store an item as zeros; factors and user norms from kLarge up are refused
// (see int8_scan.hpp): together they keep every product and sum of the scan a normal float.
const float kTinyFactor = std::ldexp(1.0f, -30);
const double kLarge = std::ldexp(1.0, 50);
const double kTinyUser = std::ldexp(1.0, -40);
const double kRadiusFloor = std::ldexp(1.0, -60);
// ρ of int8_scan.hpp: the share of ‖u‖ the user's quantisation error may take before the scale
// grows past ‖u‖.
const double kUserShare = std::ldexp(1.0, -7);

// The float at or above `value`.
float round_up(double value) {
  float r = static_cast<float>(value);
  if (static_cast<double>(r) < value) r = std::nextafter(r, std::numeric_limits<float>::infinity());
  return r;
}

}  // namespace

std::int8_t int8_factor(const Int8Panels& panels, std::size_t f, std::size_t i, std::size_t k) {
  const std::size_t quads = (f + 3) / 4;
  const std::uint32_t word =
      panels
          .words[(i / kScorePanel) * quads * kScorePanel + (k / 4) * kScorePanel + i % kScorePanel];
  return static_cast<std::int8_t>(static_cast<std::uint8_t>(word >> (8 * (k % 4))));
}

Int8Panels int8_panels(const FactorMatrix& Y) {
  const std::size_t n = static_cast<std::size_t>(Y.rows()), f = static_cast<std::size_t>(Y.cols());
  if (n == 0 || f == 0 || !Y.allFinite()) return {};
  if (static_cast<double>(Y.cwiseAbs().maxCoeff()) >= kLarge) return {};
  const std::size_t blocks = (n + kScorePanel - 1) / kScorePanel, quads = (f + 3) / 4;
  Int8Panels panels;
  panels.words.assign(blocks * quads * kScorePanel, 0u);
  panels.scales.assign(blocks * kScorePanel, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = Y.row(static_cast<Eigen::Index>(i));
    const float largest = row.cwiseAbs().maxCoeff();
    if (largest < kTinyFactor) continue;  // zeros, scale 0
    const float scale = largest / 127.0f;
    panels.scales[i] = scale;
    std::uint32_t* word =
        panels.words.data() + (i / kScorePanel) * quads * kScorePanel + i % kScorePanel;
    for (std::size_t k = 0; k < f; ++k) {
      // The quotient may round past 127 by an ulp: clamped. Whatever the rounding, the radius
      // is computed from the bytes stored.
      const float v = std::nearbyint(row(static_cast<Eigen::Index>(k)) / scale);
      const auto q = static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f));
      word[(k / 4) * kScorePanel] |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(q))
                                     << (8 * (k % 4));
    }
  }
  return panels;
}

std::vector<float> int8_error_radii(const Int8Panels& panels, const FactorMatrix& Y) {
  if (panels.empty()) return {};
  const std::size_t n = static_cast<std::size_t>(Y.rows()), f = static_cast<std::size_t>(Y.cols());
  const double unit = std::ldexp(1.0, -24);
  auto gamma = [&](std::size_t m) {
    return static_cast<double>(m) * unit / (1 - static_cast<double>(m) * unit);
  };
  const double gamma_f = gamma(f), gamma_2 = gamma(2);
  // The dequantised factors' coefficient: the user's quantisation (ρ) and the two roundings of
  // the integer scan's scaling, which also cover the float32 path's γ_{f+1} (at most 2^−7 for
  // f ≤ 1024).
  const double coefficient = kUserShare * (1 + gamma_2) + gamma_2;
  std::vector<float> radii(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double scale = panels.scales[i];
    double residual = 0, norm_q = 0, norm_y = 0;
    for (std::size_t k = 0; k < f; ++k) {
      // scale·q (at most 24 + 7 significant bits) and y (24) are within a factor 2^8 of each
      // other or q is 0: their difference is exact in double.
      const double q = int8_factor(panels, f, i, k);
      const double dequantised = scale * q;
      const double y = Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
      residual += (dequantised - y) * (dequantised - y);
      norm_q += q * q;
      norm_y += y * y;
    }
    // The last factor covers the rounding of these sums and of scale·r_i in float.
    const double radius =
        std::max(kRadiusFloor, std::sqrt(residual) + coefficient * scale * std::sqrt(norm_q) +
                                   gamma_f * std::sqrt(norm_y)) *
        (1 + std::ldexp(1.0, -10));
    radii[i] = round_up(radius);
  }
  return radii;
}

float int8_user(const float* u, int f, std::uint32_t* words, float* user_scale, int largest_byte) {
  if (f <= 0 || largest_byte < 1 || largest_byte > 127) return -1;
  const std::size_t width = static_cast<std::size_t>(f), quads = (width + 3) / 4;
  double norm = 0;
  float largest = 0;
  for (std::size_t k = 0; k < width; ++k) {
    if (!std::isfinite(u[k])) return -1;
    norm += static_cast<double>(u[k]) * static_cast<double>(u[k]);
    largest = std::max(largest, std::abs(u[k]));
  }
  norm = std::sqrt(norm);
  if (!(norm >= kTinyUser && norm < kLarge)) return -1;
  // The user quantised like an item, v_k = round(u_k / s_u); e = u − s_u·v exactly in double
  // (as the items' residuals), and the scale max(‖u‖, ‖e‖/ρ) (int8_scan.hpp).
  const float levels = static_cast<float>(largest_byte);
  const float scale = largest / levels;
  std::fill(words, words + quads, 0u);
  double error = 0;
  for (std::size_t k = 0; k < width; ++k) {
    const float v = std::clamp(std::nearbyint(u[k] / scale), -levels, levels);
    const double e = static_cast<double>(u[k]) - static_cast<double>(scale) * v;
    error += e * e;
    words[k / 4] |=
        static_cast<std::uint32_t>(static_cast<std::uint8_t>(static_cast<std::int8_t>(v)))
        << (8 * (k % 4));
  }
  *user_scale = scale;
  return round_up(std::max(norm, std::sqrt(error) / kUserShare) * (1 + std::ldexp(1.0, -20)));
}

float score_int8_panels(const Int8Panels& panels, const float* u, int f, std::size_t n,
                        float* scores) {
  if (panels.empty() || f <= 0) return -1;
  const std::size_t width = static_cast<std::size_t>(f), quads = (width + 3) / 4;
  const AlsSimd& kernels = als_simd();
  if (!kernels.scan_int8_dot) {
    double norm = 0;
    for (std::size_t k = 0; k < width; ++k) {
      if (!std::isfinite(u[k])) return -1;
      norm += static_cast<double>(u[k]) * static_cast<double>(u[k]);
    }
    norm = std::sqrt(norm);
    if (!(norm >= kTinyUser && norm < kLarge)) return -1;
    // The user in float32: each word widens to four float32 factors; the last quad's missing
    // factors meet zeros.
    std::vector<float> v(u, u + width);
    v.resize(4 * quads, 0.0f);
    kernels.scan_int8(panels.words.data(), panels.scales.data(), v.data(), quads, n, scores);
    return round_up(norm * (1 + std::ldexp(1.0, -20)));
  }
  // The user quantised (int8_user); the kernel takes |v| and v's bytes.
  std::vector<std::uint32_t> user(2 * quads, 0u);
  float user_scale = 0;
  const float scale = int8_user(u, f, user.data() + quads, &user_scale);
  if (scale < 0) return -1;
  for (std::size_t g = 0; g < quads; ++g) {
    for (unsigned j = 0; j < 4; ++j) {
      const auto q =
          static_cast<std::int8_t>(static_cast<std::uint8_t>(user[quads + g] >> (8 * j)));
      user[g] |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(q < 0 ? -q : q)) << (8 * j);
    }
  }
  kernels.scan_int8_dot(panels.words.data(), panels.scales.data(), user.data(), user_scale, quads,
                        n, scores);
  return scale;
}

}  // namespace tailor::detail
