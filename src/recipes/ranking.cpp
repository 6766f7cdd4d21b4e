// SPDX-License-Identifier: MIT
// Ranking of candidate lists.
#include "tailor/recipes/ranking.hpp"

#include <algorithm>
#include <limits>

#include "tailor/error.hpp"

namespace tailor {

std::vector<RankedItem> rank_items(const Model& model, const UserQuery& query,
                                   Span<Index> candidates) {
  std::vector<Index> known_items;
  for (Index c : candidates) {
    if (c < model.num_items()) known_items.push_back(c);
  }
  std::vector<float> scores;
  model.score(query, known_items, scores);
  // An item removed from the model (Model::without) scores -infinity: it cannot be scored.
  std::vector<char> known(candidates.size(), 0);
  std::vector<RankedItem> out;
  out.reserve(candidates.size());
  std::size_t next = 0;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    if (candidates[k] >= model.num_items()) continue;
    const float score = scores[next++];
    if (score == -std::numeric_limits<float>::infinity()) continue;
    known[k] = 1;
    out.push_back({candidates[k], score, true});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RankedItem& a, const RankedItem& b) { return a.score > b.score; });
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    if (!known[k]) out.push_back({candidates[k], 0.0f, false});
  }
  return out;
}

}  // namespace tailor
