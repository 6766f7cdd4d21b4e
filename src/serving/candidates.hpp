// SPDX-License-Identifier: MIT
// Candidate selection: the bounded top-k of approximately scored items, and the similar items of
// an item newer than the model.
#pragma once

#include <cstddef>
#include <vector>

#include "serving/softmax.hpp"
#include "tailor/bitmap.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/recipes/model.hpp"

namespace tailor::detail {

// The best `count` items by exact score, from approximate scores within `bound` of the exact
// ones (UserScorer::approximate_scores; knocked-out items at −infinity): the items that could be
// among the exact best are scored exactly and ranked. Each item scored exactly goes into
// `normaliser` (when given).
void top_k_within(const UserScorer& scorer, const float* approximate, std::size_t n,
                  const ScoreBound& bound, std::size_t count, const Bitmap* allowed,
                  Normaliser* normaliser, std::vector<ScoredItem>& top);

// Items co-occurring with `item` in users' histories, by the number of users (an item the model
// has not seen yet still gets similar items as soon as it has interactions); the best k.
std::vector<ScoredItem> co_occurring(const DatasetGroup& g, Index item, std::size_t k);

}  // namespace tailor::detail
