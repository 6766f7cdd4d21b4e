// SPDX-License-Identifier: MIT
// The softmax normaliser kernels of every target (see recipes/als/als_simd.cpp for why function
// attributes).
#include "detail/softmax_simd.hpp"

#include <cstddef>
#include <cstdint>

#include "detail/simd_targets.hpp"

#ifdef TAILOR_SIMD_X86
#include <immintrin.h>
#endif

namespace tailor::detail {

#define TAILOR_SIMD_NS baseline
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET
#include "detail/softmax_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES

#ifdef TAILOR_SIMD_X86
#define TAILOR_SIMD_NS sse4
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_SSE4
#include "detail/softmax_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES

#define TAILOR_SIMD_NS avx2
#define TAILOR_SIMD_LANES 8
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX2
#include "detail/softmax_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES

#define TAILOR_SIMD_NS avx512
#define TAILOR_SIMD_LANES 16
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX512
#include "detail/softmax_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#endif

const SoftmaxSimd& softmax_simd(CpuTarget target) { return TAILOR_SIMD_SELECT(target); }

}  // namespace tailor::detail
