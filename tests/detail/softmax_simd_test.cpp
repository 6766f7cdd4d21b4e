// SPDX-License-Identifier: MIT
// The softmax normaliser kernels (the maximum of scores, the sum of their exponentials) under
// every instruction-set target this CPU supports, against scalar references in double.
#include "detail/softmax_simd.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "common/cpu_targets.hpp"

namespace tailor {
namespace {

using detail::CpuTarget;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Relative error of one exponential: Cephes' polynomial is within about 2 units in the last place
// of float32 (2⁻²³ each); the product by the power of two is exact.
constexpr double kExpError = 4.0 / (1 << 23);

// γ_n = n·u / (1 − n·u), u = 2^−24: a float32 sum of n terms, in any order, is within
// γ_n · Σ|terms| of the exact sum of the same terms.
double sum_error(std::size_t n) {
  const double u = std::ldexp(1.0, -24) * static_cast<double>(n);
  return u / (1 - u);
}

std::vector<float> random_scores(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 2.0f);
  std::vector<float> s(n);
  for (float& x : s) x = normal(rng);
  return s;
}

TEST(DetailSoftmaxSimd, EachExponentialIsWithinAFewUnitsInTheLastPlaceOnEveryTarget) {
  for (CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    const detail::SoftmaxSimd& k = detail::softmax_simd();
    // Across the whole range of normal results, through the rounding points of x·log₂e.
    for (double x = -87.3; x <= 88.3; x += 0.0137) {
      const float xf = static_cast<float>(x);
      const double exact = std::exp(static_cast<double>(xf));
      const float got = k.exp_sum(&xf, 1, 0.0f);
      ASSERT_LE(std::abs(got - exact), kExpError * exact) << "exp(" << xf << ")";
    }
    for (float xf : {0.0f, -0.0f, 1.0f, -1.0f, 0.34657359f, -0.34657359f, 1e-8f, -1e-8f}) {
      const double exact = std::exp(static_cast<double>(xf));
      ASSERT_LE(std::abs(k.exp_sum(&xf, 1, 0.0f) - exact), kExpError * exact) << xf;
    }
    // Below the smallest normal float the result is 0, -infinity included; NaN stays NaN.
    for (float xf : {-87.5f, -100.0f, -1e30f, -kInf}) EXPECT_EQ(k.exp_sum(&xf, 1, 0.0f), 0.0f);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(k.exp_sum(&nan, 1, 0.0f)));
    // Above ln(largest float) the exponent is held at 88.376 (finite), +infinity included.
    const double held = std::exp(static_cast<double>(88.3762626647949f));
    for (float xf : {88.5f, 100.0f, kInf}) {
      const float got = k.exp_sum(&xf, 1, 0.0f);
      EXPECT_TRUE(std::isfinite(got)) << xf;
      EXPECT_LE(std::abs(got - held), kExpError * held) << xf;
    }
    // The shift is subtracted before the exponential: e^(x − s) within range even when e^x is not.
    const float big = 150.0f;
    EXPECT_NEAR(k.exp_sum(&big, 1, 149.0f), std::exp(1.0), kExpError * std::exp(1.0));
  }
}

