// SPDX-License-Identifier: MIT
// item-kNN kernel: neighbour lists from co-occurrence.
#pragma once

#include <cstddef>
#include <vector>

#include "recipes/als/als_kernels.hpp"

namespace tailor::detail {

struct KnnKernelArgs {
  int neighbors = 100;
  float popularity_discount = 0.5f;  // d in C_ij / (‖w_i‖ · ‖w_j‖^(2d))
  int min_cointeractions = 3;
  int threads = 0;
};

struct NeighborLists {
  std::vector<std::size_t> offsets;  // size items + 1
  std::vector<Index> items;
  std::vector<float> similarities;
};

/// For every item i, the best `neighbors` items j ≠ i by
///   sim(i, j) = Σ_u w_iu w_ju / (‖w_i‖ · ‖w_j‖^(2d)),
/// over users u seen by both (and at least `min_cointeractions` of them). `by_item` is the
/// weighted item→user matrix, `by_user` its transpose. Parallel over items; the result does not
/// depend on the thread count (ties break by item index).
NeighborLists item_neighbors(const CsrView& by_item, const CsrView& by_user,
                             const KnnKernelArgs& args);

}  // namespace tailor::detail
