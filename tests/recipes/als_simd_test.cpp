// SPDX-License-Identifier: MIT
// The ALS and scan kernels under every instruction-set target this CPU supports, against scalar
// references computed in double.
//
// Tolerance: a float32 sum of f products, in any order, with or without fused multiply-adds, is
// within γ_f·Σ|a_k·b_k| of the exact sum, γ_f = f·2⁻²⁴ / (1 − f·2⁻²⁴) (the standard bound). The
// targets differ exactly there (vector width changes the order of the partial sums; AVX2 and
// AVX-512 fuse the multiply and add, baseline and SSE4 round twice), so each result is checked
// against the double-precision reference within that bound, not bitwise. A few CG steps add the
// conditioning of the system: those are compared with the baseline target within 1e-5 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/cpu_targets.hpp"
#include "common/random_data.hpp"
#include "recipes/als/als_kernels.hpp"
#include "recipes/als/bf16_scan.hpp"
#include "tailor/recipes/training_data.hpp"

namespace tailor {
namespace {

using detail::CpuTarget;

using test::gamma;
using test::random_matrix;

// |got − Σ a_k b_k| ≤ γ_f·Σ|a_k b_k|, the sums in double.
void expect_dot(float got, const float* a, const float* b, int f, const std::string& what) {
  double exact = 0, magnitude = 0;
  for (int k = 0; k < f; ++k) {
    exact += static_cast<double>(a[k]) * b[k];
    magnitude += std::abs(static_cast<double>(a[k]) * b[k]);
  }
  ASSERT_LE(std::abs(got - exact), gamma(f) * magnitude) << what << ": " << got << " vs " << exact;
}

// Widths with and without a compile-time copy of the CG, odd and below a vector.
constexpr int kWidths[] = {64, 32, 37, 5};

TEST(RecipesAlsSimd, CatalogueScanMatchesTheScalarReferenceOnEveryTarget) {
  for (int f : kWidths) {
    const Index n = 1000 + 7;  // a last panel that is not full
    const FactorMatrix Y = random_matrix(n, f, 1);
    const FactorMatrix U = random_matrix(3, f, 2);
    const detail::ScorePanels panels = detail::score_panels(Y);
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      for (Eigen::Index user = 0; user < U.rows(); ++user) {
        std::vector<float> scores(n + 16, -7.0f);  // the padding past n must stay untouched
        detail::score_panels(panels.data(), U.row(user).data(), f, n, scores.data());
        for (Index i = 0; i < n; ++i) {
          expect_dot(scores[i], U.row(user).data(), Y.row(i).data(), f,
                     "item " + std::to_string(i));
        }
        for (std::size_t i = n; i < scores.size(); ++i) ASSERT_EQ(scores[i], -7.0f);
      }
    }
  }
}

TEST(RecipesAlsSimd, ScoreRowsIsBitwiseTheScanWithinEachTarget) {
  // Serving re-scores candidates with score_rows and compares them with the scan's scores.
  const int f = 64;
  const Index n = 333;
  const FactorMatrix Y = random_matrix(n, f, 3);
  const FactorMatrix U = random_matrix(1, f, 4);
  const detail::ScorePanels panels = detail::score_panels(Y);
  std::vector<Index> rows;
  for (Index i = n; i-- > 0;) {
    if (i % 3 != 1) rows.push_back(i);  // any order, any subset
  }
  for (CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    std::vector<float> all(n), some(rows.size());
    detail::score_panels(panels.data(), U.data(), f, n, all.data());
    detail::score_rows(Y, rows.data(), rows.size(), U.data(), some.data());
    for (std::size_t j = 0; j < rows.size(); ++j) {
      ASSERT_EQ(std::memcmp(&some[j], &all[rows[j]], sizeof(float)), 0) << "item " << rows[j];
    }
  }
}

TEST(RecipesAlsSimd, BlockScoringMatchesTheScalarReferenceOnEveryTarget) {
  for (int f : kWidths) {
    const Index n = 200;  // 12.5 panels: the last one zero-padded
    const FactorMatrix Y = random_matrix(n, f, 5);
    const std::size_t users = 11;  // not a multiple of any target's tile
    const FactorMatrix U = random_matrix(static_cast<Index>(users), f, 6);
    const detail::ScorePanels panels = detail::score_panels(Y);
    const std::size_t first_panel = 2, panel_count = 11, stride = panel_count * 16 + 5;
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      std::vector<float> out(users * stride, -7.0f);
      detail::score_panels_block(panels, f, U.data(), users, first_panel, panel_count, out.data(),
                                 stride);
      for (std::size_t j = 0; j < users; ++j) {
        for (std::size_t c = 0; c < panel_count * 16; ++c) {
          const Index item = static_cast<Index>(first_panel * 16 + c);
          const float got = out[j * stride + c];
          if (item >= n) {
            ASSERT_EQ(got, 0.0f);  // padding items have zero factors
            continue;
          }
          expect_dot(got, U.row(static_cast<Eigen::Index>(j)).data(), Y.row(item).data(), f,
                     "user " + std::to_string(j) + " item " + std::to_string(item));
        }
        for (std::size_t c = panel_count * 16; c < stride; ++c) {
          ASSERT_EQ(out[j * stride + c], -7.0f);  // past the panels, untouched
        }
      }
    }
  }
}

