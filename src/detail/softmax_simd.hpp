// SPDX-License-Identifier: MIT
// The kernels of a softmax normaliser (log Σ exp) over many scores, per instruction-set target
// (internal): the same source (softmax_simd_kernels.inc) compiled once per target of
// detail/cpu.hpp by softmax_simd.cpp. Batch scoring folds every score of the catalog into its
// user's normaliser, an exponential a score: vectors of the target's width make that a small part
// of the cost of the scores themselves.
#pragma once

#include <cstddef>
#include <cstdint>

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
  /// One row of n approximate scores folded into its user's ranking (batch scoring from 8-bit
  /// scores: batch/recommend_all.cpp): returns Σ exp(row[i] − shift) over the items with a score
  /// above −infinity (the softmax normaliser's terms, each within a relative 2^−17 + |shift|·2^−24
  /// of the exact one; infinite when a score exceeds shift by more than 88, so pass a shift at most
  /// 88 below the row's largest score), writes the row's largest score to `top` (−infinity for
  /// none), and sets bit i % 16 of hits[i / 16] when row[i] > −infinity and its upper bound row[i]
  /// + scale·radii[i], in float (fused or not), is at least `threshold`. `radii` holds n floats;
  /// `hits` holds (n + 15) / 16 words.
  float (*fold_row)(const float* row, std::size_t n, float shift, const float* radii, float scale,
                    float threshold, std::uint16_t* hits, float* top);
};

/// The kernels of `target` (which the CPU must support).
const SoftmaxSimd& softmax_simd(CpuTarget target);

/// The kernels of cpu_target().
inline const SoftmaxSimd& softmax_simd() { return softmax_simd(cpu_target()); }

}  // namespace tailor::detail
