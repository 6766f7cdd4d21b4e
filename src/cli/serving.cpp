// SPDX-License-Identifier: MIT
// tailor recommend and rank: one request to the chosen solution's active version.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "io/json.hpp"
#include "serving/response_json.hpp"

namespace tailor::cli {
namespace {

using tailor::detail::append_json_string;
using tailor::detail::response_json;

struct RecommendArgs {
  std::string user, item;
  ServingArgs serving;
  std::string exploration_weight, exploration_cut_off;
  bool explain = false;
};

struct RankArgs {
  std::string user, items, solution_name, metadata;
};

// A number option: the whole text must be a finite number.
float parse_number(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  float value = 0;
  try {
    value = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value))
    throw bad_option(option, "a number", text);
  return value;
}

void print_response(const RecommendationResponse& r, bool json, const char* list_name) {
  if (json) {
    std::cout << response_json(r, list_name) << "\n";
    return;
  }
  if (r.cold_start) std::cout << "(unknown user: popular items)\n";
  for (std::size_t k = 0; k < r.items.size(); ++k) {
    std::printf("%3zu. %-24s", k + 1, r.items[k].item_id.c_str());
    if (r.items[k].score) {
      std::printf(" %.6f", *r.items[k].score);
    } else {
      std::printf(" %s", "(no score)");
    }
    if (r.items[k].explored) std::printf(" (exploration)");
    for (const auto& [column, value] : r.items[k].metadata)
      std::printf(" %s=%s", column.c_str(), value.c_str());
    std::printf("\n");
    for (const std::string& reason : r.items[k].reason) std::printf("       %s\n", reason.c_str());
  }
  std::printf("recommendation id %s\n", r.recommendation_id.c_str());
}

int run_recommend(const Common& common, const RecommendArgs& a) {
  const FilterLimits limits = filter_limits(a.serving);
  auto store = open_store(common, StoreAccess::ReadOnly);
  if (a.user.empty() == a.item.empty()) {
    throw Error(ErrorCode::InvalidArgument, "give --user or --item");
  }
  auto campaign = campaign_for(*store, a.serving.solution);
  RecommendationRequest r;
  r.user_id = a.user;
  r.item_id = a.item;
  r.num_results = a.serving.n;
  r.filter = compile_filter(*store, a.serving.filter, limits);
  r.filter_values = parse_params(a.serving.filter_params);
  if (!a.serving.metadata.empty())
    r.metadata_columns = split_list("--metadata", a.serving.metadata);
  if (!a.exploration_weight.empty())
    r.exploration_weight = parse_number("--exploration-weight", a.exploration_weight);
  if (!a.exploration_cut_off.empty())
    r.exploration_item_age_cut_off =
        parse_number("--exploration-age-cut-off", a.exploration_cut_off);
  r.explain = a.explain;
  print_response(campaign->get_recommendations(r), common.json, "itemList");
  return 0;
}

int run_rank(const Common& common, const RankArgs& a) {
  auto store = open_store(common, StoreAccess::ReadOnly);
  RankingRequest r;
  r.user_id = a.user;
  r.input_list = split_list("--items", a.items);
  if (!a.metadata.empty()) r.metadata_columns = split_list("--metadata", a.metadata);
  auto campaign = campaign_for(*store, a.solution_name);
  print_response(campaign->get_personalized_ranking(r), common.json, "personalizedRanking");
  return 0;
}

}  // namespace

void add_serving(CLI::App& app, Common& common, Commands& commands) {
  auto recommend = std::make_shared<RecommendArgs>();
  CLI::App* cmd = add_command(app, common, "recommend",
                              "recommendations for a user, or similar items for an item");
  cmd->add_option("--user", recommend->user, "user id");
  cmd->add_option("--item", recommend->item, "item id (similar items; recipe sims)");
  add_serving_options(cmd, recommend->serving, "number of results", "filter expression");
  cmd->add_option("--exploration-weight", recommend->exploration_weight,
                  "share of slots for new items, 0 to 1 (default: the solution's, 0.3)");
  cmd->add_option("--exploration-age-cut-off", recommend->exploration_cut_off,
                  "days within which an item counts as new (default: the solution's, 30)");
  cmd->add_flag("--explain", recommend->explain,
                "give each item its reasons (the history items behind it)");
  commands.push_back({cmd, [&common, recommend] { return run_recommend(common, *recommend); }});

  auto rank = std::make_shared<RankArgs>();
  cmd = add_command(app, common, "rank", "rank a list of items for a user");
  cmd->add_option("--user", rank->user, "user id")->required();
  cmd->add_option("--items", rank->items, "comma-separated item ids")->required();
  add_solution_option(cmd, rank->solution_name);
  cmd->add_option("--metadata", rank->metadata,
                  "comma-separated items fields returned with each item (metadataColumns)");
  commands.push_back({cmd, [&common, rank] { return run_rank(common, *rank); }});
}

}  // namespace tailor::cli
