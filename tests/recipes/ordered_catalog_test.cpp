// SPDX-License-Identifier: MIT
// The catalog in decreasing order of norm that batch jobs scan: its order, its 8-bit scores and
// their bounds, the limit on the scores left, and the tails' softmax sums against a sum of every
// float32 score's exponential.
#include "recipes/als/ordered_catalog.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "common/cpu_targets.hpp"
#include "recipes/als/als_kernels.hpp"
#include "recipes/als/block_simd.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

// n items of f factors with skewed lengths, as ALS gives popular items long vectors: item i has
// length about 2/(1 + i/40) in a random direction, and every 7th item repeats the one before
// (ties in length, kept in index order). `positive`: every factor positive, so that a positive
// user's scores are all positive and their cubes, the Taylor remainder's terms, do not cancel.
FactorMatrix skewed_items(Index n, int f, std::uint64_t seed, bool positive = false) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  FactorMatrix Y(n, f);
  for (Index i = 0; i < n; ++i) {
    if (i % 7 == 6) {
      Y.row(i) = Y.row(i - 1);
      continue;
    }
    for (int k = 0; k < f; ++k) Y(i, k) = positive ? std::abs(normal(rng)) : normal(rng);
    Y.row(i) *= (2.0f / (1.0f + static_cast<float>(i) / 40.0f)) / Y.row(i).norm();
  }
  return Y;
}

std::vector<float> random_user(int f, float length, std::mt19937_64& rng, bool positive = false) {
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> u(static_cast<std::size_t>(f));
  double norm = 0;
  for (float& x : u) {
    x = positive ? std::abs(normal(rng)) : normal(rng);
    norm += static_cast<double>(x) * x;
  }
  for (float& x : u) x = static_cast<float>(x * length / std::sqrt(norm));
  return u;
}

// The float32 scan's scores of every item (score_rows(), which the exact batch path gives bitwise).
std::vector<float> exact_scores(const FactorMatrix& Y, const std::vector<float>& u) {
  std::vector<Index> all(static_cast<std::size_t>(Y.rows()));
  for (Index i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<float> out(all.size());
  detail::score_rows(Y, all.data(), all.size(), u.data(), out.data());
  return out;
}

TEST(RecipesOrderedCatalog, HoldsTheLiveItemsLongestFirstWithTiesInIndexOrder) {
  const FactorMatrix Y = skewed_items(5000, 24, 1);
  const std::vector<Index> removed = {0, 17, 4999};
  const detail::OrderedCatalog catalog(Y, removed, 2048);
  ASSERT_FALSE(catalog.empty());
  ASSERT_EQ(catalog.size(), 5000u - removed.size());
  std::vector<Index> seen = catalog.items();
  for (std::size_t p = 1; p < seen.size(); ++p) {
    const float a = Y.row(seen[p - 1]).norm(), b = Y.row(seen[p]).norm();
    ASSERT_GE(a, b) << "position " << p;
    if (a == b) {
      ASSERT_LT(seen[p - 1], seen[p]) << "ties keep the lower index first";
    }
  }
  std::sort(seen.begin(), seen.end());
  for (Index i = 0, p = 0; i < 5000; ++i) {
    if (std::find(removed.begin(), removed.end(), i) != removed.end()) continue;
    ASSERT_EQ(seen[p++], i) << "each live item once";
  }
  // Each position's radius is its item's in the 8-bit copy of the catalog in item order.
  const std::vector<float> radii = detail::int8_error_radii(detail::int8_panels(Y), Y);
  for (Index p = 0; p < catalog.size(); ++p) {
    ASSERT_EQ(catalog.radii()[p], radii[catalog.items()[p]]);
  }
  EXPECT_EQ(catalog.max_radius(),
            *std::max_element(catalog.radii().begin(), catalog.radii().end()));
  // And by item, removed items too.
  EXPECT_EQ(catalog.item_radii(), radii);
  EXPECT_EQ(catalog.max_item_radius(), *std::max_element(radii.begin(), radii.end()));
}

TEST(RecipesOrderedCatalog, ApproximateScoresAreWithinTheirBoundsOnEveryTarget) {
  const int f = 20;  // not a multiple of four factors a word
  const FactorMatrix Y = skewed_items(3000, f, 2);
  const detail::OrderedCatalog catalog(Y, {5}, 2048);
  std::mt19937_64 rng(3);
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    const std::size_t quads = (f + 3) / 4, words = detail::int8_user_words(quads);
    const std::size_t users = 5;
    std::vector<std::uint32_t> rows(users * words);
    std::vector<std::vector<float>> us;
    std::vector<float> scales;
    for (std::size_t j = 0; j < users; ++j) {
      us.push_back(random_user(f, 0.5f + static_cast<float>(j), rng));
      scales.push_back(detail::int8_block_user(
          us.back().data(), f, detail::block_simd().int8_user_largest, rows.data() + j * words));
      ASSERT_GT(scales.back(), 0.0f);
    }
    // Two rows: a whole step and the partial last one.
    for (Index first : {Index{0}, Index{2048}}) {
      const Index count = std::min<Index>(2048, catalog.size() - first);
      std::vector<float> out(users * 2048);
      catalog.approximate_block(rows.data(), users, first, count, out.data(), 2048);
      for (std::size_t j = 0; j < users; ++j) {
        const std::vector<float> exact = exact_scores(Y, us[j]);
        for (Index i = 0; i < count; ++i) {
          const Index p = first + i;
          ASSERT_LE(std::abs(static_cast<double>(out[j * 2048 + i]) -
                             static_cast<double>(exact[catalog.items()[p]])),
                    static_cast<double>(scales[j]) * catalog.radii()[p])
              << detail::cpu_target_name(target) << " user " << j << " position " << p;
        }
      }
    }
  }
  std::vector<float> out(2048);
  std::vector<std::uint32_t> row(detail::int8_user_words(5));
  EXPECT_THROW(catalog.approximate_block(row.data(), 1, 8, 16, out.data(), 2048), Error)
      << "a block starts on a panel";
  EXPECT_THROW(catalog.approximate_block(row.data(), 1, 2048, 2048, out.data(), 2048), Error)
      << "a block lies within the catalog";
}

