// SPDX-License-Identifier: MIT
// TrainingData: the events a solution trains on, as event columns and as user×item matrices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/types.hpp"

namespace tailor {

struct ItemFeatureTable;

/// Events selected and weighted by a solution's training-data choices, plus the aggregated
/// user→item matrix (CSR) and its transpose. Indices are the dataset group's; users and items
/// without events simply have empty rows.
///
/// Thread safety: immutable after build(); safe to share.
struct TAILOR_EXPORT TrainingData {
  Index num_users = 0;
  Index num_items = 0;

  // The events, in dataset order.
  std::vector<Index> users;
  std::vector<Index> items;
  std::vector<std::int64_t> timestamps;
  std::vector<float> weights;  ///< per event, as the solution's EventSelection weighs it

  // user -> (item, summed weight), items ascending within a user.
  std::vector<std::size_t> user_offsets;  ///< size num_users + 1
  std::vector<Index> user_items;
  std::vector<float> user_values;
  // item -> (user, summed weight), users ascending within an item.
  std::vector<std::size_t> item_offsets;  ///< size num_items + 1
  std::vector<Index> item_users;
  std::vector<float> item_values;

  /// The items' metadata features when the solution has them (Solution::train fills it from the
  /// group's items), else null. Recipes that do not use metadata ignore it.
  std::shared_ptr<const ItemFeatureTable> item_features;

  /// Number of distinct (user, item) pairs.
  std::size_t nnz() const { return user_items.size(); }

  /// Builds the matrices from event columns (which it takes over).
  /// @throws tailor::Error(InvalidArgument) if an index is out of range or sizes differ
  static TrainingData build(Index num_users, Index num_items, std::vector<Index> users,
                            std::vector<Index> items, std::vector<std::int64_t> timestamps,
                            std::vector<float> weights);
};

}  // namespace tailor
