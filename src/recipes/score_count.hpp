// SPDX-License-Identifier: MIT
// The check that a model gave one score per item: what the library reads of a model's scores
// (a recipe registered by a program included) is never indexed past their end.
#pragma once

#include <cstddef>

#include "tailor/error.hpp"
#include "tailor/recipes/model.hpp"

namespace tailor::detail {

/// @throws tailor::Error(Internal) when `count` is not `model`'s num_items()
inline void check_score_count(const Model& model, std::size_t count) {
  TAILOR_THROW_IF(count != model.num_items(), ErrorCode::Internal, "recipe ", model.recipe(),
                  "'s model gave ", count, " scores for its ", model.num_items(), " items");
}

}  // namespace tailor::detail
