// SPDX-License-Identifier: MIT
// personalized-ranking: ordering a caller's candidate list for one user.
#pragma once

#include <vector>

#include "tailor/export.hpp"
#include "tailor/recipes/model.hpp"

namespace tailor {

/// One entry of a ranked candidate list.
struct RankedItem {
  Index item = kNoIndex;  ///< the candidate as given (kNoIndex for an id the group does not know)
  float score = 0;        ///< model score; meaningless when !known
  bool known = false;     ///< false: the model cannot score it; such items come last
};

/// Ranks `candidates` for the user: the items the model knows by descending score (ties keep
/// their given order), then the unknown ones in their given order, flagged, never dropped.
TAILOR_EXPORT std::vector<RankedItem> rank_items(const Model& model, const UserQuery& query,
                                                 Span<Index> candidates);

}  // namespace tailor
