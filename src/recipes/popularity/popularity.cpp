// SPDX-License-Identifier: MIT
// popularity-count and trending-now.
#include "tailor/recipes/popularity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

#include "detail/topk.hpp"
#include "recipes/params.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

const std::vector<detail::ParamField<PopularityParams>>& popularity_fields() {
  static const std::vector<detail::ParamField<PopularityParams>> fields = {
      {"half_life_days",
       &PopularityParams::half_life_days,
       0,
       1e6,
       {},
       "time decay half-life in days (0: no decay)"},
      {"use_event_weights",
       &PopularityParams::use_event_weights,
       0,
       0,
       {},
       "weigh each user by their event weight instead of 1"},
  };
  return fields;
}

const std::vector<detail::ParamField<TrendingParams>>& trending_fields() {
  static const std::vector<detail::ParamField<TrendingParams>> fields = {
      {"window_hours",
       &TrendingParams::window_hours,
       1.0 / 60,
       24 * 365,
       {},
       "length of the trend window in hours"},
  };
  return fields;
}

std::int64_t newest(const TrainingData& d) {
  return d.timestamps.empty() ? 0 : *std::max_element(d.timestamps.begin(), d.timestamps.end());
}

}  // namespace

PopularityParams PopularityParams::from_json(std::string_view json) {
  return detail::params_from_json(json, popularity_fields(), "popularity-count");
}
std::string PopularityParams::to_json() const {
  return detail::params_to_json(*this, popularity_fields());
}
void PopularityParams::validate() const {
  detail::validate_params(*this, popularity_fields(), "popularity-count");
}
std::string PopularityParams::describe() { return detail::describe_params(popularity_fields()); }

TrendingParams TrendingParams::from_json(std::string_view json) {
  return detail::params_from_json(json, trending_fields(), "trending-now");
}
std::string TrendingParams::to_json() const {
  return detail::params_to_json(*this, trending_fields());
}
void TrendingParams::validate() const {
  detail::validate_params(*this, trending_fields(), "trending-now");
}
std::string TrendingParams::describe() { return detail::describe_params(trending_fields()); }

ItemScoreModel::ItemScoreModel(std::string recipe, std::vector<float> scores)
    : recipe_(std::move(recipe)), scores_(std::move(scores)), order_(scores_.size()) {
  std::iota(order_.begin(), order_.end(), 0u);
  std::stable_sort(order_.begin(), order_.end(),
                   [&](Index a, Index b) { return scores_[a] > scores_[b]; });
  // Removed items (see without()) sort last; they are never ranked.
  while (!order_.empty() && scores_[order_.back()] == -std::numeric_limits<float>::infinity()) {
    order_.pop_back();
  }
}

void ItemScoreModel::save(ModelArchive& archive) const { archive.put_floats("scores", scores_); }

std::unique_ptr<ItemScoreModel> ItemScoreModel::load(std::string recipe,
                                                     const ModelArchive& archive) {
  const std::vector<float>& scores = archive.floats("scores");
  // A NaN would break the ordering the constructor sorts by.
  TAILOR_THROW_IF(std::any_of(scores.begin(), scores.end(), [](float s) { return s != s; }),
                  ErrorCode::ParseError, "item-score model: a score is not a number");
  return std::make_unique<ItemScoreModel>(std::move(recipe), scores);
}

std::shared_ptr<const Model> ItemScoreModel::without(Span<Index>, Span<Index> items) const {
  std::vector<float> scores = scores_;
  for (Index i : items) {
    if (i < num_items()) scores[i] = -std::numeric_limits<float>::infinity();
  }
  return std::make_shared<ItemScoreModel>(recipe_, std::move(scores));
}

void ItemScoreModel::score_all(const UserQuery&, std::vector<float>& scores) const {
  scores = scores_;
}

void ItemScoreModel::recommend(const UserQuery&, std::size_t k, const ItemMask& mask,
                               std::vector<ScoredItem>& out) const {
  std::vector<Index> excluded(mask.excluded.begin(), mask.excluded.end());
  std::sort(excluded.begin(), excluded.end());
  out.clear();
  for (Index item : order_) {
    if (out.size() >= k) break;
    if (mask.allowed && (item >= mask.allowed->size() || !mask.allowed->test(item))) continue;
    if (std::binary_search(excluded.begin(), excluded.end(), item)) continue;
    out.push_back({item, scores_[item]});
  }
}

PopularityRecipe::PopularityRecipe(PopularityParams params) : params_(params) {
  params_.validate();
}

std::unique_ptr<Model> PopularityRecipe::train(const TrainingData& data,
                                               const TrainContext&) const {
  // One contribution per distinct (user, item) pair: the pair's latest event decides its decay,
  // its largest event weight its weight.
  const std::int64_t now = newest(data);
  const double half_life = static_cast<double>(params_.half_life_days) * 86400.0;
  std::vector<std::size_t> order(data.users.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(data.items[a], data.users[a]) < std::tie(data.items[b], data.users[b]);
  });
  std::vector<float> scores(data.num_items, 0.0f);
  for (std::size_t k = 0; k < order.size();) {
    const Index item = data.items[order[k]], user = data.users[order[k]];
    std::int64_t latest = data.timestamps[order[k]];
    float weight = data.weights[order[k]];
    for (++k; k < order.size() && data.items[order[k]] == item && data.users[order[k]] == user;
         ++k) {
      latest = std::max(latest, data.timestamps[order[k]]);
      weight = std::max(weight, data.weights[order[k]]);
    }
    double contribution = params_.use_event_weights ? weight : 1.0;
    if (half_life > 0) contribution *= std::exp2(-static_cast<double>(now - latest) / half_life);
    scores[item] += static_cast<float>(contribution);
  }
  return std::make_unique<ItemScoreModel>(name_, std::move(scores));
}

TrendingRecipe::TrendingRecipe(TrendingParams params) : params_(params) { params_.validate(); }

std::unique_ptr<Model> TrendingRecipe::train(const TrainingData& data, const TrainContext&) const {
  const std::int64_t now = newest(data);
  const auto window = static_cast<std::int64_t>(std::llround(params_.window_hours * 3600.0));
  std::vector<float> scores(data.num_items, 0.0f);
  for (std::size_t e = 0; e < data.items.size(); ++e) {
    const std::int64_t age = now - data.timestamps[e];
    if (age < window)
      scores[data.items[e]] += 1.0f;  // latest window
    else if (age < 2 * window)
      scores[data.items[e]] -= 1.0f;  // the window before
  }
  return std::make_unique<ItemScoreModel>(name_, std::move(scores));
}

}  // namespace tailor
