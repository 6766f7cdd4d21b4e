// SPDX-License-Identifier: MIT
// The comparison kernels of top-k selection, per instruction-set target (internal): the same
// source (topk_simd_kernels.inc) compiled once per target of detail/cpu.hpp by topk_simd.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "detail/cpu.hpp"

namespace tailor::detail {

/// Scores looked at together: a group is one 64-bit word of a bitmap.
inline constexpr std::size_t kTopKGroup = 64;

/// The kernels of one target.
struct TopKSimd {
  /// The first i' = i + m·kTopKGroup < end (m ≥ 0) whose group scores[i', i' + kTopKGroup) has a
  /// score above `threshold`, or `end` when none has; end − i must be a multiple of kTopKGroup.
  std::size_t (*next_group_above)(const float* scores, std::size_t i, std::size_t end,
                                  float threshold);
  /// Bit j set when scores[j] > threshold, for j < kTopKGroup.
  std::uint64_t (*group_mask)(const float* scores, float threshold);
};

/// The kernels of `target` (which the CPU must support).
const TopKSimd& topk_simd(CpuTarget target);

/// The kernels of cpu_target().
inline const TopKSimd& topk_simd() { return topk_simd(cpu_target()); }

}  // namespace tailor::detail
