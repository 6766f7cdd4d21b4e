// SPDX-License-Identifier: MIT
// The block-scoring kernel (batch jobs' matrix product) under every instruction-set target this
// CPU supports: against a scalar reference in double, for every shape of its register tiles, each
// user's scores independent of the other users of the block, and bitwise the catalogue scan's.
//
// Tolerance as in als_simd_test.cpp: a float32 sum of f products in any order, fused or not, is
// within γ_f·Σ|a_k·b_k| of the exact sum, γ_f = f·2⁻²⁴ / (1 − f·2⁻²⁴).
#include "recipes/als/block_simd.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/cpu_targets.hpp"
#include "common/random_data.hpp"
#include "recipes/als/als_kernels.hpp"
#include "recipes/als/int8_scan.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor {
namespace {

using detail::CpuTarget;
using detail::kScorePanel;

using test::gamma;
using test::random_matrix;

// Factor counts of the recipe's usual sizes, odd ones and one below a vector.
constexpr int kWidths[] = {64, 32, 128, 37, 5};

TEST(RecipesBlockSimd, EveryTileShapeMatchesTheScalarReferenceOnEveryTarget) {
  for (int f : kWidths) {
    const Index n = 9 * kScorePanel - 3;  // 9 panels, the last one zero-padded
    const FactorMatrix Y = random_matrix(n, f, 1);
    const detail::ScorePanels panels = detail::score_panels(Y);
    const FactorMatrix U = random_matrix(29, f, 2);
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      // Every count of users up to 29 (whole tiles and every remainder of tiles of up to 28 users)
      // and of panels up to 9 (whole and partial groups of panels).
      for (std::size_t users = 1; users <= 29; ++users) {
        for (std::size_t panel_count :
             {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{8}, std::size_t{9}}) {
          const std::size_t first_panel = 9 - panel_count;
          const std::size_t stride = panel_count * kScorePanel + 3;
          std::vector<float> out(users * stride, -7.0f);
          detail::score_panels_block(panels, f, U.data(), users, first_panel, panel_count,
                                     out.data(), stride);
          for (std::size_t j = 0; j < users; ++j) {
            for (std::size_t c = 0; c < panel_count * kScorePanel; ++c) {
              const Index item = static_cast<Index>(first_panel * kScorePanel + c);
              const float got = out[j * stride + c];
              if (item >= n) {
                ASSERT_EQ(got, 0.0f);  // padding items have zero factors
                continue;
              }
              double exact = 0, magnitude = 0;
              for (int k = 0; k < f; ++k) {
                const double p = static_cast<double>(U(static_cast<Eigen::Index>(j), k)) *
                                 Y(static_cast<Eigen::Index>(item), k);
                exact += p;
                magnitude += std::abs(p);
              }
              ASSERT_LE(std::abs(got - exact), gamma(f) * magnitude)
                  << "f=" << f << " users=" << users << " panels=" << panel_count << " user " << j
                  << " item " << item;
            }
            for (std::size_t c = panel_count * kScorePanel; c < stride; ++c) {
              ASSERT_EQ(out[j * stride + c], -7.0f) << "past the panels, untouched";
            }
          }
        }
      }
    }
  }
}

TEST(RecipesBlockSimd, AUsersScoresDoNotDependOnTheBlock) {
  // recommend_all() scores users in groups of any size: a user's scores must be the same bits
  // alone, in a full tile or in a remainder, on each target.
  const int f = 64;
  const Index n = 5 * kScorePanel;
  const FactorMatrix Y = random_matrix(n, f, 3);
  const detail::ScorePanels panels = detail::score_panels(Y);
  const std::size_t users = 23;
  const FactorMatrix U = random_matrix(static_cast<Index>(users), f, 4);
  const std::size_t stride = n;
  for (CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    std::vector<float> all(users * stride);
    detail::score_panels_block(panels, f, U.data(), users, 0, 5, all.data(), stride);
    for (std::size_t first = 0; first < users; ++first) {
      for (std::size_t count : {std::size_t{1}, users - first}) {
        std::vector<float> some(count * stride);
        detail::score_panels_block(panels, f, U.data() + first * f, count, 0, 5, some.data(),
                                   stride);
        for (std::size_t j = 0; j < count; ++j) {
          ASSERT_EQ(std::memcmp(some.data() + j * stride, all.data() + (first + j) * stride,
                                stride * sizeof(float)),
                    0)
              << "user " << first + j << " in a block of " << count;
        }
      }
    }
  }
}

