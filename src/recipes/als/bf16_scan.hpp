// SPDX-License-Identifier: MIT
// The serving scan on a bfloat16 copy of the item factors (internal).
//
// A request scores the whole catalog, and at 50,000 items × 64 float32 factors the panels
// (12.8 MB) no longer stay in this machine's share of the last-level cache between requests: the
// scan runs at memory speed. In bfloat16 the same factors are half the bytes, and widening one
// back to float32 is a single mask or shift, so the scan still multiplies and adds in float32 and
// returns, with the scores, a bound on how far each can be from the float32 score. Serving
// re-scores its few candidates in float32 (see Campaign), so the items chosen, their order and
// their raw scores are exactly those of a float32 scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "recipes/als/als_kernels.hpp"

namespace tailor::detail {

/// Nearest bfloat16 value of a finite `value` (ties to even), as its 16 bits: the high half of
/// the float32 it widens back to.
std::uint16_t float_to_bf16(float value);

/// The float32 value of a bfloat16 value's 16 bits.
float bf16_to_float(std::uint16_t half);

/// Item factors in the panel layout, two factors per 32-bit word: panel b holds, for each pair of
/// factors (2j, 2j + 1), kScorePanel words, one per item b·kScorePanel + lane, with factor 2j in
/// the high half and 2j + 1 in the low half (zero past the last factor or item).
using Bf16Panels = std::vector<std::uint32_t, LargeAllocator<std::uint32_t>>;

/// The bfloat16 panels of row-major item factors Y (n × f), subnormal values as zeros; empty when
/// a value of Y is not finite or rounds to 2^50 or more in magnitude (products must stay finite).
Bf16Panels bf16_panels(const FactorMatrix& Y);

/// Per item i, a radius r_i such that |approximate_i − s_i| ≤ ‖u‖·r_i for every user vector u
/// that score_bf16_panels() takes (2^−20 ≤ ‖u‖ < 2^50),
/// where approximate_i is score_bf16_panels()'s score and s_i score_panels()'s float32 score:
///   u·b_i − u·y_i = u·(b_i − y_i), at most ‖u‖·‖b_i − y_i‖ (Cauchy–Schwarz), with b_i the
///   bfloat16 factors (the residual of the actual rounding, not its worst case), plus the float32
///   arithmetic of both scans, each within γ_f·Σ|u_k·x_k| ≤ γ_f·‖u‖·‖x‖ for x = b_i, y_i, with
///   γ_f = f·2^−24 / (1 − f·2^−24) whatever the summation order, with or without FMA.
/// Where the scan takes the user in two bfloat16 parts h + l (AlsSimd::scan_bf16_dot), its
///   arithmetic instead: 2f exact products summed, within γ_2f·Σ(|h_k| + |l_k|)·|b_ik| ≤
///   γ_2f·(1 + 2^−6)·‖u‖·‖b_i‖; the parts' residual, |(u − h − l)·b_i| ≤ 2^−15·‖u‖·‖b_i‖ (the scan
///   checks it per user); and the values it flushes to zero, under f·2^−100·‖u‖ in all.
/// Rounded up, with room for the rounding of scale·r_i. Empty when `panels` is.
std::vector<float> bf16_error_radii(const Bf16Panels& panels, const FactorMatrix& Y);

/// scores[i] ≈ u · y_i for the n items of `panels`, by the dot-product kernel where the target in
/// force has one and u's parts are within what the radii allow (else by the float32
/// multiply-adds); returns the scale s (about ‖u‖) with
/// |scores[i] − s_i| ≤ s·radii[i] (radii from bf16_error_radii), or −1 (scores untouched)
/// when `panels` is empty, u is not finite or ‖u‖ is outside [2^−20, 2^50) (the caller then
/// scores in float32).
float score_bf16_panels(const Bf16Panels& panels, const float* u, int f, std::size_t n,
                        float* scores);

}  // namespace tailor::detail
