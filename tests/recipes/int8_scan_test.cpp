// SPDX-License-Identifier: MIT
// The 8-bit serving scan: quantisation, the error bound against the float32 scan on every target
// this CPU supports (with and without the user quantised), on adversarial factors, and through
// AlsModel with removed items.
#include "recipes/als/int8_scan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "common/cpu_targets.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor {
namespace {

using detail::CpuTarget;

FactorMatrix random_matrix(Index rows, int f, std::uint64_t seed, float sd = 0.3f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, sd);
  FactorMatrix m(rows, f);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = normal(rng);
  }
  return m;
}

// Items that a careless bound would miss: norms from 1e-9 to 1e9, rows below the quantisation
// threshold, zero rows, one dominant factor (the rest round to 0), factors of one magnitude (all
// round to ±127), alternating signs, and exact ties.
FactorMatrix adversarial_items(Index rows, int f, std::uint64_t seed) {
  FactorMatrix m = random_matrix(rows, f, seed);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    switch (r % 11) {
      case 0:
        m.row(r) *= 1e9f;
        break;
      case 1:
        m.row(r) *= 1e-9f;  // below 2^-30: stored as zeros, scale 0
        break;
      case 2:
        m.row(r).setZero();
        break;
      case 3:
        m.row(r) *= 1e-3f;
        m(r, r % f) = 50.0f;
        break;
      case 4:
        for (int c = 0; c < f; ++c) m(r, c) = c % 2 == 0 ? 0.7f : -0.7f;
        break;
      case 5:
        m.row(r) = m.row(r - 1);
        break;
      case 6:
        m.row(r) *= 3e4f;
        break;
      default:
        break;
    }
  }
  return m;
}

// |scores[i] − u·y_i| ≤ scale·radii[i] with u·y_i in double: the float32 scan's own error is
// inside the radius, so this is stricter than the bound serving needs (within scale·radii[i] of
// the float32 score) by at most that error, and the float32 scan is checked against it too.
void expect_within_bound(const detail::Int8Panels& panels, const std::vector<float>& radii,
                         const FactorMatrix& Y, const float* u, const std::string& what) {
  const int f = static_cast<int>(Y.cols());
  const std::size_t n = static_cast<std::size_t>(Y.rows());
  std::vector<float> scores(n, -7.0f), exact32(n);
  const float scale = detail::score_int8_panels(panels, u, f, n, scores.data());
  ASSERT_GT(scale, 0.0f) << what;
  const detail::ScorePanels fp = detail::score_panels(Y);
  detail::score_panels(fp.data(), u, f, n, exact32.data());
  double norm = 0;
  for (int k = 0; k < f; ++k) norm += static_cast<double>(u[k]) * u[k];
  EXPECT_GE(static_cast<double>(scale), std::sqrt(norm)) << what;
  for (std::size_t i = 0; i < n; ++i) {
    double exact = 0;
    for (int k = 0; k < f; ++k) {
      exact += static_cast<double>(u[k]) * Y(static_cast<Eigen::Index>(i), k);
    }
    const double bound = static_cast<double>(scale * radii[i]);
    ASSERT_TRUE(std::isfinite(scores[i])) << what << " item " << i;
    ASSERT_LE(std::abs(scores[i] - exact), bound) << what << " item " << i;
    ASSERT_LE(std::abs(static_cast<double>(scores[i]) - exact32[i]), bound)
        << what << " item " << i;
  }
}

TEST(RecipesInt8Scan, QuantisesEachItemToItsOwnScale) {
  const int f = 37;
  const FactorMatrix Y = adversarial_items(300, f, 1);
  const detail::Int8Panels panels = detail::int8_panels(Y);
  ASSERT_FALSE(panels.empty());
  ASSERT_EQ(panels.scales.size(), 304u);  // whole panels, zero past the last item
  for (std::size_t i = 300; i < 304; ++i) EXPECT_EQ(panels.scales[i], 0.0f);
  for (Index i = 0; i < 300; ++i) {
    const float largest = Y.row(i).cwiseAbs().maxCoeff();
    const double scale = panels.scales[i];
    if (largest < std::ldexp(1.0f, -30)) {
      EXPECT_EQ(scale, 0.0) << "item " << i;
      for (int k = 0; k < f; ++k) EXPECT_EQ(detail::int8_factor(panels, f, i, k), 0);
      continue;
    }
    EXPECT_NEAR(scale, largest / 127.0, largest * 1e-6) << "item " << i;
    int top = 0;
    for (int k = 0; k < f; ++k) {
      const int q = detail::int8_factor(panels, f, i, static_cast<std::size_t>(k));
      ASSERT_LE(std::abs(q), 127);
      top = std::max(top, std::abs(q));
      // Rounded to nearest: within half a step (and a little for the quotient's rounding).
      ASSERT_LE(std::abs(scale * q - Y(i, k)), scale * (0.5 + 1e-5)) << i << "," << k;
    }
    EXPECT_EQ(top, 127) << "item " << i;  // the largest factor uses the whole range
  }
}

