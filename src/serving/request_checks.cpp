// SPDX-License-Identifier: MIT
// Request validation.
#include "serving/request_checks.hpp"

#include <algorithm>
#include <cctype>

#include "tailor/error.hpp"

namespace tailor::detail {

namespace {

void check_context(const std::vector<std::pair<std::string, std::string>>& context) {
  TAILOR_THROW_IF(context.size() > CampaignLimits::kMaxContextEntries, ErrorCode::InvalidArgument,
                  "context has ", context.size(), " entries, more than the limit of ",
                  CampaignLimits::kMaxContextEntries);
  for (const auto& [key, value] : context) {
    const bool key_ok = !key.empty() && key.size() <= CampaignLimits::kMaxContextKey &&
                        std::all_of(key.begin(), key.end(),
                                    [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    TAILOR_THROW_IF(!key_ok, ErrorCode::InvalidArgument, "context key \"", key.substr(0, 160),
                    "\" must be 1-", CampaignLimits::kMaxContextKey, " characters of [A-Za-z0-9_]");
    TAILOR_THROW_IF(value.size() > CampaignLimits::kMaxContextValue, ErrorCode::InvalidArgument,
                    "context value for \"", key, "\" is longer than ",
                    CampaignLimits::kMaxContextValue, " characters");
  }
}

void check_metadata_columns(const std::vector<std::string>& columns) {
  TAILOR_THROW_IF(columns.size() > CampaignLimits::kMaxMetadataColumns, ErrorCode::InvalidArgument,
                  "metadata_columns names ", columns.size(), " columns, more than the limit of ",
                  CampaignLimits::kMaxMetadataColumns);
  // A column named twice would be a key twice in the response's "metadata" object.
  for (std::size_t a = 0; a < columns.size(); ++a) {
    for (std::size_t b = 0; b < a; ++b) {
      TAILOR_THROW_IF(columns[a] == columns[b], ErrorCode::InvalidArgument, "metadata_columns: \"",
                      columns[a], "\" is named twice");
    }
  }
}

}  // namespace

void check_request(const RecommendationRequest& request) {
  TAILOR_THROW_IF(request.num_results > CampaignLimits::kMaxNumResults, ErrorCode::InvalidArgument,
                  "num_results ", request.num_results, " is more than the limit of ",
                  CampaignLimits::kMaxNumResults);
  TAILOR_THROW_IF(request.user_id.empty() && request.item_id.empty(), ErrorCode::InvalidArgument,
                  "a recommendation request needs a user_id or an item_id");
  TAILOR_THROW_IF(request.excluded_item_ids.size() > CampaignLimits::kMaxExcluded,
                  ErrorCode::InvalidArgument, request.excluded_item_ids.size(),
                  " excluded items, more than the limit of ", CampaignLimits::kMaxExcluded);
  check_context(request.context);
  check_metadata_columns(request.metadata_columns);
  if (request.exploration_weight) {
    const float w = *request.exploration_weight;
    TAILOR_THROW_IF(!(w >= 0 && w <= 1), ErrorCode::InvalidArgument, "exploration_weight ", w,
                    " must be between 0 and 1");
  }
  if (request.exploration_item_age_cut_off) {
    const float d = *request.exploration_item_age_cut_off;
    TAILOR_THROW_IF(!(d >= 0 && d <= 36500), ErrorCode::InvalidArgument,
                    "exploration_item_age_cut_off ", d, " must be between 0 and 36500 days");
  }
  if (request.promotion) {
    const Promotion& p = *request.promotion;
    const bool name_ok = !p.name.empty() && p.name.size() <= 63 &&
                         std::isalnum(static_cast<unsigned char>(p.name[0])) &&
                         std::all_of(p.name.begin(), p.name.end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '_' || c == '-';
                         });
    TAILOR_THROW_IF(!name_ok, ErrorCode::InvalidArgument, "promotion name \"", p.name.substr(0, 70),
                    "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
    TAILOR_THROW_IF(p.percent_promoted_items < 1 || p.percent_promoted_items > 100,
                    ErrorCode::InvalidArgument, "promotion ", p.name,
                    ": percent_promoted_items must be 1-100");
    TAILOR_THROW_IF(!p.filter, ErrorCode::InvalidArgument, "promotion ", p.name, " needs a filter");
  }
}

void check_request(const RankingRequest& request) {
  TAILOR_THROW_IF(request.user_id.empty(), ErrorCode::InvalidArgument,
                  "a ranking request needs a user_id");
  TAILOR_THROW_IF(
      request.input_list.empty() || request.input_list.size() > CampaignLimits::kMaxInputList,
      ErrorCode::InvalidArgument, "input_list must hold 1 to ", CampaignLimits::kMaxInputList,
      " item ids, found ", request.input_list.size());
  check_metadata_columns(request.metadata_columns);
}

}  // namespace tailor::detail
