// SPDX-License-Identifier: MIT
// Block scoring for batch jobs: the scores of many users for many items (S = U Yᵀ over the item
// panels), as a register-blocked matrix-product kernel per instruction-set target (internal).
//
// block_simd.cpp compiles block_simd_kernels.inc once per target of detail/cpu.hpp, as
// als_simd.cpp does the scan kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "detail/cpu.hpp"
#include "detail/huge_pages.hpp"

namespace tailor::detail {

/// The block kernel of one target.
struct BlockSimd {
  /// Row j of out (stride out_stride) = scores of user j (users row-major, count × f) for every
  /// item of panel_count full panels starting at `panels` (the layout of score_panels(),
  /// kScorePanel items a panel). Each score is summed as the catalogue scan (AlsSimd::scan) sums
  /// it under the same target, so it is bitwise the scan's, whatever the other users of the block.
  void (*score_block)(const float* panels, int f, const float* users, std::size_t count,
                      std::size_t panel_count, float* out, std::size_t out_stride);
  /// The same on 8-bit panels (int8_scan.hpp, each byte biased by 128 by bias_int8_words()
  /// stores it: `panels` the words of the first panel, `scales` its first scale, `quads` words a
  /// factor row) for users quantised with bytes in [−int8_user_largest, int8_user_largest]: row
  /// j of `users` (int8_user_words(quads) words, int8_block_user()) holds user j's quads words of
  /// v, then s_u's bits, then Σ_k v_k as an int32, then the largest |v_k| it was built for. Row j
  /// of out gets scales[i]·s_u·(v·q_i) for each item i, the product of the scales rounded first, as
  /// the 8-bit scan rounds it (the integer dot product is exact).
  void (*score_block_int8)(const std::uint32_t* panels, const float* scales, std::size_t quads,
                           const std::uint32_t* users, std::size_t count, std::size_t panel_count,
                           float* out, std::size_t out_stride);
  /// Whether score_block_int8 is a vector kernel faster than score_block: byte dot products with
  /// 32-bit sums on AVX-512 VNNI (about 3.9× float32's rate), byte products summed in pairs on
  /// AVX2 (about 2.4×); otherwise it is a portable loop (tests, and SSE4 and baseline, where
  /// batch jobs keep float32).
  bool fast_int8;
  /// The largest |v_k| score_block_int8 takes: 127, or 64 on AVX2, whose byte products are added
  /// in pairs into 16 bits (2·255·64 fits; 2·255·127 would saturate). approximate_block() checks
  /// its users against it (int8_users_within()).
  int int8_user_largest;
};

/// Stores every byte q of the words of 8-bit panels (Int8Panels::words) as q + 128, unsigned, as
/// BlockSimd::score_block_int8 reads them: AVX-512 VNNI and AVX2's vpmaddubsw multiply unsigned
/// bytes by signed ones, and items stored so need no flip on every load.
void bias_int8_words(std::vector<std::uint32_t, LargeAllocator<std::uint32_t>>& words);

/// Words of a quantised user's row for BlockSimd::score_block_int8.
inline constexpr std::size_t int8_user_words(std::size_t quads) { return quads + 3; }

/// What a user's row holds after its quads words of v (int8_block_user()): s_u, then Σ_k v_k.
inline float int8_user_scale(const std::uint32_t* row, std::size_t quads) {
  float scale;
  __builtin_memcpy(&scale, row + quads, sizeof scale);
  return scale;
}
inline std::int32_t int8_user_sum(const std::uint32_t* row, std::size_t quads) {
  std::int32_t sum;
  __builtin_memcpy(&sum, row + quads + 1, sizeof sum);
  return sum;
}

/// User u (f factors) as a row of `users` for BlockSimd::score_block_int8 (int8_user_words() words
/// at `row`), its bytes in [−largest, largest] (the kernel's int8_user_largest). Returns the scale
/// S of the bound (int8_user()), or −1 (row untouched) where int8_user() refuses u.
float int8_block_user(const float* u, int f, int largest, std::uint32_t* row);

/// Whether the `count` users' rows (int8_user_words(quads) words each) were all built for a range
/// within [−largest, largest]: a row built under another target (set_cpu_target() between
/// building it and scoring it) may hold bytes a kernel with a narrower range would saturate on.
bool int8_users_within(const std::uint32_t* users, std::size_t count, std::size_t quads,
                       int largest);

/// Whether batch jobs rank on `target` from 8-bit approximate scores (BlockSimd::score_block_int8)
/// with exact re-scoring, rather than from float32 block scores: the one place that chooses.
/// Where the 8-bit kernel outruns float32 by more than the re-scoring of the few candidates
/// costs: AVX-512 with VNNI (4 byte products an instruction against one float product) and AVX2
/// (32 byte products in three instructions against four multiply-adds; measured 204 against 86
/// GFLOP/s a core on the benchmark's block, BM_ScoreBlockInt8 and BM_ScoreBlock);
/// BlockSimd::fast_int8.
bool batch_int8(CpuTarget target);

struct Int8Panels;  // int8_scan.hpp

/// BlockSimd::score_block_int8 of cpu_target() on `panel_count` panels of `panels` (biased,
/// bias_int8_words()) from panel `first_panel`, for the users' rows (int8_block_user()). Rows
/// built under another target (set_cpu_target() in between) may hold bytes this target's kernel
/// cannot take: then the portable kernel, which takes any byte, scores them, exactly.
void score_int8_block(const Int8Panels& panels, std::size_t quads, const std::uint32_t* users,
                      std::size_t users_count, std::size_t first_panel, std::size_t panel_count,
                      float* out, std::size_t out_stride);

/// The block kernel of `target` (which the CPU must support).
const BlockSimd& block_simd(CpuTarget target);

/// The block kernel of cpu_target().
inline const BlockSimd& block_simd() { return block_simd(cpu_target()); }

}  // namespace tailor::detail
