// SPDX-License-Identifier: MIT
// Popularity as a campaign follows it.
#include "serving/live_popularity.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace tailor::detail {

std::pair<std::vector<std::uint32_t>, std::size_t> history_lengths(const DatasetGroup& g) {
  std::vector<std::uint32_t> lengths(g.user_ids().size());
  for (Index u = 0; u < lengths.size(); ++u)
    lengths[u] = static_cast<std::uint32_t>(g.interaction_rows_of(u).size());
  return {std::move(lengths), g.interactions().size()};
}

std::vector<std::pair<Index, std::uint32_t>> first_interactions(const DatasetGroup& g,
                                                                std::size_t first_row) {
  const Interactions& in = g.interactions();
  std::vector<Index> users;  // those with rows from first_row on
  if (first_row == 0) {
    users.resize(g.user_ids().size());
    std::iota(users.begin(), users.end(), Index{0});
  } else {
    for (std::size_t row = first_row; row < in.size(); ++row) users.push_back(in.users()[row]);
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
  }
  std::vector<std::pair<Index, std::uint32_t>> out;
  std::unordered_set<Index> seen;  // the user's items so far
  std::vector<std::uint32_t> rows;
  for (Index u : users) {
    seen.clear();
    rows.clear();
    for (std::uint32_t r : g.interaction_rows_of(u)) {
      if (r < first_row) {
        seen.insert(in.items()[r]);
      } else {
        rows.push_back(r);
      }
    }
    std::sort(rows.begin(), rows.end());
    for (std::uint32_t r : rows) {
      if (seen.insert(in.items()[r]).second) out.emplace_back(in.items()[r], r);
    }
  }
  return out;
}

std::vector<Index> popular_items(const DatasetGroup& g) {
  std::vector<float> users(g.item_ids().size(), 0.0f);
  for (const auto& [item, row] : first_interactions(g, 0)) users[item] += 1;
  std::vector<Index> order(users.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return users[a] > users[b]; });
  return order;
}

void LivePopularity::add_rows(const DatasetGroup& g, std::size_t first_row) {
  const std::vector<std::pair<Index, std::uint32_t>> counted = first_interactions(g, first_row);
  std::lock_guard<std::mutex> lock(mutex_);
  events_.insert(events_.end(), counted.begin(), counted.end());
}

void LivePopularity::forget_before(std::size_t rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.erase(std::remove_if(events_.begin(), events_.end(),
                               [&](const auto& e) { return e.second < rows; }),
                events_.end());
}

void LivePopularity::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.clear();
}

std::vector<std::pair<Index, float>> LivePopularity::counts_since(std::size_t trained_rows) const {
  std::unordered_map<Index, float> counts;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [item, row] : events_) {
      if (row >= trained_rows) counts[item] += 1.0f;
    }
  }
  return {counts.begin(), counts.end()};
}

}  // namespace tailor::detail
