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

// The bfloat16 scan on AVX-512 where the CPU has vdpbf16ps (within the AVX-512 target, as the
// 8-bit batch kernel takes VNNI): one instruction multiplies the two bfloat16 factors of each
// item's word by the user's two and adds both products to a float32 lane, where widening them
// costs a mask, a shift and two multiply-adds. The user is split into two bfloat16 parts, each
// its own instruction, so its own rounding stays far below the items' (bf16_error_radii bounds
// the rest). BM_ScanKernel, 50,000 items × 64 factors from cache: 76 against 99 µs; from memory
// (1M items) both run at its speed.
namespace {
namespace avx512_bf16 {

#define TAILOR_BF16_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma")))
#define TAILOR_BF16_INLINE TAILOR_BF16_TARGET __attribute__((always_inline)) inline

// The words at p as the instruction's operand type (a copy: the type's element differs between
// compiler versions, the bits do not).
TAILOR_BF16_INLINE __m512bh words(const std::uint32_t* p) {
  __m512bh v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
TAILOR_BF16_INLINE __m512bh broadcast(std::uint32_t word) {
  const __m512i w = _mm512_set1_epi32(static_cast<int>(word));
  __m512bh v;
  __builtin_memcpy(&v, &w, sizeof v);
  return v;
}

// Panel b: two pairs of factors a step, the high and low parts in sums of their own (four
// chains of additions in flight). One panel at a time: two side by side ran at half the rate
// (50,000 items: 186 against 83 µs).
TAILOR_BF16_INLINE void panel_dot(const std::uint32_t* panels, const std::uint32_t* user,
                                  std::size_t pairs, std::size_t b, std::size_t n, float* scores) {
  const std::uint32_t* high = user;
  const std::uint32_t* low = user + pairs;
  const std::uint32_t* w = panels + b * pairs * kScorePanel;
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  std::size_t j = 0;
  for (; j + 2 <= pairs; j += 2, w += 2 * kScorePanel) {
    acc[0] = _mm512_dpbf16_ps(acc[0], words(w), broadcast(high[j]));
    acc[1] = _mm512_dpbf16_ps(acc[1], words(w), broadcast(low[j]));
    acc[2] = _mm512_dpbf16_ps(acc[2], words(w + kScorePanel), broadcast(high[j + 1]));
    acc[3] = _mm512_dpbf16_ps(acc[3], words(w + kScorePanel), broadcast(low[j + 1]));
  }
  if (j < pairs) {
    acc[0] = _mm512_dpbf16_ps(acc[0], words(w), broadcast(high[j]));
    acc[1] = _mm512_dpbf16_ps(acc[1], words(w), broadcast(low[j]));
  }
  const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[1], acc[3]));
  const std::size_t first = b * kScorePanel;
  const std::size_t count = n - first < kScorePanel ? n - first : kScorePanel;
  _mm512_mask_storeu_ps(scores + first, static_cast<__mmask16>((1u << count) - 1), sum);
}

TAILOR_BF16_TARGET void scan_bf16_dot(const std::uint32_t* panels, const std::uint32_t* user,
                                      std::size_t pairs, std::size_t n, float* scores) {
  const std::size_t blocks = (n + kScorePanel - 1) / kScorePanel;
  for (std::size_t b = 0; b < blocks; ++b) panel_dot(panels, user, pairs, b, n, scores);
}

#undef TAILOR_BF16_TARGET
#undef TAILOR_BF16_INLINE

constexpr AlsSimd kKernels = {
    avx512::kKernels.cg_rows,      avx512::kKernels.gram, avx512::kKernels.scan,
    avx512::kKernels.scan_bf16,    &scan_bf16_dot,        avx512::kKernels.scan_int8,
    avx512::kKernels.scan_int8_dot};

}  // namespace avx512_bf16

bool cpu_has_avx512_bf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16");
}
}  // namespace
#endif

ServingScan serving_scan(CpuTarget) {
  // The scan alone is fastest on the 8-bit copy from SSE4 up (50,000 items × 64 factors: 54 µs on
  // AVX2 and AVX-512 against bfloat16's 92–100 µs; 96 µs on SSE4 against 232 µs). But its bound
  // is about four times wider, so more requests fall back to exact scoring of a large part of
  // the catalogue, and the tail grows: whole requests on the 5M set with a filter
  // (tailor_evaluate --latency 5000, AVX-512 machine, targets forced) took p50 / p99 of
  // 98 / 620 µs with 8 bits against 136 / 187 µs with bfloat16 on AVX-512, 197 / 905 against
  // 326 / 381 µs on SSE4. Serving is judged by its tail: bfloat16 on every target. (Where the
  // CPU has AVX-512's bfloat16 dot products the bfloat16 scan takes 76 µs, and whole requests
  // 106 / 155–176 µs.)
  return ServingScan::kBf16;
}

const AlsSimd& als_simd(CpuTarget target) {
#ifdef TAILOR_SIMD_X86
  static const bool bf16 = cpu_has_avx512_bf16();
  if (target == CpuTarget::kAvx512 && bf16) return avx512_bf16::kKernels;
#endif
  return TAILOR_SIMD_SELECT(target);
}

}  // namespace tailor::detail
