// SPDX-License-Identifier: MIT
// Top-K selection against a full sort, under every kernel target; exceptions out of parallel
// loops.
#include "detail/topk.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <stdexcept>

#include "common/cpu_targets.hpp"
#include "detail/parallel.hpp"
#include "tailor/bitmap.hpp"

namespace tailor {
namespace {

TEST(DetailTopK, MatchesAFullSortWithMasksAndTies) {
  // The comparisons are kernels of each target: every one selects exactly the same.
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    std::mt19937 rng(1);
    for (int round = 0; round < 50; ++round) {
      const std::size_t n = 1 + rng() % 2000, k = rng() % 60;
      std::vector<float> scores(n);
      for (float& s : scores) s = static_cast<float>(rng() % 50);  // many ties
      Bitmap allowed(n, true);
      for (std::size_t i = 0; i < n; i += 3) allowed.reset(i);
      scores[n / 2] = -std::numeric_limits<float>::infinity();
      std::vector<ScoredItem> expected;
      for (std::size_t i = 0; i < n; ++i) {
        if (allowed.test(i) && scores[i] != -std::numeric_limits<float>::infinity()) {
          expected.push_back({static_cast<Index>(i), scores[i]});
        }
      }
      std::sort(expected.begin(), expected.end(), detail::better);
      if (expected.size() > k) expected.resize(k);
      std::vector<ScoredItem> got;
      detail::top_k(scores.data(), n, k, &allowed, got);
      ASSERT_EQ(got, expected) << "n=" << n << " k=" << k;
    }
  }
}

TEST(DetailTopK, UnmaskedSelectionOfDistinctScoresMatchesAFullSort) {
  // The comparisons are kernels of each target: every one selects exactly the same.
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    std::mt19937 rng(2);
    std::normal_distribution<float> normal;
    for (int round = 0; round < 50; ++round) {
      // Sizes on both sides of the 64-score groups the selection skips at once.
      const std::size_t n = 1 + rng() % 5000, k = 1 + rng() % 100;
      std::vector<float> scores(n);
      for (float& s : scores) s = normal(rng);
      std::vector<ScoredItem> expected;
      for (std::size_t i = 0; i < n; ++i) expected.push_back({static_cast<Index>(i), scores[i]});
      std::sort(expected.begin(), expected.end(), detail::better);
      if (expected.size() > k) expected.resize(k);
      std::vector<ScoredItem> got;
      detail::top_k(scores.data(), n, k, nullptr, got);
      ASSERT_EQ(got, expected) << "n=" << n << " k=" << k;
    }
  }
}

TEST(DetailTopK, ItemsAtLeastAThresholdMatchAPlainLoop) {
  // The comparisons are kernels of each target: every one selects exactly the same.
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    // Scores on a coarse grid, so that many equal the threshold; a catalog that ends mid-group; a
    // bitmap shorter than the catalog; knocked-out items at -infinity.
    std::mt19937 rng(5);
    const std::size_t n = 1000;
    std::vector<float> scores(n);
    for (float& s : scores) s = static_cast<float>(static_cast<int>(rng() % 41) - 20) / 4;
    for (std::size_t i = 0; i < n; i += 13) scores[i] = -std::numeric_limits<float>::infinity();
    Bitmap allowed(900, false);
    for (std::size_t i = 0; i < 900; ++i) allowed.set_if(i, rng() % 3 != 0);
    const Bitmap* const masks[] = {nullptr, &allowed};
    for (const Bitmap* mask : masks) {
      for (float threshold : {4.0f, 0.25f, -5.0f, -std::numeric_limits<float>::infinity()}) {
        std::vector<Index> expected, got;
        for (std::size_t i = 0; i < n; ++i) {
          const bool in_mask = !mask || (i < mask->size() && mask->test(i));
          if (in_mask && scores[i] >= threshold &&
              scores[i] != -std::numeric_limits<float>::infinity()) {
            expected.push_back(static_cast<Index>(i));
          }
        }
        detail::items_at_least(scores.data(), n, threshold, mask, got);
        EXPECT_EQ(got, expected) << "threshold " << threshold << (mask ? " masked" : "");
        EXPECT_FALSE(expected.empty());
      }
    }
  }
}

TEST(DetailParallel, ExceptionsLeaveTheParallelRegionAndOtherIterationsRun) {
  std::vector<int> done(100, 0);
  EXPECT_THROW(detail::parallel_for(100, 4,
                                    [&](std::size_t i) {
                                      done[i] = 1;
                                      if (i == 37) throw std::runtime_error("boom");
                                    }),
               std::runtime_error);
  EXPECT_EQ(std::count(done.begin(), done.end(), 1), 100);
}

}  // namespace
}  // namespace tailor
