// SPDX-License-Identifier: MIT
// The bfloat16 serving scan: rounding, the error bound against the float32 scan, and the exact
// re-scoring it relies on.
#include "recipes/als/bf16_scan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/cpu_targets.hpp"
#include "recipes/als/als_simd.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor {
namespace {

float from_bits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::uint32_t bits_of(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

float widen(std::uint16_t half) { return from_bits(static_cast<std::uint32_t>(half) << 16); }

TEST(RecipesBf16Scan, RoundsToNearestWithTiesToEven) {
  EXPECT_EQ(detail::float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(detail::float_to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(detail::float_to_bf16(0.0f), 0x0000);
  EXPECT_EQ(detail::float_to_bf16(-0.0f), 0x8000);
  // 1 + 2^-8 lies halfway between 1 (even) and 1 + 2^-7 (odd); 1 + 3·2^-8 halfway between
  // 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  EXPECT_EQ(detail::float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(detail::float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  // The largest float rounds up to infinity; the smallest subnormal to zero.
  EXPECT_EQ(detail::float_to_bf16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(detail::float_to_bf16(std::numeric_limits<float>::denorm_min()), 0x0000);

  // Against the obvious rule on random finite floats: the nearer of the two bfloat16 values
  // around x, the even one on a tie.
  std::mt19937 rng(11);
  for (int t = 0; t < 200000; ++t) {
    const std::uint32_t bits = rng();
    const float x = from_bits(bits);
    if (!std::isfinite(x) || std::abs(x) >= from_bits(0x7f7f8000u)) continue;
    const std::uint16_t toward_zero = static_cast<std::uint16_t>(bits >> 16);
    const std::uint16_t away = static_cast<std::uint16_t>(toward_zero + 1);
    const double down = std::abs(static_cast<double>(x) - widen(toward_zero));
    const double up = std::abs(static_cast<double>(widen(away)) - x);
    const std::uint16_t expected = down < up   ? toward_zero
                                   : up < down ? away
                                               : (toward_zero % 2 == 0 ? toward_zero : away);
    ASSERT_EQ(detail::float_to_bf16(x), expected) << "bits " << std::hex << bits;
  }
}

// Factors whose rows span several orders of magnitude, so that the bound's norm terms matter.
FactorMatrix spread_factors(Index rows, int f, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 0.3f);
  FactorMatrix m(rows, f);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    const float scale = r % 7 == 0 ? 30.0f : r % 5 == 0 ? 1e-3f : 1.0f;
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = scale * normal(rng);
  }
  return m;
}

TEST(RecipesBf16Scan, ApproximateScoresStayWithinTheirBound) {
  // The model scans the copy its target scans fastest (bfloat16, or 8 bits: int8_scan_test.cpp),
  // so each target makes its own. A partial last panel (1005 items), an odd width and a width of
  // one.
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    const bool int8 = detail::serving_scan(target) == detail::ServingScan::kInt8;
    for (int f : {64, 7, 1}) {
      const FactorMatrix users = spread_factors(20, f, 3), items = spread_factors(1005, f, 4);
      const AlsModel als("user-personalization", AlsParams{}, users, items);
      // A bound and not a licence to be off: bfloat16 rounds each factor within 2^-9 of it, so
      // the radius stays under 2^-8·‖u‖·‖y‖. 8 bits round each factor within s_i/2 ≤ ‖y‖/254 and
      // the user's within ‖u‖/254, and the scale grows past ‖u‖ when the user's error exceeds
      // 2^-7·‖u‖ (int8_scan.hpp): the worst case of both.
      const double root = std::sqrt(static_cast<double>(f));
      const double licence =
          int8 ? std::max(1.0, root * 128 / 254) * (root / 254 + std::ldexp(1.0, -7) * 1.01)
               : std::ldexp(1.0, -8);
      bool any_differs = false;
      for (Index u = 0; u < 20; ++u) {
        UserQuery q;
        q.user = u;
        std::vector<float> exact, approximate;
        als.score_all(q, exact);
        const ScoreBound bound = als.scorer(q)->approximate_scores(approximate);
        ASSERT_EQ(approximate.size(), exact.size());
        ASSERT_FALSE(bound.exact()) << "f " << f;
        const double u_norm = users.row(u).cast<double>().norm();
        float largest = 0;
        for (std::size_t i = 0; i < exact.size(); ++i) {
          const Index item = static_cast<Index>(i);
          ASSERT_LE(std::abs(approximate[i] - exact[i]), bound.of(item))
              << "f " << f << " user " << u << " item " << i;
          EXPECT_LE(bound.of(item), licence * u_norm * items.row(item).cast<double>().norm() * 1.01)
              << "f " << f << " user " << u << " item " << i;
          largest = std::max(largest, bound.of(item));
          any_differs |= approximate[i] != exact[i];
        }
        EXPECT_GE(bound.max(), largest);
      }
      EXPECT_TRUE(any_differs) << "f " << f << ": the compact scan was not used";
    }
  }
}

TEST(RecipesBf16Scan, ScoresOfChosenItemsAreBitwiseThoseOfTheFullScan) {
  // Re-scoring a candidate must give exactly the float32 scan's value, or the ranking of a
  // request and of a full sort could differ on a near-tie.
  for (int f : {64, 24, 7, 5, 1}) {
    const FactorMatrix users = spread_factors(10, f, 8), items = spread_factors(333, f, 9);
    const AlsModel als("user-personalization", AlsParams{}, users, items);
    std::vector<Index> all(333);
    for (Index i = 0; i < 333; ++i) all[i] = i;
    for (Index u = 0; u < 10; ++u) {
      UserQuery q;
      q.user = u;
      std::vector<float> full, chosen;
      als.score_all(q, full);
      als.score(q, all, chosen);
      for (Index i = 0; i < 333; ++i) {
        ASSERT_EQ(bits_of(chosen[i]), bits_of(full[i]))
            << "f " << f << " user " << u << " item " << i;
      }
    }
  }
}

TEST(RecipesBf16Scan, FactorsBfloat16CannotHoldFallBackToTheFloat32Scan) {
  // From 2^50 up a product of a factor and a user's part could overflow float32.
  for (float odd : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::max(), std::ldexp(1.0f, 127), std::ldexp(1.0f, 50),
                    -std::ldexp(1.0f, 50)}) {
    FactorMatrix items = spread_factors(40, 8, 5);
    items(17, 3) = odd;
    const AlsModel als("user-personalization", AlsParams{}, spread_factors(3, 8, 6), items);
    UserQuery q;
    q.user = 1;
    std::vector<float> exact, approximate;
    als.score_all(q, exact);
    EXPECT_TRUE(als.scorer(q)->approximate_scores(approximate).exact()) << odd;
    ASSERT_EQ(approximate.size(), exact.size());
    for (std::size_t i = 0; i < exact.size(); ++i) {
      ASSERT_EQ(bits_of(approximate[i]), bits_of(exact[i])) << odd << " item " << i;
    }
  }
  EXPECT_TRUE(detail::bf16_panels(FactorMatrix(0, 8)).empty());

  // A user vector that is not finite: the float32 scan, whose scores are what they are.
  FactorMatrix users = spread_factors(2, 8, 6);
  users(1, 2) = std::numeric_limits<float>::quiet_NaN();
  const AlsModel als("user-personalization", AlsParams{}, users, spread_factors(40, 8, 5));
  UserQuery q;
  q.user = 1;
  std::vector<float> approximate;
  EXPECT_TRUE(als.scorer(q)->approximate_scores(approximate).exact());
  EXPECT_EQ(approximate.size(), 40u);
}

// The dot-product kernel's table: on AVX-512 where the CPU has vdpbf16ps, and nowhere else.
const detail::AlsSimd* dot_kernels() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16")) return nullptr;
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    if (target == detail::CpuTarget::kAvx512) return &detail::als_simd(target);
  }