TEST(RecipesInt8Scan, KeepsItsErrorBoundOnEveryTarget) {
  // Widths of whole quads, a partial last quad, and one factor; a last panel that is not full.
  for (int f : {64, 32, 37, 5, 1}) {
    const Index n = 517;
    const FactorMatrix Y = random_matrix(n, f, 7);
    const FactorMatrix U = random_matrix(3, f, 8);
    const detail::Int8Panels panels = detail::int8_panels(Y);
    const std::vector<float> radii = detail::int8_error_radii(panels, Y);
    ASSERT_EQ(radii.size(), static_cast<std::size_t>(n));
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      for (Eigen::Index user = 0; user < U.rows(); ++user) {
        expect_within_bound(panels, radii, Y, U.row(user).data(),
                            "f " + std::to_string(f) + " user " + std::to_string(user));
        // Not a licence to be off: typical factors, typical users, about 1% of ‖u‖·‖y‖.
        std::vector<float> scores(n);
        const float scale =
            detail::score_int8_panels(panels, U.row(user).data(), f, n, scores.data());
        for (Index i = 0; i < n && f >= 32; ++i) {
          EXPECT_LE(scale * radii[i],
                    0.03 * U.row(user).cast<double>().norm() * Y.row(i).cast<double>().norm());
        }
      }
    }
  }
}

TEST(RecipesInt8Scan, BoundHoldsOnAdversarialFactorsAndUsers) {
  for (int f : {64, 13}) {
    const FactorMatrix Y = adversarial_items(700, f, 3);
    const detail::Int8Panels panels = detail::int8_panels(Y);
    const std::vector<float> radii = detail::int8_error_radii(panels, Y);
    ASSERT_EQ(radii.size(), 700u);
    for (float r : radii) ASSERT_GT(r, 0.0f);
    // Users: typical, long, short, one dominant factor (the others quantise to 0: the user's
    // rounding error is then large against ‖u‖), all factors equal, alternating tiny and large.
    FactorMatrix users = random_matrix(6, f, 4);
    users.row(1) *= 1e8f;
    users.row(2) *= 1e-8f;
    users.row(3) *= 1e-3f;
    users(3, 0) = 1.0f;
    users.row(4).setConstant(-0.25f);
    for (int k = 0; k < f; ++k) users(5, k) = k % 2 == 0 ? 1e-6f : 3.0f;
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      for (Eigen::Index user = 0; user < users.rows(); ++user) {
        expect_within_bound(panels, radii, Y, users.row(user).data(),
                            "f " + std::to_string(f) + " user " + std::to_string(user));
      }
    }
  }
}

TEST(RecipesInt8Scan, RefusesWhatItCannotBound) {
  const int f = 8;
  for (float odd : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    std::ldexp(1.0f, 50), -std::ldexp(1.0f, 60)}) {
    FactorMatrix Y = random_matrix(40, f, 5);
    Y(17, 3) = odd;
    EXPECT_TRUE(detail::int8_panels(Y).empty()) << odd;
    EXPECT_TRUE(detail::int8_error_radii(detail::int8_panels(Y), Y).empty()) << odd;
  }
  EXPECT_TRUE(detail::int8_panels(FactorMatrix(0, f)).empty());

  const FactorMatrix Y = random_matrix(40, f, 5);
  const detail::Int8Panels panels = detail::int8_panels(Y);
  std::vector<float> scores(40, 3.0f);
  for (CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    for (float odd : {0.0f, 1e-20f, 1e20f, std::numeric_limits<float>::quiet_NaN(),
                      std::numeric_limits<float>::infinity()}) {
      std::vector<float> u(f, odd);
      EXPECT_EQ(detail::score_int8_panels(panels, u.data(), f, 40, scores.data()), -1.0f) << odd;
    }
    for (float s : scores) ASSERT_EQ(s, 3.0f);  // untouched
    EXPECT_EQ(
        detail::score_int8_panels(detail::Int8Panels{}, Y.row(0).data(), f, 40, scores.data()),
        -1.0f);
  }
}

TEST(RecipesInt8Scan, ModelKeepsRemovedItemsOutAndItsBoundOnEveryTarget) {
  const int f = 24;
  const FactorMatrix users = random_matrix(6, f, 9), items = adversarial_items(250, f, 10);
  for (CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    // Made under the target, so the copy that target scans fastest is the one built.
    const AlsModel full("user-personalization", AlsParams{}, users, items);
    const std::vector<Index> gone = {0, 3, 17, 249};
    const auto model = full.without({}, gone);
    for (Index u = 0; u < 6; ++u) {
      UserQuery q;
      q.user = u;
      std::vector<float> exact, approximate;
      model->score_all(q, exact);
      const ScoreBound bound = model->scorer(q)->approximate_scores(approximate);
      ASSERT_FALSE(bound.exact()) << "user " << u;
      ASSERT_EQ(approximate.size(), exact.size());
      for (std::size_t i = 0; i < exact.size(); ++i) {
        const Index item = static_cast<Index>(i);
        if (std::find(gone.begin(), gone.end(), item) != gone.end()) {
          EXPECT_EQ(approximate[i], -std::numeric_limits<float>::infinity());
          EXPECT_EQ(exact[i], -std::numeric_limits<float>::infinity());
          continue;
        }
        ASSERT_LE(std::abs(approximate[i] - exact[i]), bound.of(item))
            << "user " << u << " item " << i;
        ASSERT_LE(bound.of(item), bound.max());
      }
    }
  }
}

}  // namespace
}  // namespace tailor
