// SPDX-License-Identifier: MIT
// popularity-count and trending-now: the same list for every user.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/recipes/recipe.hpp"

namespace tailor {

/// Hyperparameters of popularity-count.
struct TAILOR_EXPORT PopularityParams {
  /// Exponential time decay: an interaction `half_life_days` older than the newest one counts
  /// half. 0 turns decay off.
  float half_life_days = 0;
  /// Count each (user, item) pair with its event weight (event-type weight × value) instead of 1.
  bool use_event_weights = false;

  static PopularityParams from_json(std::string_view json);
  std::string to_json() const;
  void validate() const;
  static std::string describe();
};

/// Hyperparameters of trending-now.
struct TAILOR_EXPORT TrendingParams {
  /// Length of the trend window; Personalize offers 0.5, 1, 3 (default) and 24 hours.
  float window_hours = 3;

  static TrendingParams from_json(std::string_view json);
  std::string to_json() const;
  void validate() const;
  static std::string describe();
};

/// A model whose scores do not depend on the user: one score per item and the items in
/// ranking order, so a top-k walks the order instead of scanning the catalog.
///
/// Thread safety: immutable; every const member is safe to call concurrently.
class TAILOR_EXPORT ItemScoreModel : public Model {
 public:
  ItemScoreModel(std::string recipe, std::vector<float> scores);

  const std::string& recipe() const override { return recipe_; }
  Index num_items() const override { return static_cast<Index>(scores_.size()); }
  Index num_users() const override { return 0; }
  bool personalized() const override { return false; }
  void score_all(const UserQuery& query, std::vector<float>& scores) const override;
  void recommend(const UserQuery& query, std::size_t k, const ItemMask& mask,
                 std::vector<ScoredItem>& out) const override;
  /// Sets the items' scores to -infinity: never ranked (a score of -infinity never is). The
  /// model holds nothing per user, so `users` changes nothing.
  std::shared_ptr<const Model> without(Span<Index> users, Span<Index> items) const override;
  /// Section: "scores".
  void save(ModelArchive& archive) const override;
  /// The model save() wrote, as trained by `recipe`.
  /// @throws tailor::Error(ParseError) when the archive has no scores
  static std::unique_ptr<ItemScoreModel> load(std::string recipe, const ModelArchive& archive);
  /// The per-item scores (distinct users for popularity-count; the rise for trending-now).
  const std::vector<float>& scores() const { return scores_; }

 private:
  std::string recipe_;
  std::vector<float> scores_;
  std::vector<Index> order_;  // items by descending score, ties by index; -infinity left out
};

/// popularity-count: the number of distinct users who interacted with each item (Personalize's
/// definition), optionally weighted and time-decayed.
class TAILOR_EXPORT PopularityRecipe : public Recipe {
 public:
  explicit PopularityRecipe(PopularityParams params = {});
  const std::string& name() const override { return name_; }
  std::string params_json() const override { return params_.to_json(); }
  /// Default search ranges (src/recipes/hpo_ranges.cpp).
  std::string hpo_ranges_json() const override;
  std::unique_ptr<Model> train(const TrainingData& data,
                               const TrainContext& context) const override;

 private:
  PopularityParams params_;
  std::string name_ = "popularity-count";
};

/// trending-now: items whose interaction count in the latest window (ending at the newest event)
/// rose most against the window before; score = count(latest) − count(previous).
class TAILOR_EXPORT TrendingRecipe : public Recipe {
 public:
  explicit TrendingRecipe(TrendingParams params = {});
  const std::string& name() const override { return name_; }
  std::string params_json() const override { return params_.to_json(); }
  std::unique_ptr<Model> train(const TrainingData& data,
                               const TrainContext& context) const override;

 private:
  TrendingParams params_;
  std::string name_ = "trending-now";
};

}  // namespace tailor
