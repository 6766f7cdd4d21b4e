// SPDX-License-Identifier: MIT
// ALS kernels. The per-row loops are written over raw float rows so that, with the factor count
// known at compile time (32, 64, 128), the row of Y being gathered stays in vector registers
// between its dot product and its axpy. Nothing is allocated per row: scratch is per thread.
#include "recipes/als/als_kernels.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "detail/parallel.hpp"

namespace tailor::detail {

namespace {

// The row loops below are the whole cost of training: they must inline into the solver.
#define TAILOR_ALWAYS_INLINE inline __attribute__((always_inline))

template <int F>
TAILOR_ALWAYS_INLINE float dot(const float* a, const float* b, int f) {
  const int n = F > 0 ? F : f;
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int k = 0; k < n; ++k) s += a[k] * b[k];
  return s;
}

template <int F>
TAILOR_ALWAYS_INLINE void axpy(float a, const float* x, float* y, int f) {
  const int n = F > 0 ? F : f;
#pragma omp simd
  for (int k = 0; k < n; ++k) y[k] += a * x[k];
}

// out = G x for the symmetric f×f Gram matrix, as a sum of scaled columns: no horizontal sums,
// which a row-by-row dot product would need f of.
template <int F>
TAILOR_ALWAYS_INLINE void gemv(const float* G, const float* x, float* out, int f) {
  const int n = F > 0 ? F : f;
  for (int k = 0; k < n; ++k) out[k] = 0.0f;
  for (int j = 0; j < n; ++j) axpy<F>(x[j], G + static_cast<std::size_t>(j) * n, out, n);
}

struct Scratch {
  std::vector<float> r, p, ap;
  Eigen::MatrixXf A;
  Eigen::VectorXf b;
  Eigen::LLT<Eigen::MatrixXf> llt;
};

// Conjugate gradient on (G + Yᵀ(C−I)Y) x = YᵀCp, warm-started from x (implicit's
// least_squares_cg): r = b − A x, then `steps` CG iterations.
template <int F>
void solve_row_cg(float* x, const float* Y, int f, const float* G, std::size_t begin,
                  std::size_t end, const Index* idx, const float* val, float alpha, int steps,
                  Scratch& s) {
  float* r = s.r.data();
  float* p = s.p.data();
  float* ap = s.ap.data();
  const int n = F > 0 ? F : f;
  gemv<F>(G, x, r, n);
  for (int k = 0; k < n; ++k) r[k] = -r[k];
  for (std::size_t e = begin; e < end; ++e) {
    const float* y = Y + static_cast<std::size_t>(idx[e]) * n;
    const float c = 1.0f + alpha * val[e];
    axpy<F>(c - (c - 1.0f) * dot<F>(y, x, n), y, r, n);
  }
  for (int k = 0; k < n; ++k) p[k] = r[k];
  float rs_old = dot<F>(r, r, n);
  if (rs_old < 1e-20f) return;
  for (int step = 0; step < steps; ++step) {
    gemv<F>(G, p, ap, n);
    for (std::size_t e = begin; e < end; ++e) {
        const float* y = Y + static_cast<std::size_t>(idx[e]) * n;
      const float c1 = alpha * val[e];  // c − 1
      axpy<F>(c1 * dot<F>(y, p, n), y, ap, n);
    }
    const float a = rs_old / dot<F>(p, ap, n);
    axpy<F>(a, p, x, n);
    axpy<F>(-a, ap, r, n);
    const float rs_new = dot<F>(r, r, n);
    if (rs_new < 1e-20f) break;
    const float beta = rs_new / rs_old;
    for (int k = 0; k < n; ++k) p[k] = r[k] + beta * p[k];
    rs_old = rs_new;
  }
}

// Exact solve: A = G + Σ (c−1) y yᵀ, b = Σ c y.
void solve_row_cholesky(float* x, const FactorMatrix& Y, const Eigen::MatrixXf& G, std::size_t begin,
                        std::size_t end, const Index* idx, const float* val, float alpha,
                        Scratch& s) {
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

template <int F>
void solve_rows(FactorMatrix& X, const FactorMatrix& Y, const CsrView& R, Index first,
                const AlsKernelArgs& args, const Eigen::MatrixXf& G) {
  const int f = static_cast<int>(X.cols());
  const int threads = resolve_threads(args.threads);
  std::vector<Scratch> scratch(static_cast<std::size_t>(threads));
  for (Scratch& s : scratch) {
    s.r.resize(static_cast<std::size_t>(f));
    s.p.resize(static_cast<std::size_t>(f));
    s.ap.resize(static_cast<std::size_t>(f));
    s.A.resize(f, f);
    s.b.resize(f);
  }
  const Index rows = static_cast<Index>(X.rows());
  constexpr Index kBlock = 32;  // rows per scheduling unit; skewed rows balance dynamically
  const std::size_t blocks = rows > first ? (rows - first + kBlock - 1) / kBlock : 0;
  parallel_for(blocks, threads, [&](std::size_t b) {
    Scratch& s = scratch[static_cast<std::size_t>(thread_index())];
    const Index begin_row = first + static_cast<Index>(b) * kBlock;
    const Index end_row = std::min<Index>(rows, begin_row + kBlock);
    for (Index u = begin_row; u < end_row; ++u) {
      const std::size_t begin = u < R.rows ? R.offsets[u] : 0;
      const std::size_t end = u < R.rows ? R.offsets[u + 1] : 0;
      if (args.cholesky) {
        solve_row_cholesky(X.row(u).data(), Y, G, begin, end, R.indices, R.values, args.alpha, s);
      } else {
        solve_row_cg<F>(X.row(u).data(), Y.data(), f, G.data(), begin, end, R.indices, R.values,
                        args.alpha, args.cg_steps, s);
      }
    }
  });
}

}  // namespace

Eigen::MatrixXf gram_matrix(const FactorMatrix& Y, float regularization) {
  Eigen::MatrixXf G = Eigen::MatrixXf::Zero(Y.cols(), Y.cols());
  G.selfadjointView<Eigen::Lower>().rankUpdate(Y.transpose());
  G.triangularView<Eigen::StrictlyUpper>() = G.transpose();
  G.diagonal().array() += regularization;
  return G;
}

void als_solve_rows(FactorMatrix& X, const FactorMatrix& Y, const CsrView& R, Index first,
                    const AlsKernelArgs& args) {
  const Eigen::MatrixXf G = gram_matrix(Y, args.regularization);
  switch (X.cols()) {
    case 32: solve_rows<32>(X, Y, R, first, args, G); break;
    case 64: solve_rows<64>(X, Y, R, first, args, G); break;
    case 128: solve_rows<128>(X, Y, R, first, args, G); break;
    default: solve_rows<0>(X, Y, R, first, args, G); break;
  }
}

double als_loss(const FactorMatrix& X, const FactorMatrix& Y, const CsrView& R, float regularization,
                float alpha, int threads) {
  const Eigen::MatrixXf YtY = gram_matrix(Y, 0.0f);
  const int t = resolve_threads(threads);
  std::vector<double> loss(static_cast<std::size_t>(t), 0.0), weight(static_cast<std::size_t>(t), 0.0);
  const std::size_t blocks = (static_cast<std::size_t>(X.rows()) + 255) / 256;
  parallel_for(blocks, t, [&](std::size_t b) {
    const std::size_t me = static_cast<std::size_t>(thread_index());
    const Index end_row = std::min<Index>(static_cast<Index>(X.rows()), static_cast<Index>(b * 256 + 256));
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
  total += regularization * (static_cast<double>(X.squaredNorm()) + static_cast<double>(Y.squaredNorm()));
  return total / (static_cast<double>(X.rows()) * static_cast<double>(Y.rows()) + total_weight);
}

ScorePanels score_panels(const FactorMatrix& Y) {
  const std::size_t n = static_cast<std::size_t>(Y.rows()), f = static_cast<std::size_t>(Y.cols());
  const std::size_t blocks = (n + kScorePanel - 1) / kScorePanel;
  ScorePanels panels(blocks * kScorePanel * f, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    float* panel = panels.data() + (i / kScorePanel) * kScorePanel * f;
    for (std::size_t k = 0; k < f; ++k) panel[k * kScorePanel + i % kScorePanel] = Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
  }
  return panels;
}

void score_panels(const float* panels, const float* u, int f, std::size_t n, float* scores) {
  // One panel's 16 scores as a vector value (GCC/Clang vector extension): the accumulators stay
  // in registers, and four of them keep four independent FMA chains in flight.
  using Vec = PanelScores;
  const std::size_t blocks = (n + kScorePanel - 1) / kScorePanel;
  const std::size_t width = static_cast<std::size_t>(f);
  for (std::size_t b = 0; b < blocks; ++b) {
    const float* p = panels + b * kScorePanel * width;
    Vec a0 = {}, a1 = {}, a2 = {}, a3 = {};
    std::size_t k = 0;
    for (; k + 4 <= width; k += 4, p += 4 * kScorePanel) {
      Vec y0, y1, y2, y3;
      std::memcpy(&y0, p, sizeof(Vec));
      std::memcpy(&y1, p + kScorePanel, sizeof(Vec));
      std::memcpy(&y2, p + 2 * kScorePanel, sizeof(Vec));
      std::memcpy(&y3, p + 3 * kScorePanel, sizeof(Vec));
      a0 += u[k] * y0;
      a1 += u[k + 1] * y1;
      a2 += u[k + 2] * y2;
      a3 += u[k + 3] * y3;
    }
    for (; k < width; ++k, p += kScorePanel) {
      Vec y;
      std::memcpy(&y, p, sizeof(Vec));
      a0 += u[k] * y;
    }
    store_panel_scores((a0 + a1) + (a2 + a3), b, n, scores);
  }
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

namespace {

// One panel (kScorePanel items) against kBlockUsers users, whose factors are at u, u + f, ...:
// each user's sixteen scores accumulate in one vector value (GCC/Clang vector extension), and
// each panel row loaded feeds kBlockUsers FMAs.
void score_tile(const float* panel, const float* u, std::size_t f, float* out,
                std::size_t out_stride) {
  using Vec = PanelScores;
  Vec acc[kBlockUsers] = {};
  for (std::size_t k = 0; k < f; ++k) {
    Vec y;
    std::memcpy(&y, panel + k * kScorePanel, sizeof y);
    for (std::size_t r = 0; r < kBlockUsers; ++r) acc[r] += u[r * f + k] * y;
  }
  for (std::size_t r = 0; r < kBlockUsers; ++r)
    std::memcpy(out + r * out_stride, &acc[r], sizeof(Vec));
}

}  // namespace

void score_panels_block(const ScorePanels& panels, int f, const float* users, std::size_t count,
                        std::size_t first_panel, std::size_t panel_count, float* out,
                        std::size_t out_stride) {
  const std::size_t width = static_cast<std::size_t>(f);
  const float* base = panels.data() + first_panel * kScorePanel * width;
  std::size_t j = 0;
  for (; j + kBlockUsers <= count; j += kBlockUsers) {
    for (std::size_t p = 0; p < panel_count; ++p) {
      score_tile(base + p * kScorePanel * width, users + j * width, width,
                 out + j * out_stride + p * kScorePanel, out_stride);
    }
  }
  if (j == count) return;
  // The last few users: padded with zero factors to a full tile, their rows copied out.
  std::vector<float> padded(kBlockUsers * width, 0.0f);
  std::copy(users + j * width, users + count * width, padded.begin());
  std::vector<float> tile(kBlockUsers * kScorePanel);
  for (std::size_t p = 0; p < panel_count; ++p) {
    score_tile(base + p * kScorePanel * width, padded.data(), width, tile.data(), kScorePanel);
    for (std::size_t r = 0; j + r < count; ++r) {
      std::copy_n(tile.data() + r * kScorePanel, kScorePanel,
                  out + (j + r) * out_stride + p * kScorePanel);
    }
  }
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
