// SPDX-License-Identifier: MIT
// The block-scoring kernel of every target: block_simd_kernels.inc compiled once per target with
// its instructions enabled by function attributes (see als_simd.cpp for why attributes), and the
// table that picks them.
#include "recipes/als/block_simd.hpp"

#include <cstddef>

#include "recipes/als/als_simd.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define TAILOR_SIMD_X86 1
#endif

namespace tailor::detail {

// Tiles: 4-float vectors make a panel row 4 registers, so 2 users × 1 panel is 8 accumulators of
// 16; AVX2's 6 users × 1 panel is 12 of 16; AVX-512's 8 users × 2 panels is 16 of 32 (more
// users per panel row loaded would leave too few registers for two panels' rows).
#define TAILOR_SIMD_NS baseline
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET
#define TAILOR_BLOCK_USERS 2
#define TAILOR_BLOCK_PANELS 1
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS

#ifdef TAILOR_SIMD_X86
#define TAILOR_SIMD_NS sse4
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET __attribute__((target("sse4.2,popcnt")))
#define TAILOR_BLOCK_USERS 2
#define TAILOR_BLOCK_PANELS 1
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS

#define TAILOR_SIMD_NS avx2
#define TAILOR_SIMD_LANES 8
#define TAILOR_SIMD_TARGET __attribute__((target("avx2,fma")))
#define TAILOR_BLOCK_USERS 6
#define TAILOR_BLOCK_PANELS 1
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS

#define TAILOR_SIMD_NS avx512
#define TAILOR_SIMD_LANES 16
#define TAILOR_SIMD_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define TAILOR_BLOCK_USERS 8
#define TAILOR_BLOCK_PANELS 2
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS
#endif

const BlockSimd& block_simd(CpuTarget target) {
#ifdef TAILOR_SIMD_X86
  switch (target) {
    case CpuTarget::kAvx512:
      return avx512::kKernels;
    case CpuTarget::kAvx2:
      return avx2::kKernels;
    case CpuTarget::kSse4:
      return sse4::kKernels;
    case CpuTarget::kBaseline:
      break;
  }
#else
  (void)target;
#endif
  return baseline::kKernels;
}

}  // namespace tailor::detail
