// SPDX-License-Identifier: MIT
// Block scoring for batch jobs: the scores of many users for many items (S = U Yᵀ over the item
// panels), as a register-blocked matrix-product kernel per instruction-set target (internal).
//
// block_simd.cpp compiles block_simd_kernels.inc once per target of detail/cpu.hpp, as
// als_simd.cpp does the scan kernels.
#pragma once

#include <cstddef>

#include "detail/cpu.hpp"

namespace tailor::detail {

/// The block kernel of one target.
struct BlockSimd {
  /// Row j of out (stride out_stride) = scores of user j (users row-major, count × f) for every
  /// item of panel_count full panels starting at `panels` (the layout of score_panels(),
  /// kScorePanel items a panel). Each score is summed as the catalogue scan (AlsSimd::scan) sums
  /// it under the same target, so it is bitwise the scan's, whatever the other users of the block.
  void (*score_block)(const float* panels, int f, const float* users, std::size_t count,
                      std::size_t panel_count, float* out, std::size_t out_stride);
};

/// The block kernel of `target` (which the CPU must support).
const BlockSimd& block_simd(CpuTarget target);

/// The block kernel of cpu_target().
inline const BlockSimd& block_simd() { return block_simd(cpu_target()); }

}  // namespace tailor::detail
