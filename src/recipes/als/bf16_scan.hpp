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

/// Item factors in the panel layout, two factors per 32-bit word: panel b holds, for each pair of
/// factors (2j, 2j + 1), kScorePanel words, one per item b·kScorePanel + lane, with factor 2j in
/// the high half and 2j + 1 in the low half (zero past the last factor or item).
using Bf16Panels = std::vector<std::uint32_t, LargeAllocator<std::uint32_t>>;

/// The bfloat16 panels of row-major item factors Y (n × f); empty when a value of Y is not
/// finite or rounds to infinity.
Bf16Panels bf16_panels(const FactorMatrix& Y);

/// The largest Euclidean norm of a row of Y, rounded up to a float (for the error bound).
float max_row_norm(const FactorMatrix& Y);

/// scores[i] ≈ u · y_i for the n items of `panels`, returning a bound B with
/// |scores[i] − s_i| ≤ B, where s_i is score_panels()'s float32 score of item i and `max_norm`
/// is max_row_norm(Y); or −1 (scores untouched) when `panels` is empty or u is not finite.
float score_bf16_panels(const Bf16Panels& panels, float max_norm, const float* u, int f,
                        std::size_t n, float* scores);

}  // namespace tailor::detail
