// SPDX-License-Identifier: MIT
// What every file of per-target kernels shares (internal): whether the x86 targets are built,
// each target's function attribute, and the choice of a target's kernel table. Such a file
// compiles its kernels once per target, each time in a namespace named after the target
// (baseline, sse4, avx2, avx512) holding a table `kKernels`.
#pragma once

#include "detail/cpu.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define TAILOR_SIMD_X86 1
#endif

// The function attribute of each x86 target's kernels (the baseline target has none).
#define TAILOR_SIMD_TARGET_SSE4 __attribute__((target("sse4.2,popcnt")))
#define TAILOR_SIMD_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TAILOR_SIMD_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))

namespace tailor::detail {

/// Of the four targets' tables, the one of `target`.
template <typename Table>
const Table& simd_table(CpuTarget target, const Table& baseline, const Table& sse4,
                        const Table& avx2, const Table& avx512) {
  switch (target) {
    case CpuTarget::kAvx512:
      return avx512;
    case CpuTarget::kAvx2:
      return avx2;
    case CpuTarget::kSse4:
      return sse4;
    case CpuTarget::kBaseline:
      break;
  }
  return baseline;
}

}  // namespace tailor::detail

// The `kKernels` of `target`, in a file that built them per target (only the baseline's off x86).
#ifdef TAILOR_SIMD_X86
#define TAILOR_SIMD_SELECT(target)                                                           \
  ::tailor::detail::simd_table((target), baseline::kKernels, sse4::kKernels, avx2::kKernels, \
                               avx512::kKernels)
#else
#define TAILOR_SIMD_SELECT(target) ((void)(target), baseline::kKernels)
#endif