#endif
  return nullptr;
}

TEST(RecipesBf16Scan, TheDotProductScanIsOnAvx512WhereTheCpuHasItAndNowhereElse) {
  const detail::AlsSimd* dot = dot_kernels();
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    const bool expected = dot != nullptr && target == detail::CpuTarget::kAvx512;
    EXPECT_EQ(detail::als_simd(target).scan_bf16_dot != nullptr, expected)
        << detail::cpu_target_name(target);
  }
}

float flush_to_zero(float x) {
  return std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x;
}

// vdpbf16ps on one lane, as the instruction set defines it: the high halves' product added
// first, then the low halves', each a fused multiply-add (the product exact, one rounding to
// nearest) whose result is flushed to zero when subnormal.
float dot_step(float acc, std::uint32_t item, std::uint32_t user) {
  acc = flush_to_zero(std::fma(widen(static_cast<std::uint16_t>(item >> 16)),
                               widen(static_cast<std::uint16_t>(user >> 16)), acc));
  return flush_to_zero(std::fma(widen(static_cast<std::uint16_t>(item)),
                                widen(static_cast<std::uint16_t>(user)), acc));
}

// The kernel's sums for item i of the panels: pairs 0, 2, 4, … with the high and the low parts
// into sums 0 and 1, pairs 1, 3, … into sums 2 and 3 (an odd last pair into 0 and 1), then
// (s0 + s2) + (s1 + s3).
float reference_dot(const detail::Bf16Panels& panels, const std::vector<std::uint32_t>& user,
                    std::size_t pairs, std::size_t i) {
  const std::uint32_t* word = panels.data() +
                              (i / detail::kScorePanel) * pairs * detail::kScorePanel +
                              i % detail::kScorePanel;
  float sums[4] = {0, 0, 0, 0};
  for (std::size_t j = 0; j < pairs; ++j) {
    const std::uint32_t item = word[j * detail::kScorePanel];
    const std::size_t first = j % 2 == 0 ? 0 : 2;
    sums[first] = dot_step(sums[first], item, user[j]);
    sums[first + 1] = dot_step(sums[first + 1], item, user[pairs + j]);
  }
  return (sums[0] + sums[2]) + (sums[1] + sums[3]);
}