TEST(RecipesAlsSimd, Bfloat16ScanKeepsItsErrorBoundOnEveryTarget) {
  for (int f : kWidths) {
    const Index n = 517;
    const FactorMatrix Y = random_matrix(n, f, 7);
    const FactorMatrix U = random_matrix(2, f, 8);
    const detail::Bf16Panels panels = detail::bf16_panels(Y);
    const std::vector<float> radii = detail::bf16_error_radii(panels, Y);
    ASSERT_EQ(radii.size(), n);
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      for (Eigen::Index user = 0; user < U.rows(); ++user) {
        std::vector<float> scores(n);
        const float scale =
            detail::score_bf16_panels(panels, U.row(user).data(), f, n, scores.data());
        ASSERT_GT(scale, 0.0f);
        for (Index i = 0; i < n; ++i) {
          // The bound serving relies on: from the exact float32-factor score, within scale·r_i.
          double exact = 0;
          for (int k = 0; k < f; ++k) exact += static_cast<double>(U(user, k)) * Y(i, k);
          ASSERT_LE(std::abs(scores[i] - exact), static_cast<double>(scale) * radii[i])
              << "item " << i;
        }
      }
    }
  }
}

TEST(RecipesAlsSimd, GramMatrixMatchesTheScalarReferenceOnEveryTarget) {
  for (int f : kWidths) {
    const Index n = 403;  // rows in groups of four and a remainder
    const FactorMatrix Y = random_matrix(n, f, 9);
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      const Eigen::MatrixXf G = detail::gram_matrix(Y, 0.5f);
      ASSERT_EQ(G.rows(), f);
      for (int j = 0; j < f; ++j) {
        for (int k = 0; k < f; ++k) {
          ASSERT_EQ(G(j, k), G(k, j)) << j << "," << k;  // exactly symmetric
          double exact = j == k ? 0.5 : 0.0, magnitude = exact;
          for (Index i = 0; i < n; ++i) {
            exact += static_cast<double>(Y(i, j)) * Y(i, k);
            magnitude += std::abs(static_cast<double>(Y(i, j)) * Y(i, k));
          }
          // A sum of n + 1 terms.
          ASSERT_LE(std::abs(G(j, k) - exact), gamma(static_cast<int>(n) + 1) * magnitude)
              << j << "," << k;
        }
      }
    }
  }
}

TrainingData random_interactions(Index users, Index items, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Index> us, is;
  std::vector<std::int64_t> ts;
  std::vector<float> ws;
  for (Index u = 0; u < users; ++u) {
    for (Index i = 0; i < items; ++i) {
      if (rng() % 7 == 0) {
        us.push_back(u);
        is.push_back(i);
        ts.push_back(static_cast<std::int64_t>(us.size()));
        ws.push_back(static_cast<float>(1 + rng() % 4));
      }
    }
  }
  return TrainingData::build(users, items, us, is, ts, ws);
}

TEST(RecipesAlsSimd, ConjugateGradientSweepsAgreeAcrossTargets) {
  const TrainingData d = random_interactions(97, 60, 10);
  const detail::CsrView view{d.user_offsets.data(), d.user_items.data(), d.user_values.data(),
                             d.num_users};
  for (int f : kWidths) {
    const FactorMatrix Y = random_matrix(d.num_items, f, 11);
    const FactorMatrix X0 = random_matrix(d.num_users, f, 12);
    detail::AlsKernelArgs args;
    args.alpha = 2.0f;
    args.cg_steps = 3;
    args.threads = 2;
    FactorMatrix reference = X0;
    {
      test::ScopedCpuTarget scope(CpuTarget::kBaseline);
      detail::als_solve_rows(reference, Y, view, 0, args);
    }
    ASSERT_GT((reference - X0).cwiseAbs().maxCoeff(), 1e-3f);  // the sweep did move X
    const float scale = reference.cwiseAbs().maxCoeff();
    for (CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      FactorMatrix X = X0;
      detail::als_solve_rows(X, Y, view, 0, args);
      EXPECT_LE((X - reference).cwiseAbs().maxCoeff(), 1e-5f * scale) << "f=" << f;
      // Rows are independent: one thread gives the same bits as two.
      FactorMatrix one = X0;
      detail::AlsKernelArgs single = args;
      single.threads = 1;
      detail::als_solve_rows(one, Y, view, 0, single);
      EXPECT_EQ(one, X) << "f=" << f;
    }
  }
}

}  // namespace
}  // namespace tailor