TEST(RecipesBlockSimd, ScoresAreBitwiseTheCatalogueScansOnEveryTarget) {
  // A batch job ranks on the same bits as single requests (which scan the catalogue): equal
  // scores tie the same way, and near-equal ones cannot swap.
  for (int f : kWidths) {
    const Index n = 7 * kScorePanel - 5;
    const FactorMatrix Y = random_matrix(n, f, 5);
    const detail::ScorePanels panels = detail::score_panels(Y);
    const std::size_t users = 19;
    const FactorMatrix U = random_matrix(static_cast<Index>(users), f, 6);
    const std::size_t stride = 7 * kScorePanel;
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      std::vector<float> block(users * stride);
      detail::score_panels_block(panels, f, U.data(), users, 0, 7, block.data(), stride);
      for (std::size_t j = 0; j < users; ++j) {
        std::vector<float> scan(n);
        detail::score_panels(panels.data(), U.data() + j * static_cast<std::size_t>(f), f, n,
                             scan.data());
        for (Index i = 0; i < n; ++i) {
          ASSERT_EQ(std::memcmp(&block[j * stride + i], &scan[i], sizeof(float)), 0)
              << "f=" << f << " user " << j << " item " << i << ": " << block[j * stride + i]
              << " vs " << scan[i];
        }
      }
    }
  }
}

// Users quantised as batch jobs quantise them for a kernel taking bytes in [−largest, largest]
// (AlsModel::approximate_state): each row the user's words from int8_user(), then s_u's bits,
// then Σ v_k, then `largest`; and each user's bound scale.
std::vector<std::uint32_t> quantised_users(const FactorMatrix& U, int largest,
                                           std::vector<float>& scales, std::vector<float>& bounds) {
  const std::size_t f = static_cast<std::size_t>(U.cols()), quads = (f + 3) / 4;
  const std::size_t words = detail::int8_user_words(quads);
  std::vector<std::uint32_t> rows(static_cast<std::size_t>(U.rows()) * words);
  scales.assign(static_cast<std::size_t>(U.rows()), 0.0f);
  bounds.assign(static_cast<std::size_t>(U.rows()), 0.0f);
  for (Eigen::Index j = 0; j < U.rows(); ++j) {
    std::uint32_t* row = rows.data() + static_cast<std::size_t>(j) * words;
    const Eigen::VectorXf u = U.row(j).transpose();
    bounds[j] = detail::int8_user(u.data(), static_cast<int>(f), row, &scales[j], largest);
    std::int32_t sum = 0;
    for (std::size_t g = 0; g < quads; ++g) {
      for (unsigned b = 0; b < 32; b += 8) sum += static_cast<std::int8_t>((row[g] >> b) & 0xff);
    }
    std::memcpy(&row[quads], &scales[j], sizeof(float));
    std::memcpy(&row[quads + 1], &sum, sizeof sum);
    row[quads + 2] = static_cast<std::uint32_t>(largest);
    // The library's own row builder writes the same row.
    std::vector<std::uint32_t> built(words);
    EXPECT_EQ(detail::int8_block_user(u.data(), static_cast<int>(f), largest, built.data()),
              bounds[j]);
    EXPECT_TRUE(std::equal(built.begin(), built.end(), row));
  }
  return rows;
}