std::uint16_t flush_half(std::uint16_t half) {
  return (half & 0x7f80u) == 0 ? static_cast<std::uint16_t>(half & 0x8000u) : half;
}

TEST(RecipesBf16Scan, TheDotProductScanIsTheInstructionsArithmeticBitForBit) {
  const detail::AlsSimd* dot = dot_kernels();
  if (!dot) GTEST_SKIP() << "this CPU has no AVX-512 bfloat16 dot products";
  test::ScopedCpuTarget scope(detail::CpuTarget::kAvx512);
  // Widths with an even and an odd count of pairs, one pair, and an odd last factor; a partial
  // last panel (517 items).
  for (int f : {64, 7, 6, 2, 1}) {
    const std::size_t n = 517, pairs = (static_cast<std::size_t>(f) + 1) / 2;
    const FactorMatrix users = spread_factors(6, f, 21), items = spread_factors(n, f, 22);
    const detail::Bf16Panels panels = detail::bf16_panels(items);
    for (Eigen::Index u = 0; u < users.rows(); ++u) {
      // The user's two parts as score_bf16_panels splits them: v ≈ high + low, both bfloat16.
      std::vector<std::uint32_t> parts(2 * pairs, 0u);
      for (int k = 0; k < f; ++k) {
        const float v = users(u, k);
        const std::uint16_t high = flush_half(detail::float_to_bf16(v));
        const std::uint16_t low = flush_half(detail::float_to_bf16(v - widen(high)));
        const unsigned shift = k % 2 == 0 ? 16 : 0;
        parts[static_cast<std::size_t>(k) / 2] |= static_cast<std::uint32_t>(high) << shift;
        parts[pairs + static_cast<std::size_t>(k) / 2] |= static_cast<std::uint32_t>(low) << shift;
      }
      std::vector<float> kernel(n + 3, -7.0f), scan(n, -7.0f);
      dot->scan_bf16_dot(panels.data(), parts.data(), pairs, n, kernel.data());
      ASSERT_GT(detail::score_bf16_panels(panels, users.row(u).data(), f, n, scan.data()), 0.0f);
      for (std::size_t i = 0; i < n; ++i) {
        const float expected = reference_dot(panels, parts, pairs, i);
        ASSERT_EQ(bits_of(kernel[i]), bits_of(expected))
            << "f " << f << " user " << u << " item " << i << ": " << kernel[i] << " vs "
            << expected;
        // The serving scan takes this kernel for such users.
        ASSERT_EQ(bits_of(scan[i]), bits_of(expected))
            << "f " << f << " user " << u << " item " << i;
      }
      for (std::size_t i = n; i < n + 3; ++i) ASSERT_EQ(kernel[i], -7.0f);  // past the items
    }
  }
}

