// SPDX-License-Identifier: MIT
// The softmax normaliser kernels of every target (see recipes/als/als_simd.cpp for why function
// attributes).
#include "detail/softmax_simd.hpp"

#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#define TAILOR_SIMD_X86 1
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
#define TAILOR_SIMD_TARGET __attribute__((target("sse4.2,popcnt")))
#include "detail/softmax_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES

#define TAILOR_SIMD_NS avx2
#define TAILOR_SIMD_LANES 8
#define TAILOR_SIMD_TARGET __attribute__((target("avx2,fma")))
#include "detail/softmax_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES

#define TAILOR_SIMD_NS avx512
#define TAILOR_SIMD_LANES 16
#define TAILOR_SIMD_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#include "detail/softmax_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#endif

const SoftmaxSimd& softmax_simd(CpuTarget target) {
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