TEST(RecipesBlockSimd, Int8BlocksAreTheIntegerDotProductsTimesTheScalesOnEveryTarget) {
  // The 8-bit block kernel (AVX-512 VNNI and AVX2 where the CPU has them, a portable loop
  // elsewhere) against a scalar reference: the exact integer dot product v·q_i, as a float, times
  // the product of the two scales, bitwise, for every tile shape; and within the proven bound
  // S·r_i of the exact dot product of the float32 factors. The first items and users are all ±1,
  // every byte at its largest magnitude, the sums of 16-bit pairs on AVX2 at theirs.
  for (int f : kWidths) {
    const Index n = 9 * kScorePanel - 3;
    FactorMatrix Y = random_matrix(n, f, 11);
    FactorMatrix U = random_matrix(29, f, 12);
    std::mt19937 signs(13);
    for (Eigen::Index k = 0; k < f; ++k) {
      Y(0, k) = U(0, k) = 1.0f;
      Y(1, k) = U(1, k) = -1.0f;
      for (Eigen::Index i = 2; i < 6; ++i) Y(i, k) = signs() % 2 ? 1.0f : -1.0f;
      U(2, k) = signs() % 2 ? 1.0f : -1.0f;
    }
    const detail::Int8Panels panels = detail::int8_panels(Y);
    const std::vector<float> radii = detail::int8_error_radii(panels, Y);
    ASSERT_FALSE(panels.empty());
    auto biased = panels.words;
    detail::bias_int8_words(biased);
    const std::size_t quads = (static_cast<std::size_t>(f) + 3) / 4;
    const std::size_t words = detail::int8_user_words(quads);
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      std::vector<float> user_scales, bounds;
      const std::vector<std::uint32_t> users =
          quantised_users(U, detail::block_simd().int8_user_largest, user_scales, bounds);
      for (std::size_t count = 1; count <= 29; ++count) {
        for (std::size_t panel_count :
             {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{8}, std::size_t{9}}) {
          const std::size_t first_panel = 9 - panel_count;
          const std::size_t stride = panel_count * kScorePanel + 3;
          std::vector<float> out(count * stride, -7.0f);
          detail::block_simd().score_block_int8(biased.data() + first_panel * quads * kScorePanel,
                                                panels.scales.data() + first_panel * kScorePanel,
                                                quads, users.data(), count, panel_count, out.data(),
                                                stride);
          for (std::size_t j = 0; j < count; ++j) {
            for (std::size_t c = 0; c < panel_count * kScorePanel; ++c) {
              const std::size_t item = first_panel * kScorePanel + c;
              const float got = out[j * stride + c];
              if (item >= static_cast<std::size_t>(n)) {
                ASSERT_EQ(got, 0.0f);  // padding items: zero bytes, scale 0
                continue;
              }
              std::int32_t dot = 0;
              double exact = 0;
              for (int k = 0; k < f; ++k) {
                const std::uint32_t word = users[j * words + static_cast<std::size_t>(k) / 4];
                const auto v = static_cast<std::int8_t>((word >> (8 * (k % 4))) & 0xff);
                dot += v * detail::int8_factor(panels, static_cast<std::size_t>(f), item,
                                               static_cast<std::size_t>(k));
                exact += static_cast<double>(U(static_cast<Eigen::Index>(j), k)) *
                         Y(static_cast<Eigen::Index>(item), k);
              }
              const float expected =
                  static_cast<float>(dot) * (panels.scales[item] * user_scales[j]);
              ASSERT_EQ(std::memcmp(&got, &expected, sizeof got), 0)
                  << "f=" << f << " users=" << count << " panels=" << panel_count << " user " << j
                  << " item " << item << ": " << got << " vs " << expected;
              ASSERT_LE(std::abs(static_cast<double>(got) - exact),
                        static_cast<double>(bounds[j] * radii[item]))
                  << "f=" << f << " user " << j << " item " << item;
            }
            for (std::size_t c = panel_count * kScorePanel; c < stride; ++c) {
              ASSERT_EQ(out[j * stride + c], -7.0f) << "past the panels, untouched";
            }
          }
        }
      }
    }
  }
}

TEST(RecipesBlockSimd, AUserRowIsRefusedUntouchedForABadRangeOrVector) {
  // A byte range outside [1, 127], a zero vector or a non-finite factor: −1, and the row keeps
  // what it held.
  const int f = 8;
  const std::size_t quads = 2, words = detail::int8_user_words(quads);
  std::vector<float> u(f, 0.5f);
  for (int largest : {0, -1, 128, 1000}) {
    std::vector<std::uint32_t> row(words, 0xdeadbeefu);
    EXPECT_EQ(detail::int8_block_user(u.data(), f, largest, row.data()), -1.0f) << largest;
    EXPECT_TRUE(
        std::all_of(row.begin(), row.end(), [](std::uint32_t w) { return w == 0xdeadbeefu; }));
  }
  std::vector<float> zero(f, 0.0f), nan(f, 0.5f);
  nan[3] = std::numeric_limits<float>::quiet_NaN();
  for (const std::vector<float>* bad : {&zero, &nan}) {
    std::vector<std::uint32_t> row(words, 0xdeadbeefu);
    EXPECT_EQ(detail::int8_block_user(bad->data(), f, 64, row.data()), -1.0f);
    EXPECT_TRUE(
        std::all_of(row.begin(), row.end(), [](std::uint32_t w) { return w == 0xdeadbeefu; }));
  }
  // The edges of the range are taken: every byte of an all-equal vector is ±largest.
  for (int largest : {1, 127}) {
    std::vector<std::uint32_t> row(words, 0);
    EXPECT_GT(detail::int8_block_user(u.data(), f, largest, row.data()), 0.0f) << largest;
    EXPECT_EQ(row[0] & 0xffu, static_cast<std::uint32_t>(largest));
    EXPECT_EQ(row[quads + 2], static_cast<std::uint32_t>(largest));
  }
}