TEST(RecipesBf16Scan, TheBoundHoldsForTinyHugeAndSubnormalFactorsOnEveryTarget) {
  // Factors that make the scans split, flush or refuse: users of norm below 2^-20 (refused: the
  // caller scores them in float32; the instruction would flush their products with small items to
  // zero), users with parts too small for bfloat16 (flushed), products the instruction flushes,
  // items with subnormal factors (zeros in the panels), and factors spanning 2^-130 to 2^47.
  const int f = 9;
  const Index n = 70;
  std::mt19937_64 rng(31);
  std::uniform_real_distribution<float> exponent(-130.0f, 40.0f), unit(-1.0f, 1.0f);
  FactorMatrix items(n, f), users(8, f);
  for (Index i = 0; i < n; ++i) {
    for (int k = 0; k < f; ++k) {
      const float sign = unit(rng) < 0 ? -1.0f : 1.0f;
      // i % 5 == 3: exact in bfloat16 (no residual); times user 5's factors, subnormal products
      // that the instruction flushes to zero, which only the radii's floor covers.
      items(i, k) = i % 5 == 0   ? unit(rng) * std::ldexp(1.0f, -128 - k)
                    : i % 5 == 1 ? unit(rng) * std::exp2(exponent(rng) / 4)
                    : i % 5 == 2 ? unit(rng) * 1e-20f
                    : i % 5 == 3 ? sign * std::ldexp(1.0f, -107)
                                 : unit(rng);
    }
  }
  for (Eigen::Index u = 0; u < users.rows(); ++u) {
    for (int k = 0; k < f; ++k) {
      const float magnitude = u == 0   ? 1e-8f                               // norm under 2^-20
                              : u == 1 ? std::ldexp(1.0f, k % 2 ? -130 : 0)  // subnormal factors
                              : u == 2 ? 1.0f + std::ldexp(1.0f, -23)        // low part 2^-23: kept
                              : u == 3 ? std::exp2(exponent(rng))            // 2^-130 .. 2^40
                              : u == 4 ? 1e-20f
                              : u == 6 ? std::ldexp(1.0f, 47)  // norm under 2^50, products 2^97
                                       : 1.0f;
      users(u, k) = u == 5 ? (k % 2 ? -1.0f : 1.0f) * std::ldexp(1.0f, -20) : magnitude * unit(rng);
    }
  }
  const detail::Bf16Panels panels = detail::bf16_panels(items);
  ASSERT_FALSE(panels.empty());
  const std::vector<float> radii = detail::bf16_error_radii(panels, items);
  const detail::ScorePanels exact_panels = detail::score_panels(items);
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    for (Eigen::Index u = 0; u < users.rows(); ++u) {
      std::vector<float> exact(static_cast<std::size_t>(n)), approximate(exact.size());
      detail::score_panels(exact_panels.data(), users.row(u).data(), f, exact.size(), exact.data());
      const float scale = detail::score_bf16_panels(panels, users.row(u).data(), f,
                                                    approximate.size(), approximate.data());
      if (users.row(u).cast<double>().norm() < std::ldexp(1.0, -20)) {
        EXPECT_EQ(scale, -1.0f) << "user " << u;  // the caller's float32 scan
        continue;
      }
      ASSERT_GT(scale, 0.0f) << "user " << u;
      for (Index i = 0; i < n; ++i) {
        ASSERT_TRUE(std::isfinite(approximate[i])) << "user " << u << " item " << i;
        ASSERT_LE(std::abs(static_cast<double>(approximate[i]) - exact[i]),
                  static_cast<double>(scale) * radii[i])
            << "user " << u << " item " << i << ": " << approximate[i] << " vs " << exact[i];
      }
    }
  }
}

TEST(RecipesBf16Scan, ScorerRefusesItemsTheModelDoesNotKnow) {
  const AlsModel als("user-personalization", AlsParams{}, spread_factors(3, 8, 1),
                     spread_factors(40, 8, 2));
  UserQuery q;
  q.user = 0;
  const auto scorer = als.scorer(q);
  std::vector<float> scores;
  const std::vector<Index> unknown = {3, 40};
  try {
    scorer->score(unknown, scores);
    FAIL() << "an item past the catalog was scored";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("40"), std::string::npos) << e.what();
  }
  const std::vector<Index> known = {39, 0};
  scorer->score(known, scores);
  ASSERT_EQ(scores.size(), 2u);
}

}  // namespace
}  // namespace tailor
