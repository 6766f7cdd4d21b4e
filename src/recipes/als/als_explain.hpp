// SPDX-License-Identifier: MIT
// Why an ALS model scores an item as it does for a user (AlsModel::explain).
#pragma once

#include <Eigen/Core>
#include <vector>

#include "tailor/recipes/als.hpp"

namespace tailor::detail {

/// For each of `items`, the history items' contributions to its score (largest first, at most
/// k): Hu, Koren & Volinsky (2008) §5. `gram` is YᵀY + λI (lower triangle used).
void als_explain(const FactorMatrix& Y, const Eigen::MatrixXf& gram, float alpha,
                 const UserQuery& query, Span<Index> items, std::size_t k,
                 std::vector<std::vector<ScoredItem>>& out);

}  // namespace tailor::detail
