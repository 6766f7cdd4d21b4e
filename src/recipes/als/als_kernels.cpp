// SPDX-License-Identifier: MIT
// ALS kernels. The arithmetic of the hot loops (CG row solves, Gram product, scans) lives in
// als_simd_kernels.inc, compiled per instruction-set target; this file schedules it over threads
// with the target of cpu_target(). Nothing is allocated per row: scratch is per thread.
#include "recipes/als/als_kernels.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "detail/parallel.hpp"
#include "recipes/als/block_simd.hpp"

namespace tailor::detail {

namespace {

struct Scratch {
  std::vector<float> cg;  // the CG kernel's r, p and Ap
  Eigen::MatrixXf A;
  Eigen::VectorXf b;
  Eigen::LLT<Eigen::MatrixXf> llt;
};

// Exact solve: A = G + Σ (c−1) y yᵀ, b = Σ c y.
void solve_row_cholesky(float* x, const FactorMatrix& Y, const Eigen::MatrixXf& G,
                        std::size_t begin, std::size_t end, const Index* idx, const float* val,
                        float alpha, Scratch& s) {
  s.A = G;
  s.b.setZero(G.rows());
  for (std::size_t e = begin; e < end; ++e) {
    auto y = Y.row(idx[e]).transpose();
    const float c = 1.0f + alpha * val[e];
    s.A.selfadjointView<Eigen::Lower>().rankUpdate(y, c - 1.0f);
    s.b.noalias() += c * y;
  }
  s.llt.compute(s.A.selfadjointView<Eigen::Lower>());
  Eigen::Map<Eigen::VectorXf>(x, G.rows()) = s.llt.solve(s.b);
}

void solve_rows(FactorMatrix& X, const FactorMatrix& Y, const CsrView& R, Index first,
                const AlsKernelArgs& args, const Eigen::MatrixXf& G) {
  const int f = static_cast<int>(X.cols());
  const int threads = resolve_threads(args.threads);
  // One target for the whole sweep, whatever set_cpu_target() does meanwhile.
  const AlsSimd& kernels = als_simd();
  const CgProblem problem{X.data(),  Y.data(), f,      G.data(),   R.offsets,
                          R.indices, R.values, R.rows, args.alpha, args.cg_steps};
  std::vector<Scratch> scratch(static_cast<std::size_t>(threads));
  for (Scratch& s : scratch) {
    s.cg.resize(3 * static_cast<std::size_t>(f));
    if (args.cholesky) {
      s.A.resize(f, f);
      s.b.resize(f);
    }
  }
  const Index rows = static_cast<Index>(X.rows());
  constexpr Index kBlock = 32;  // rows per scheduling unit; skewed rows balance dynamically
  const std::size_t blocks = rows > first ? (rows - first + kBlock - 1) / kBlock : 0;
  parallel_for(blocks, threads, [&](std::size_t b) {
    Scratch& s = scratch[static_cast<std::size_t>(thread_index())];
    const Index begin_row = first + static_cast<Index>(b) * kBlock;
    const Index end_row = std::min<Index>(rows, begin_row + kBlock);
    if (!args.cholesky) {
      kernels.cg_rows(problem, begin_row, end_row, s.cg.data());
      return;
    }
    for (Index u = begin_row; u < end_row; ++u) {
      const std::size_t begin = u < R.rows ? R.offsets[u] : 0;
      const std::size_t end = u < R.rows ? R.offsets[u + 1] : 0;
      solve_row_cholesky(X.row(u).data(), Y, G, begin, end, R.indices, R.values, args.alpha, s);
    }
  });
}

}  // namespace

Eigen::MatrixXf gram_matrix(const FactorMatrix& Y, float regularization) {
  // Row-major Y: the kernel writes YᵀY into G's storage (symmetric, so either storage order).
  Eigen::MatrixXf G(Y.cols(), Y.cols());
  als_simd().gram(Y.data(), static_cast<std::size_t>(Y.rows()), static_cast<int>(Y.cols()),
                  G.data());
  // The kernel's G[j][k] and G[k][j] sum the same products, but a vector loop and its scalar
  // remainder may contract them into FMAs differently: the CG relies on exact symmetry.
  G.triangularView<Eigen::StrictlyUpper>() = G.transpose();
  G.diagonal().array() += regularization;
  return G;
}

void als_solve_rows(FactorMatrix& X, const FactorMatrix& Y, const CsrView& R, Index first,
                    const AlsKernelArgs& args) {
  const Eigen::MatrixXf G = gram_matrix(Y, args.regularization);
  solve_rows(X, Y, R, first, args, G);
}

void als_solve_block(float* X, const FactorMatrix& Y, const Eigen::MatrixXf& G, const CsrView& R,
                     const AlsKernelArgs& args) {
  // The block is copied into a matrix of its own so that one solve_rows() serves both callers; a
  // copy per sweep is small next to the solves.
  Eigen::Map<FactorMatrix> block(X, R.rows, Y.cols());
  FactorMatrix rows = block;
  solve_rows(rows, Y, R, 0, args, G);
  block = rows;
}

double als_loss(const FactorMatrix& X, const FactorMatrix& Y, const CsrView& R,
                float regularization, float alpha, int threads) {
  const Eigen::MatrixXf YtY = gram_matrix(Y, 0.0f);
  const int t = resolve_threads(threads);
  std::vector<double> loss(static_cast<std::size_t>(t), 0.0),
      weight(static_cast<std::size_t>(t), 0.0);
  const std::size_t blocks = (static_cast<std::size_t>(X.rows()) + 255) / 256;
  parallel_for(blocks, t, [&](std::size_t b) {
    const std::size_t me = static_cast<std::size_t>(thread_index());
    const Index end_row =
        std::min<Index>(static_cast<Index>(X.rows()), static_cast<Index>(b * 256 + 256));
    for (Index u = static_cast<Index>(b * 256); u < end_row; ++u) {
      auto x = X.row(u).transpose();
      // Every item as a zero with confidence 1 ...
      double l = x.dot(YtY * x);
      // ... corrected for the user's positive items.
      for (std::size_t e = R.offsets[u]; e < R.offsets[u + 1]; ++e) {
        const double s = Y.row(R.indices[e]).dot(X.row(u));
        const double c = 1.0 + alpha * R.values[e];
        l += c * (1 - s) * (1 - s) - s * s;
        weight[me] += c - 1.0;
      }
      loss[me] += l;
    }
  });
  double total = 0, total_weight = 0;
  for (double v : loss) total += v;
  for (double v : weight) total_weight += v;
  total += regularization *
           (static_cast<double>(X.squaredNorm()) + static_cast<double>(Y.squaredNorm()));
  return total / (static_cast<double>(X.rows()) * static_cast<double>(Y.rows()) + total_weight);
}

ScorePanels score_panels(const FactorMatrix& Y) {
  const std::size_t n = static_cast<std::size_t>(Y.rows()), f = static_cast<std::size_t>(Y.cols());
  const std::size_t blocks = (n + kScorePanel - 1) / kScorePanel;
  ScorePanels panels(blocks * kScorePanel * f, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    float* panel = panels.data() + (i / kScorePanel) * kScorePanel * f;
    for (std::size_t k = 0; k < f; ++k)
      panel[k * kScorePanel + i % kScorePanel] =
          Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
  }
  return panels;
}

void score_panels(const float* panels, const float* u, int f, std::size_t n, float* scores) {
  als_simd().scan(panels, u, f, n, scores);
}

void score_rows(const FactorMatrix& Y, const Index* rows, std::size_t count, const float* u,
                float* out) {
  const std::size_t f = static_cast<std::size_t>(Y.cols());
  std::vector<float> panels((count + kScorePanel - 1) / kScorePanel * kScorePanel * f, 0.0f);
  for (std::size_t j = 0; j < count; ++j) {
    float* panel = panels.data() + (j / kScorePanel) * kScorePanel * f;
    for (std::size_t k = 0; k < f; ++k) {
      panel[k * kScorePanel + j % kScorePanel] =
          Y(static_cast<Eigen::Index>(rows[j]), static_cast<Eigen::Index>(k));
    }
  }
  score_panels(panels.data(), u, static_cast<int>(f), count, out);
}

void score_panels_block(const ScorePanels& panels, int f, const float* users, std::size_t count,
                        std::size_t first_panel, std::size_t panel_count, float* out,
                        std::size_t out_stride) {
  const std::size_t width = static_cast<std::size_t>(f);
  block_simd().score_block(panels.data() + first_panel * kScorePanel * width, f, users, count,
                           panel_count, out, out_stride);
}

Eigen::VectorXf als_fold_in(const FactorMatrix& Y, const Eigen::MatrixXf& gram, const Index* items,
                            const float* values, std::size_t count, float alpha) {
  Eigen::MatrixXf A = gram;
  Eigen::VectorXf b = Eigen::VectorXf::Zero(gram.rows());
  for (std::size_t e = 0; e < count; ++e) {
    auto y = Y.row(items[e]).transpose();
    const float c = 1.0f + alpha * values[e];
    A.selfadjointView<Eigen::Lower>().rankUpdate(y, c - 1.0f);
    b.noalias() += c * y;
  }
  return A.selfadjointView<Eigen::Lower>().llt().solve(b);
}

}  // namespace tailor::detail
