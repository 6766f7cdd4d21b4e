// SPDX-License-Identifier: MIT
// Popularity as a campaign follows it: items by distinct users when a version is deployed (the
// back-fill order), and the distinct-user events since (added to a popularity model's counts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "tailor/data/dataset_group.hpp"

namespace tailor::detail {

// Each user's interaction count, and the interaction rows in all: what a version is trained on.
std::pair<std::vector<std::uint32_t>, std::size_t> history_lengths(const DatasetGroup& g);

// The one popularity count of a campaign: the rows from `first_row` on that are their user's
// first interaction with their item, as (item, row). An item's popularity is its number of such
// rows, its distinct users (Personalize's popularity).
std::vector<std::pair<Index, std::uint32_t>> first_interactions(const DatasetGroup& g,
                                                                std::size_t first_row);

// Items by the number of distinct users who interacted with them (ties by index).
std::vector<Index> popular_items(const DatasetGroup& g);

// Distinct-user events since the served version's data: (item, interactions row) of each row that
// is its user's first interaction with its item.
//
// Thread safety: every member is safe to call concurrently.
class LivePopularity {
 public:
  // Counts the first interactions among the rows from `first_row` on (new rows, read under the
  // group's read lock).
  void add_rows(const DatasetGroup& g, std::size_t first_row);
  // Forgets the events of rows before `rows` (a version trained on them is served now).
  void forget_before(std::size_t rows);
  // Forgets every event (row numbers moved).
  void clear();
  // Per item, the events of rows from `trained_rows` on.
  std::vector<std::pair<Index, float>> counts_since(std::size_t trained_rows) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<Index, std::uint32_t>> events_;
};

}  // namespace tailor::detail
