// SPDX-License-Identifier: MIT
// The kernels of a softmax normaliser (log Σ exp) over many scores, per instruction-set target
// (internal): the same source (softmax_simd_kernels.inc) compiled once per target of
// detail/cpu.hpp by softmax_simd.cpp. Batch scoring folds every score of the catalog into its
// user's normaliser, an exponential a score: vectors of the target's width make that a small part
// of the cost of the scores themselves.
#pragma once

#include <cstddef>

#include "detail/cpu.hpp"

namespace tailor::detail {

/// The kernels of one target.
struct SoftmaxSimd {
  /// The largest of scores[0, n) (-infinity for none; NaN scores may be passed over).
  float (*max)(const float* scores, std::size_t n);
  /// Σ exp(scores[i] − shift) for i < n, in float32, each exponential within a few units in the
  /// last place of the exact one (0 where the exact one is below the smallest normal float, as
  /// for a score of -infinity; NaN for a NaN score).
  float (*exp_sum)(const float* scores, std::size_t n, float shift);
};

/// The kernels of `target` (which the CPU must support).
const SoftmaxSimd& softmax_simd(CpuTarget target);

/// The kernels of cpu_target().
inline const SoftmaxSimd& softmax_simd() { return softmax_simd(cpu_target()); }

}  // namespace tailor::detail
