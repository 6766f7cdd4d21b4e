// SPDX-License-Identifier: MIT
// Solution (recipe + hyperparameters + training-data choices) and SolutionVersion (a trained
// model with its metrics).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/data/dataset_group.hpp"
#include "tailor/export.hpp"
#include "tailor/metrics/ranking_metrics.hpp"
#include "tailor/recipes/item_features.hpp"
#include "tailor/recipes/recipe.hpp"
#include "tailor/solution/hpo.hpp"

namespace tailor {

/// Which interactions a solution trains on and how much each counts.
struct TAILOR_EXPORT EventSelection {
  /// Event types to keep (matched case-insensitively); empty keeps every type.
  std::vector<std::string> event_types;
  /// Drop events whose EVENT_VALUE is below this; events without a value are kept. As in
  /// Personalize, this is all EVENT_VALUE does by default: it selects events, not weighs them.
  std::optional<float> event_value_threshold;
  /// Weight per event type (case-insensitive); types not listed weigh 1. An event counts its
  /// event type's weight.
  std::vector<std::pair<std::string, float>> event_type_weights;
  /// Use EVENT_VALUE as a confidence too: an event then counts its type's weight × EVENT_VALUE
  /// (× 1 when it has no value). A tailor extension (Personalize has no such setting), off by
  /// default; solution versions saved before this setting existed were trained with it on and
  /// load with it on.
  bool event_value_as_weight = false;

  /// Parses {"eventTypes":[…],"eventValueThreshold":x,"eventTypeWeights":{"click":1,…},
  /// "eventValueAsWeight":false}; every key is optional.
  /// @throws tailor::Error(InvalidArgument)
  static EventSelection from_json(std::string_view json);
  std::string to_json() const;
};

/// What a solution is.
struct TAILOR_EXPORT SolutionConfig {
  std::string name;                ///< unique within a dataset group
  std::string recipe;              ///< a RecipeRegistry name
  std::string params_json = "{}";  ///< the recipe's hyperparameters
  EventSelection events;
  /// Search the hyperparameters first (Personalize's performHPO with an hpoConfig): the best
  /// configuration found, starting from params_json, trains the version. Without ranges, the
  /// recipe's defaults (Recipe::hpo_ranges_json()) are searched.
  std::optional<HpoConfig> hpo = std::nullopt;
};

/// FULL trains from scratch; UPDATE extends the previous version's model with new users and items.
enum class TrainingMode { Full, Update };

/// How a solution version is trained.
struct TrainOptions {
  TrainingMode mode = TrainingMode::Full;
  /// Compute offline metrics (and the popularity baseline) on an evaluation split first.
  bool compute_metrics = true;
  EvaluationOptions evaluation;
  /// Threads and seed for training (evaluation.execution is overridden by this).
  ExecutionOptions execution;
  std::function<void(const TrainingProgress&)> progress;
  /// The items' metadata features (ItemFeatureTable::build of the group's items, taken with the
  /// events); train(group) fills it when null. Recipes that use metadata (user-personalization)
  /// read it through TrainingData::item_features.
  std::shared_ptr<const ItemFeatureTable> item_features;
};

/// A trained solution: the model, the metrics, and what produced them.
///
/// Thread safety: immutable; safe to share. The model is shared, never copied.
class TAILOR_EXPORT SolutionVersion {
 public:
  SolutionVersion(SolutionConfig config, TrainingMode mode, std::shared_ptr<const Model> model,
                  std::optional<RankingMetrics> metrics, std::optional<RankingMetrics> baseline,
                  double training_seconds, int training_ranks = 1,
                  std::optional<HpoResult> hpo = std::nullopt);

  /// This version with another model (one that forgot deleted users or items, say); everything
  /// else is kept.
  SolutionVersion with_model(std::shared_ptr<const Model> model) const;

  const SolutionConfig& config() const { return config_; }
  TrainingMode mode() const { return mode_; }
  const std::shared_ptr<const Model>& model() const { return model_; }
  /// The model's metrics on the evaluation split (absent when trained without metrics).
  const std::optional<RankingMetrics>& metrics() const { return metrics_; }
  /// popularity-count's metrics on the same split, for comparison.
  const std::optional<RankingMetrics>& baseline_metrics() const { return baseline_; }
  double training_seconds() const { return training_seconds_; }
  /// The processes (MPI ranks) that trained the model: 1 for a single-process fit.
  int training_ranks() const { return training_ranks_; }
  /// The hyperparameter search that chose config().params_json, when there was one. The
  /// version's config() then carries no hpo (retraining it trains the chosen configuration).
  const std::optional<HpoResult>& hpo() const { return hpo_; }

 private:
  SolutionConfig config_;
  TrainingMode mode_;
  std::shared_ptr<const Model> model_;
  std::optional<RankingMetrics> metrics_;
  std::optional<RankingMetrics> baseline_;
  double training_seconds_;
  int training_ranks_;
  std::optional<HpoResult> hpo_;
};

/// A recipe with hyperparameters and training-data choices.
///
/// Thread safety: immutable; train() may run concurrently with readers of the group only if the
/// group is not being mutated (DatasetGroup's contract).
class TAILOR_EXPORT Solution {
 public:
  /// @throws tailor::Error(NotFound) for an unknown recipe, InvalidArgument for bad parameters
  ///         or an hpo config that does not fit the recipe
  explicit Solution(SolutionConfig config);
  /// A solution that trains with `recipe`, an instance of the registry's config.recipe made
  /// elsewhere (e.g. distributed::DistributedAlsRecipe, which trains over MPI).
  /// @throws tailor::Error(InvalidArgument) when `recipe` is null or its name is not the one the
  ///         registry gives config.recipe
  Solution(SolutionConfig config, std::shared_ptr<const Recipe> recipe);

  const SolutionConfig& config() const { return config_; }
  const Recipe& recipe() const { return *recipe_; }

  /// The events this solution trains on, selected and weighted from the group.
  EventColumns select_events(const DatasetGroup& group) const;

  /// The user's events as this solution weighs them (for fold-in at serving time), oldest first.
  void user_history(const DatasetGroup& group, Index user, std::vector<Index>& items,
                    std::vector<float>& weights) const;

  /// Trains a new version from events already selected (so that the group can change meanwhile).
  SolutionVersion train(EventColumns events, Index num_users, Index num_items,
                        const TrainOptions& options = {},
                        const SolutionVersion* previous = nullptr) const;

  /// Trains a new version. UPDATE needs `previous` (a version of this solution). With
  /// config().hpo, the search runs on the training side of the evaluation split (all events
  /// without metrics), never on its test users.
  /// @throws tailor::Error(InvalidArgument) when there is nothing to train on or UPDATE is not
  ///         possible
  SolutionVersion train(const DatasetGroup& group, const TrainOptions& options = {},
                        const SolutionVersion* previous = nullptr) const;

 private:
  /// `model`, once it is known to be one of this recipe's: not null, recipe() its name.
  /// @throws tailor::Error(Internal) otherwise
  std::unique_ptr<Model> checked(std::unique_ptr<Model> model) const;
  /// Keep-flag and weight per event-type code (the last slot: events without a type).
  void type_weights(const IdMap& types, std::vector<char>& keep, std::vector<float>& weight) const;
  SolutionConfig config_;
  std::shared_ptr<const Recipe> recipe_;
};

}  // namespace tailor
