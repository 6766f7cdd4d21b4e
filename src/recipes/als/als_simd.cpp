// SPDX-License-Identifier: MIT
// The ALS and scan kernels of every target: als_simd_kernels.inc, compiled once per target with
// the target's instructions enabled by function attributes (GCC and Clang), and the table that
// picks them.
//
// Why attributes and not per-file -m flags or a SIMD library: the kernels were already written
// with portable vector extensions, so each target is the same source recompiled; the attribute
// applies to these functions only, so no inline code of a header (Eigen, the standard library,
// ours) is ever compiled with AVX-512 in a translation unit the linker could pick it from.
#include "recipes/als/als_simd.hpp"

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>

#include "detail/simd_targets.hpp"

#ifdef TAILOR_SIMD_X86
#include <immintrin.h>
#endif

namespace tailor::detail {

namespace {

// G = YᵀY by Eigen's blocked rank update, for the targets with 4-float vectors (compiled, like
// all Eigen code in tailor, for the baseline only).
void gram_eigen(const float* Y, std::size_t n, int f, float* G) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> y(Y, static_cast<Eigen::Index>(n), f);
  Eigen::Map<Eigen::MatrixXf> g(G, f, f);
  g.setZero();
  g.selfadjointView<Eigen::Lower>().rankUpdate(y.transpose());
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
}

}  // namespace

#define TAILOR_SIMD_NS baseline
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET
#include "recipes/als/als_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_SIMD_INT8_DOT

#ifdef TAILOR_SIMD_X86
#define TAILOR_SIMD_NS sse4
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_SSE4
#define TAILOR_SIMD_INT8_DOT 128
#include "recipes/als/als_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_SIMD_INT8_DOT

#define TAILOR_SIMD_NS avx2
#define TAILOR_SIMD_LANES 8
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX2
#define TAILOR_SIMD_INT8_DOT 256
#include "recipes/als/als_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_SIMD_INT8_DOT

#define TAILOR_SIMD_NS avx512
#define TAILOR_SIMD_LANES 16
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX512
#define TAILOR_SIMD_INT8_DOT 256
#include "recipes/als/als_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_SIMD_INT8_DOT
#endif

ServingScan serving_scan(CpuTarget) {
  // The scan alone is fastest on the 8-bit copy from SSE4 up (50,000 items × 64 factors: 54 µs on
  // AVX2 and AVX-512 against bfloat16's 92–100 µs; 96 µs on SSE4 against 232 µs). But its bound
  // is about four times wider, so more requests fall back to exact scoring of a large part of
  // the catalogue, and the tail grows: whole requests on the 5M set with a filter
  // (tailor_evaluate --latency 5000, AVX-512 machine, targets forced) took p50 / p99 of
  // 98 / 620 µs with 8 bits against 136 / 187 µs with bfloat16 on AVX-512, 197 / 905 against
  // 326 / 381 µs on SSE4. Serving is judged by its tail: bfloat16 on every target.
  return ServingScan::kBf16;
}

const AlsSimd& als_simd(CpuTarget target) { return TAILOR_SIMD_SELECT(target); }

}  // namespace tailor::detail
