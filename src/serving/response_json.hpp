// SPDX-License-Identifier: MIT
// A recommendation or ranking response in Personalize's runtime JSON: the one spelling that the
// command line and the HTTP service both print.
#pragma once

#include <string>

#include "tailor/export.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor::detail {

/// {"<list_name>":[{"itemId","score","promotionName","metadata","reason"}],"recommendationId"},
/// with tailor's "exploration":true on an item that exploration chose. A field without a value
/// (no score, no promotion, no metadata asked for, no reasons) is left out, as Personalize does.
TAILOR_EXPORT std::string response_json(const RecommendationResponse& response,
                                        const char* list_name);

}  // namespace tailor::detail
