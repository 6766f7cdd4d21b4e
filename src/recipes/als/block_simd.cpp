// SPDX-License-Identifier: MIT
// The block-scoring kernel of every target: block_simd_kernels.inc compiled once per target with
// its instructions enabled by function attributes (see als_simd.cpp for why attributes), and the
// table that picks them.
#include "recipes/als/block_simd.hpp"

#include <cstddef>

#include "detail/simd_targets.hpp"
#include "recipes/als/als_simd.hpp"

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
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_SSE4
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
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX2
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
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX512
#define TAILOR_BLOCK_USERS 8
#define TAILOR_BLOCK_PANELS 2
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS
#endif

const BlockSimd& block_simd(CpuTarget target) { return TAILOR_SIMD_SELECT(target); }

}  // namespace tailor::detail
