// SPDX-License-Identifier: MIT
// ALS kernels: one least-squares sweep over the rows of a factor matrix, and the loss.
#pragma once

#include <cstddef>
#include <cstring>
#include <random>

#include "detail/huge_pages.hpp"
#include "recipes/als/als_simd.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor::detail {

/// A CSR matrix view: row r holds (indices[k], values[k]) for k in [offsets[r], offsets[r+1]).
struct CsrView {
  const std::size_t* offsets;
  const Index* indices;
  const float* values;
  Index rows;
};

struct AlsKernelArgs {
  float regularization = 0.05f;
  float alpha = 1.0f;
  int cg_steps = 3;
  bool cholesky = false;
  int threads = 0;

  /// The solver settings of a fit with `params` (the single-process and the distributed one).
  static AlsKernelArgs of(const AlsParams& params, int threads) {
    AlsKernelArgs args;
    args.regularization = params.regularization;
    args.alpha = params.alpha;
    args.cg_steps = params.cg_steps;
    args.cholesky = params.solver == AlsSolver::Cholesky;
    args.threads = threads;
    return args;
  }
};

/// Gram matrix YᵀY + λI (f×f, exactly symmetric), computed once per sweep.
Eigen::MatrixXf gram_matrix(const FactorMatrix& Y, float regularization);

/// Solves rows [first, X.rows()) of X against fixed Y: for each row u,
///   (YᵀY + λI + Yᵀ(C_u − I)Y) x_u = Yᵀ C_u p_u,   C_u = diag(1 + α·r_ui), p_ui = 1 where r_ui > 0
/// by warm-started conjugate gradient (args.cg_steps steps from the current x_u, as in Takács et
/// al. 2011) or by an exact Cholesky solve. Rows are independent: the result does not depend on
/// the thread count.
void als_solve_rows(FactorMatrix& X, const FactorMatrix& Y, const CsrView& R, Index first,
                    const AlsKernelArgs& args);

/// Fills rows [first, M.rows()) with N(0, scale²) draws from one seeded stream, in row order: the
/// initial factors of a fit (items, then users, from one stream seeded with the seed), which
/// distributed training draws the same way.
void init_rows(FactorMatrix& M, Index first, float scale, std::mt19937_64& rng);

/// The per-row solve of als_solve_rows() for a block of rows whose Gram matrix the caller has:
/// row r of the row-major X (R.rows × Y.cols()) is solved from row r of R, with
/// G = YᵀY + λI as gram_matrix() makes it. Distributed training solves its share of the rows
/// with it (a rank holds its rows' interactions only, and sums G over the ranks).
void als_solve_block(float* X, const FactorMatrix& Y, const Eigen::MatrixXf& G, const CsrView& R,
                     const AlsKernelArgs& args);

/// The objective: Σ_u Σ_i c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²), over all (u, i) pairs,
/// divided by (users × items + Σ (c_ui − 1)).
double als_loss(const FactorMatrix& X, const FactorMatrix& Y, const CsrView& R,
                float regularization, float alpha, int threads);

/// Item factors in the panel layout (kScorePanel items per panel, als_simd.hpp), on huge pages.
using ScorePanels = std::vector<float, LargeAllocator<float>>;

/// Rearranges row-major item factors (n × f) into panels: panel b holds, for each factor k, the
/// kScorePanel values of items b·kScorePanel ... (zero-padded at the end).
ScorePanels score_panels(const FactorMatrix& Y);

/// scores[i] = u · y_i for all n items, from the panel layout, by the kernels of cpu_target().
void score_panels(const float* panels, const float* u, int f, std::size_t n, float* scores);

/// out[j] = u · y_rows[j] for `count` rows of Y, bitwise equal to those items' scores from
/// score_panels(): the rows are gathered into panels and go through the same kernel (a separate
/// loop could be contracted into FMAs differently, or vectorised in another order). Equal under one
/// kernel target; targets differ in the last bits (FMA or not).
void score_rows(const FactorMatrix& Y, const Index* rows, std::size_t count, const float* u,
                float* out);

/// Scores of `count` users (row-major, count × f) for the items of panels
/// [first_panel, first_panel + panel_count): row j of `out` (stride `out_stride` ≥
/// panel_count · kScorePanel floats) gets user j's scores, panel by panel, bitwise equal to
/// score_panels()' (block_simd.hpp).
void score_panels_block(const ScorePanels& panels, int f, const float* users, std::size_t count,
                        std::size_t first_panel, std::size_t panel_count, float* out,
                        std::size_t out_stride);

/// One user's factors with Y fixed: exact solve of the normal equations above.
Eigen::VectorXf als_fold_in(const FactorMatrix& Y, const Eigen::MatrixXf& gram, const Index* items,
                            const float* values, std::size_t count, float alpha);

}  // namespace tailor::detail
