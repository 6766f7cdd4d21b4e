// SPDX-License-Identifier: MIT
// Request validation: the documented limits (CampaignLimits), required ids, context and
// promotions, checked before a request reads the group.
#pragma once

#include "tailor/serving/campaign.hpp"

namespace tailor::detail {

// @throws tailor::Error(InvalidArgument) for a recommendation request past a limit, without a
//         user or item id, with a bad context entry or a bad promotion
void check_request(const RecommendationRequest& request);
// @throws tailor::Error(InvalidArgument) for a ranking request without a user id or with an
//         input list empty or past the limit (its context is checked as a recommendation
//         request's, when it is resolved as one)
void check_request(const RankingRequest& request);

}  // namespace tailor::detail
