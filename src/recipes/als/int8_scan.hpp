// SPDX-License-Identifier: MIT
// The serving scan on an 8-bit copy of the item factors (internal).
//
// A request scores the whole catalog, and at 50,000 items × 64 factors the float32 panels
// (12.8 MB) are read from memory on every request. Each item's factors are stored here as
// integers q_i in [−127, 127] with one float32 scale s_i per item (symmetric, s_i = max_k |y_ik| /
// 127): a quarter of float32's bytes, half of bfloat16's. From SSE4 on the user's factors
// are quantised the same way (v, one scale s_u) and the scan is integer dot products of bytes
// (exact in int32) times s_u·s_i; on the baseline target each byte is widened to float32 and
// multiplied there with the user's float32 factors. Either way the scan returns, with the scores,
// a bound on how far each can be from the float32 score, and serving re-scores its few
// candidates in float32 (see Campaign), so the items chosen, their order and their raw scores are
// exactly those of a float32 scan. detail::serving_scan() says where this copy or the bfloat16
// one (bf16_scan.hpp) is used.
//
// Why per item and not per panel: an item's scale follows its own largest factor, so items of
// small norm next to large ones keep all their bits, and the scale costs one multiply per item
// at the end of the scan (4 bytes per item, 6% of the 64 bytes of 64 factors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "recipes/als/als_kernels.hpp"

namespace tailor::detail {

/// Item factors quantised to 8 bits, in the panel layout, four factors per 32-bit word: panel b
/// holds, for each quad of factors (4g, ..., 4g + 3), kScorePanel words, one per item
/// b·kScorePanel + lane, with factor 4g + j in byte j (bits 8j to 8j + 7), a two's-complement
/// q_ik (zero past the last factor or item); `scales` holds kScorePanel floats per panel, s_i of
/// each item (zero past the last item). Item i's factors are approximately s_i·q_i. Both empty
/// when the factors are not supported (see int8_panels()).
struct Int8Panels {
  std::vector<std::uint32_t, LargeAllocator<std::uint32_t>> words;
  std::vector<float, LargeAllocator<float>> scales;
  bool empty() const { return words.empty(); }
};

/// The 8-bit factor k of item i in `panels` of width f.
std::int8_t int8_factor(const Int8Panels& panels, std::size_t f, std::size_t i, std::size_t k);

/// The 8-bit panels of row-major item factors Y (n × f): q_ik = round(y_ik / s_i) with
/// s_i = max_k |y_ik| / 127. An item whose largest factor is under 2^−30 is stored as zeros with
/// a scale of 0 (its bound covers its whole score). Empty when Y is empty, holds a value that is
/// not finite, or a factor of magnitude 2^50 or more (the float32 scan serves such models).
Int8Panels int8_panels(const FactorMatrix& Y);

/// Per item i, a radius r_i such that |approximate_i − s_i| ≤ S·r_i for every user vector u that
/// score_int8_panels() accepts and the scale S it returns, where approximate_i is its score and
/// s_i score_panels()'s float32 score. With ỹ_i = s_i·q_i the dequantised factors, ũ = s_u·v the
/// dequantised user and e = u − ũ (γ_m = m·2^−24 / (1 − m·2^−24)):
///   u·y_i − u·ỹ_i = u·(y_i − ỹ_i), at most ‖u‖·‖ỹ_i − y_i‖ (Cauchy–Schwarz; the residual of the
///   actual rounding, computed exactly in double, not its worst case);
///   the integer scan: u·ỹ_i − ũ·ỹ_i = e·ỹ_i, at most ‖e‖·‖ỹ_i‖; v·q_i is exact in int32 and in
///   float32 (under 2^24), and its product with s_u·s_i rounds twice: γ_2·‖ũ‖·‖ỹ_i‖, with
///   ‖ũ‖ ≤ ‖u‖ + ‖e‖;
///   the float32 path (user not quantised, e = 0): a float32 sum of f products and one product,
///   within γ_{f+1}·‖u‖·‖ỹ_i‖;
///   the float32 scan itself is within γ_f·‖u‖·‖y_i‖ of u·y_i (whatever the order, with or
///   without FMA).
/// With S = max(‖u‖, ‖e‖/ρ), ρ = 2^−7 (about the typical ‖e‖/‖u‖ of 8-bit users, so S is ‖u‖
/// for most users and grows only for a user whose rounding is unusually coarse):
///   r_i = ‖ỹ_i − y_i‖ + γ_f·‖y_i‖ + (ρ·(1 + γ_2) + γ_2)·‖ỹ_i‖, which covers both paths.
/// Underflow is kept out rather than bounded: scales below 2^−30 are zero (above), user vectors
/// of norm under 2^−40 are refused, and every radius is at least 2^−60, so the absolute error of
/// a subnormal result (at most f·2^−149) stays far below scale·r_i.
/// Rounded up, with room for the rounding of scale·r_i. Empty when `panels` is.
std::vector<float> int8_error_radii(const Int8Panels& panels, const FactorMatrix& Y);

/// The user vector u (f factors) quantised as the 8-bit scan quantises it from SSE4 on:
/// v_k = round(u_k / s_u) in [−L, L] with s_u = max_k |u_k| / L, L = `largest_byte` (127 for the
/// scan; a batch kernel that adds byte products in 16-bit pairs takes 64,
/// BlockSimd::int8_user_largest), written to `words`
/// ((f + 3) / 4 words, byte j of word g the two's complement v_{4g+j}, zero past the last factor),
/// s_u to `user_scale`. Returns the scale S of the bound (‖u‖ or more, see above): for the
/// integer score s_i·s_u·(v·q_i), rounded as the scan rounds it (the product s_i·s_u, then
/// times v·q_i, exact in float32), |score − s_i| ≤ S·radii[i]. −1 (nothing written) when u
/// is not finite, or ‖u‖ is 0, under 2^−40 or 2^50 or more. With L = 64 the rounding e is about
/// twice as large and ‖e‖/ρ exceeds ‖u‖ for most users, so S grows (about 1.4× at 64 factors):
/// the bound holds for any L, only wider.
float int8_user(const float* u, int f, std::uint32_t* words, float* user_scale,
                int largest_byte = 127);

/// scores[i] ≈ u · y_i for the n items of `panels`, by the kernels of cpu_target(); returns the
/// scale S (‖u‖ or more, see above) with |scores[i] − s_i| ≤ S·radii[i] (radii from
/// int8_error_radii), or −1 (scores untouched) when `panels` is empty, u is not finite, or ‖u‖
/// is 0, under 2^−40 or 2^50 or more.
float score_int8_panels(const Int8Panels& panels, const float* u, int f, std::size_t n,
                        float* scores);

}  // namespace tailor::detail