TEST(DetailSoftmaxSimd, FoldRowSumsTheExponentialsAndFindsTheUpperBoundsOnEveryTarget) {
  // fold_row against a reference in double: Σ exp(s − shift) over the items above −infinity
  // (relative error of a float32 sum of float32 exponentials, each within 2^−21 + |s − shift|·2^−24
  // of e^(s − shift) on every target), the largest score, and the items whose upper bound s +
  // scale·r reaches the threshold (those within a float rounding of it may go either way). NaN
  // scores count as no score. Every length of a partial last word of hits (half of one, more,
  // less), and the bits past the row's end are zero.
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> score(-3.0f, 2.0f), radius(0.0f, 0.05f);
  for (std::size_t n : std::initializer_list<std::size_t>{1, 7, 8, 9, 15, 16, 17, 24, 100, 2048}) {
    std::vector<float> row(n), radii(n);
    for (std::size_t i = 0; i < n; ++i) {
      row[i] = i % 13 == 5   ? -std::numeric_limits<float>::infinity()
               : i % 29 == 7 ? std::numeric_limits<float>::quiet_NaN()
                             : score(rng);
      radii[i] = radius(rng);
    }
    const float scale = 1.5f;
    for (float shift : {2.0f, 0.5f, -4.0f, 40.0f}) {
      for (float threshold :
           {-std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::max(), 0.25f,
            1.9f, std::numeric_limits<float>::infinity()}) {
        for (CpuTarget target : detail::cpu_supported_targets()) {
          test::ScopedCpuTarget scope(target);
          std::vector<std::uint16_t> hits((n + 15) / 16, 0xdead);
          float top = 0;
          const float sum = detail::softmax_simd().fold_row(row.data(), n, shift, radii.data(),
                                                            scale, threshold, hits.data(), &top);
          double expected = 0, magnitude = 0;
          float largest = -std::numeric_limits<float>::infinity();
          for (std::size_t i = 0; i < n; ++i) {
            if (!(row[i] > -std::numeric_limits<float>::infinity())) {
              ASSERT_FALSE((hits[i / 16] >> (i % 16)) & 1) << "item " << i << " has no score";
              continue;
            }
            largest = std::max(largest, row[i]);
            const double e = std::exp(static_cast<double>(row[i]) - shift);
            expected += e;
            magnitude += e;
            const double upper =
                static_cast<double>(row[i]) + static_cast<double>(scale) * radii[i];
            if (std::abs(upper - threshold) <= 1e-5) continue;
            ASSERT_EQ((hits[i / 16] >> (i % 16)) & 1, upper >= threshold ? 1 : 0)
                << "n=" << n << " item " << i << " upper " << upper << " threshold " << threshold;
          }
          if (n % 16 != 0) {
            ASSERT_EQ(hits[n / 16] >> (n % 16), 0u) << "n=" << n << ": bits past the row";
          }
          ASSERT_EQ(top, largest) << "n=" << n;
          ASSERT_NEAR(
              sum, expected,
              (sum_error(n) + 0x1p-21 + (std::abs(shift) + 3) * 0x1p-24) * magnitude + 1e-300)
              << "n=" << n << " shift " << shift;
        }
      }
    }
  }
}

TEST(DetailSoftmaxSimd, SumsMatchTheScalarReferenceForEveryLengthOnEveryTarget) {
  const std::vector<float> scores = random_scores(300, 1);
  for (CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    const detail::SoftmaxSimd& k = detail::softmax_simd();
    EXPECT_EQ(k.max(scores.data(), 0), -kInf);
    EXPECT_EQ(k.exp_sum(scores.data(), 0, 0.0f), 0.0f);
    // Every length up to 100 (whole vectors, pairs of them and every remainder), then all 300,
    // from an unaligned start.
    for (std::size_t n = 1; n <= 101; ++n) {
      const std::size_t len = n == 101 ? scores.size() - 1 : n;
      const float* s = scores.data() + 1;
      float top = -kInf;
      for (std::size_t i = 0; i < len; ++i) top = std::max(top, s[i]);
      ASSERT_EQ(k.max(s, len), top) << "n=" << len;
      double exact = 0;
      for (std::size_t i = 0; i < len; ++i) exact += std::exp(static_cast<double>(s[i]) - top);
      // Each term within kExpError, then at most len float32 additions of positive terms.
      const double bound = (kExpError + len * std::ldexp(1.0, -24)) * exact;
      ASSERT_LE(std::abs(k.exp_sum(s, len, top) - exact), bound) << "n=" << len;
    }
  }
}

TEST(DetailSoftmaxSimd, RemovedItemsAddNothingAndNaNSpreads) {
  std::vector<float> scores = random_scores(77, 2);
  for (std::size_t i = 0; i < scores.size(); i += 3) scores[i] = -kInf;  // removed items
  for (CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    const detail::SoftmaxSimd& k = detail::softmax_simd();
    const float top = k.max(scores.data(), scores.size());
    double exact = 0;
    for (float s : scores) exact += std::exp(static_cast<double>(s) - top);  // e^-inf is 0
    EXPECT_NEAR(k.exp_sum(scores.data(), scores.size(), top), exact, 1e-5 * exact);
    std::vector<float> with_nan = scores;
    with_nan[40] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(k.exp_sum(with_nan.data(), with_nan.size(), top)));
    // All removed: the maximum is -infinity.
    const std::vector<float> removed(21, -kInf);
    EXPECT_EQ(k.max(removed.data(), removed.size()), -kInf);
  }
}

TEST(DetailSoftmaxSimd, EachTargetHasItsOwnKernels) {
  const std::vector<CpuTarget> targets = detail::cpu_supported_targets();
  for (std::size_t a = 0; a < targets.size(); ++a) {
    for (std::size_t b = a + 1; b < targets.size(); ++b) {
      EXPECT_NE(detail::softmax_simd(targets[a]).exp_sum, detail::softmax_simd(targets[b]).exp_sum);
      EXPECT_NE(detail::softmax_simd(targets[a]).max, detail::softmax_simd(targets[b]).max);
      EXPECT_NE(detail::softmax_simd(targets[a]).fold_row,
                detail::softmax_simd(targets[b]).fold_row);
    }
  }
}

}  // namespace
}  // namespace tailor
