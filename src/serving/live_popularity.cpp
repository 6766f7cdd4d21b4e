// SPDX-License-Identifier: MIT
// Popularity as a campaign follows it.
#include "serving/live_popularity.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace tailor::detail {

std::pair<std::vector<std::uint32_t>, std::size_t> history_lengths(const DatasetGroup& g) {
  std::vector<std::uint32_t> lengths(g.user_ids().size());
  for (Index u = 0; u < lengths.size(); ++u)
    lengths[u] = static_cast<std::uint32_t>(g.interaction_rows_of(u).size());
  return {std::move(lengths), g.interactions().size()};
}

std::vector<Index> popular_items(const DatasetGroup& g) {
  std::vector<float> users(g.item_ids().size(), 0.0f);
  std::vector<Index> last_user(g.item_ids().size(), kNoIndex);
  for (Index u = 0; u < g.user_ids().size(); ++u) {
    for (std::uint32_t r : g.interaction_rows_of(u)) {
      const Index i = g.interactions().items()[r];
      if (last_user[i] != u) {
        last_user[i] = u;
        users[i] += 1;
      }
    }
  }
  std::vector<Index> order(users.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return users[a] > users[b]; });
  return order;
}

void LivePopularity::add_rows(const DatasetGroup& g, std::size_t first_row) {
  // Popularity counts distinct users per item: an event counts when the user had not interacted
  // with the item before.
  std::vector<std::pair<Index, std::uint32_t>> counted;
  const Interactions& in = g.interactions();
  for (std::size_t row = first_row; row < in.size(); ++row) {
    const Index user = in.users()[row], item = in.items()[row];
    bool seen = false;
    for (std::uint32_t other : g.interaction_rows_of(user)) {
      if (other < row && in.items()[other] == item) {
        seen = true;
        break;
      }
    }
    if (!seen) counted.emplace_back(item, static_cast<std::uint32_t>(row));
  }
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
