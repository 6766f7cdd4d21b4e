// SPDX-License-Identifier: MIT
// Ranking of candidate lists, and the recipe registry.
#include "tailor/recipes/ranking.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "detail/text.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"

namespace tailor {

std::vector<RankedItem> rank_items(const Model& model, const UserQuery& query, Span<Index> candidates) {
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

namespace {
std::string canonical(std::string_view name) {
  std::string s = detail::to_lower(name);
  if (s.rfind("aws-", 0) == 0) s = s.substr(4);
  if (s == "item-knn") s = "sims";
  return s;
}
}  // namespace

std::unique_ptr<Recipe> RecipeRegistry::create(std::string_view name, std::string_view params_json) {
  const std::string n = canonical(name);
  if (n == "user-personalization") return std::make_unique<AlsRecipe>(AlsParams::from_json(params_json));
  if (n == "personalized-ranking") {
    return std::make_unique<AlsRecipe>(AlsParams::from_json(params_json), "personalized-ranking");
  }
  if (n == "sims") return std::make_unique<ItemKnnRecipe>(ItemKnnParams::from_json(params_json));
  if (n == "popularity-count") {
    return std::make_unique<PopularityRecipe>(PopularityParams::from_json(params_json));
  }
  if (n == "trending-now") return std::make_unique<TrendingRecipe>(TrendingParams::from_json(params_json));
  std::string known;
  for (const std::string& k : names()) known += (known.empty() ? "" : ", ") + k;
  TAILOR_THROW(ErrorCode::NotFound, "unknown recipe \"", name, "\" (expected one of ", known, ")");
}

std::vector<std::string> RecipeRegistry::names() {
  return {"user-personalization", "sims", "popularity-count", "trending-now", "personalized-ranking"};
}

std::string RecipeRegistry::describe(std::string_view name) {
  const std::string n = canonical(name);
  if (n == "user-personalization" || n == "personalized-ranking") return AlsParams::describe();
  if (n == "sims") return ItemKnnParams::describe();
  if (n == "popularity-count") return PopularityParams::describe();
  if (n == "trending-now") return TrendingParams::describe();
  TAILOR_THROW(ErrorCode::NotFound, "unknown recipe \"", name, "\"");
}

}  // namespace tailor