TEST(RecipesBlockSimd, ApproximateStatesBuiltUnderOneTargetScoreTheSameUnderAnother) {
  // A batch user's approximate state holds bytes in its kernel's range (127, or 64 on AVX2). One
  // built under a target of the wider range and scored under the narrower (set_cpu_target() in
  // between) goes to the portable kernel instead of saturating: its scores are bitwise those of
  // the target it was built under. Users and items of all ±1 make every byte its largest.
  std::vector<CpuTarget> fast;
  for (CpuTarget target : detail::cpu_supported_targets()) {
    if (detail::batch_int8(target)) fast.push_back(target);
  }
  if (fast.size() < 2) GTEST_SKIP() << "this CPU has fewer than two 8-bit batch kernels";
  const int f = 64;
  const Index n = 4 * kScorePanel, users = 4;
  FactorMatrix Y = random_matrix(n, f, 31), U = random_matrix(users, f, 32);
  for (Eigen::Index k = 0; k < f; ++k) {
    Y(0, k) = U(0, k) = 1.0f;
    Y(1, k) = U(1, k) = -1.0f;
  }
  const AlsModel model("user-personalization", AlsParams{}, U, Y);
  const BlockScorer& blocks = *model.block_scorer();
  const std::size_t width = static_cast<std::size_t>(n);
  auto scores = [&](const std::vector<float>& states) {
    std::vector<float> out(static_cast<std::size_t>(users) * width);
    blocks.approximate_block(states.data(), static_cast<std::size_t>(users), 0, n, out.data(),
                             width);
    return out;
  };
  for (CpuTarget built : fast) {
    std::vector<float> states, expected;
    {
      test::ScopedCpuTarget scope(built);
      const std::size_t size = blocks.approximate_state_size();
      ASSERT_GT(size, 0u);
      states.resize(static_cast<std::size_t>(users) * size);
      std::vector<float> state(blocks.state_size());
      for (Index j = 0; j < users; ++j) {
        UserQuery query;
        query.user = j;
        blocks.user_state(query, state.data());
        ASSERT_FALSE(
            blocks
                .approximate_state(state.data(), states.data() + static_cast<std::size_t>(j) * size)
                .exact());
      }
      expected = scores(states);
    }
    for (CpuTarget scored : fast) {
      test::ScopedCpuTarget scope(scored);
      const std::vector<float> got = scores(states);
      ASSERT_EQ(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0)
          << "built under " << detail::cpu_target_name(built) << ", scored under "
          << detail::cpu_target_name(scored);
    }
  }
}

TEST(RecipesBlockSimd, EachTargetHasItsOwnKernel) {
  // The table of each supported target is its own copy (a missing case in the dispatch would
  // silently run another target's instructions).
  const std::vector<CpuTarget> targets = detail::cpu_supported_targets();
  for (std::size_t a = 0; a < targets.size(); ++a) {
    for (std::size_t b = a + 1; b < targets.size(); ++b) {
      EXPECT_NE(detail::block_simd(targets[a]).score_block,
                detail::block_simd(targets[b]).score_block)
          << detail::cpu_target_name(targets[a]) << " and " << detail::cpu_target_name(targets[b]);
      EXPECT_NE(detail::block_simd(targets[a]).score_block_int8,
                detail::block_simd(targets[b]).score_block_int8)
          << detail::cpu_target_name(targets[a]) << " and " << detail::cpu_target_name(targets[b]);
    }
  }
}

}  // namespace
}  // namespace tailor
