// SPDX-License-Identifier: MIT
// Explanations of item-kNN scores: the neighbour lists of the user's history that an item is on.
#include <algorithm>

#include "tailor/recipes/item_knn.hpp"

namespace tailor {

void ItemKnnModel::explain(const UserQuery& query, Span<Index> items, std::size_t k,
                           std::vector<std::vector<ScoredItem>>& out) const {
  out.assign(items.size(), {});
  for (std::size_t n = 0; n < items.size(); ++n) {
    std::vector<ScoredItem>& terms = out[n];
    // score_all's sum, term by term: history item h adds w_h · sim(h, item) when item is one of
    // h's neighbours. Repeated history items add up.
    for (std::size_t e = 0; e < query.history.size(); ++e) {
      const Index h = query.history[e];
      if (h >= num_items()) continue;
      const Span<Index> neighbours = neighbors(h);
      const auto at = std::find(neighbours.begin(), neighbours.end(), items[n]);
      if (at == neighbours.end()) continue;
      const float term = (query.weights.empty() ? 1.0f : query.weights[e]) *
                         similarities(h)[static_cast<std::size_t>(at - neighbours.begin())];
      const auto same = std::find_if(terms.begin(), terms.end(),
                                     [&](const ScoredItem& t) { return t.item == h; });
      if (same != terms.end()) {
        same->score += term;
      } else {
        terms.push_back({h, term});
      }
    }
    std::sort(terms.begin(), terms.end(), [](const ScoredItem& a, const ScoredItem& b) {
      return a.score != b.score ? a.score > b.score : a.item < b.item;
    });
    if (terms.size() > k) terms.resize(k);
  }
}

}  // namespace tailor