TEST(RecipesOrderedCatalog, NoScoreFromAPositionOnExceedsItsLimit) {
  const FactorMatrix Y = skewed_items(4500, 16, 4);
  const detail::OrderedCatalog catalog(Y, {}, 1024);
  std::mt19937_64 rng(5);
  for (float length : {1e-3f, 0.7f, 30.0f}) {
    const std::vector<float> u = random_user(16, length, rng);
    const std::vector<float> exact = exact_scores(Y, u);
    for (Index position = 0; position < catalog.size(); position += 1024) {
      const double limit = catalog.score_limit(u.data(), position);
      double largest = 0;
      for (Index p = position; p < catalog.size(); ++p) {
        largest = std::max(largest, std::abs(static_cast<double>(exact[catalog.items()[p]])));
      }
      ASSERT_LE(largest, limit) << "length " << length << " position " << position;
      // And not far above it: the limit is ‖u‖ times the longest vector left.
      ASSERT_LE(limit,
                static_cast<double>(length) * Y.row(catalog.items()[position]).norm() * 1.001);
    }
  }
}

TEST(RecipesOrderedCatalog, ATailsSumIsWithinItsToleranceOfTheFloat32ScoresExponentials) {
  const int f = 32;
  for (bool positive : {false, true}) {
    const FactorMatrix Y = skewed_items(9000, f, 6, positive);
    // Rows of 256 items: tails after rows 1 to 8, then 16 and 32 (positions 4,096 and 8,192).
    const detail::OrderedCatalog catalog(Y, {1, 2, 3}, 256);
    std::vector<Index> stops;
    for (Index position = 0; position < catalog.size(); position += 256) {
      if (catalog.stops_at(position)) stops.push_back(position);
    }
    ASSERT_EQ(stops, (std::vector<Index>{256, 512, 768, 1024, 1280, 1536, 1792, 2048, 4096, 8192}));
    std::vector<float> some(f, 0.1f);
    double none = 0;
    EXPECT_THROW(catalog.tail_sum(some.data(), 2304, 0.5, &none), Error) << "none after row 9";
    EXPECT_THROW(catalog.tail_sum(some.data(), 0, 0.5, &none), Error) << "nor before row 1";
    std::mt19937_64 rng(7);
    int taken = 0, refused = 0;
    for (float length : {0.0f, 1e-6f, 0.05f, 0.3f, 1.0f, 3.0f, 50.0f}) {
      const std::vector<float> u = random_user(f, length, rng, positive);
      const std::vector<float> exact = exact_scores(Y, u);
      for (Index position : stops) {
        double reference = 0;
        for (Index p = position; p < catalog.size(); ++p) {
          reference += std::exp(static_cast<double>(exact[catalog.items()[p]]));
        }
        for (double tolerance : {0.0, 1e-9, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.5}) {
          double sum = -1;
          if (!catalog.tail_sum(u.data(), position, tolerance, &sum)) {
            EXPECT_EQ(sum, -1) << "a refused tail leaves the sum alone";
            ++refused;
            continue;
          }
          ++taken;
          ASSERT_LE(std::abs(sum - reference), tolerance * reference)
              << "length " << length << " position " << position << " tolerance " << tolerance;
        }
      }
    }
    // Short users against the short vectors of the later tails are summed; a long user against
    // the first tail, or no tolerance at all, is refused.
    EXPECT_GT(taken, 20);
    EXPECT_GT(refused, 10);
    std::vector<float> longest = random_user(f, 50.0f, rng);
    double sum = 0;
    EXPECT_FALSE(catalog.tail_sum(longest.data(), 256, 0.5, &sum));
    std::vector<float> zero(f, 0.0f);
    ASSERT_TRUE(catalog.tail_sum(zero.data(), 4096, 1e-6, &sum)) << "a zero user's terms are all 1";
    EXPECT_EQ(sum, static_cast<double>(catalog.size() - 4096));
  }
}

TEST(RecipesOrderedCatalog, FactorsWithoutAnEightBitCopyOrNoLiveItemsMakeNoCatalog) {
  FactorMatrix Y = skewed_items(100, 8, 8);
  Y(3, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(detail::OrderedCatalog(Y, {}, 2048).empty());
  const FactorMatrix two = skewed_items(2, 8, 9);
  EXPECT_TRUE(detail::OrderedCatalog(two, {0, 1}, 2048).empty());
  EXPECT_THROW(detail::OrderedCatalog(two, {}, 100), Error) << "a step of whole panels";
}

}  // namespace
}  // namespace tailor
