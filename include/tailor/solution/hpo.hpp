// SPDX-License-Identifier: MIT
// Hyperparameter search (Personalize's hpoConfig): random search, then successive halving.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/metrics/ranking_metrics.hpp"
#include "tailor/recipes/recipe.hpp"

namespace tailor {

/// How a numeric range is sampled. Auto is Logarithmic when the range spans more than a factor
/// of 10 of positive values, Linear otherwise.
enum class HpoScaling { Auto, Linear, Logarithmic };

/// integerHyperParameterRanges entry: {"name","minValue","maxValue"[,"scalingType"]}.
struct HpoIntegerRange {
  std::string name;
  long long min = 0, max = 0;
  HpoScaling scaling = HpoScaling::Auto;
};
/// continuousHyperParameterRanges entry: {"name","minValue","maxValue"[,"scalingType"]}.
struct HpoContinuousRange {
  std::string name;
  double min = 0, max = 0;
  HpoScaling scaling = HpoScaling::Auto;
};
/// categoricalHyperParameterRanges entry: {"name","values":[…]}. Values are JSON scalars
/// written as text ("cg", "true", "3").
struct HpoCategoricalRange {
  std::string name;
  std::vector<std::string> values;
};

/// Personalize's hpoConfig:
/// {"hpoObjective":{"type":"Maximize","metricName":"normalized_discounted_cumulative_gain_at_10"},
///  "hpoResourceConfig":{"maxNumberOfTrainingJobs":"16","maxParallelTrainingJobs":"2"},
///  "algorithmHyperParameterRanges":{"integerHyperParameterRanges":[…],
///   "continuousHyperParameterRanges":[…],"categoricalHyperParameterRanges":[…]}}.
/// Every key is optional; without ranges the recipe's defaults (Recipe::hpo_ranges_json()) are
/// searched.
struct TAILOR_EXPORT HpoConfig {
  bool maximize = true;
  /// A RankingMetrics::named() name.
  std::string metric = "normalized_discounted_cumulative_gain_at_10";
  /// Trainings in all, over every rung of the search.
  int max_training_jobs = 16;
  /// Trainings run at once (the command's threads are shared among them).
  int max_parallel_jobs = 1;
  std::vector<HpoIntegerRange> integer_ranges;
  std::vector<HpoContinuousRange> continuous_ranges;
  std::vector<HpoCategoricalRange> categorical_ranges;

  bool has_ranges() const {
    return !integer_ranges.empty() || !continuous_ranges.empty() || !categorical_ranges.empty();
  }
  /// Parses an hpoConfig object, or a solutionConfig object holding one under "hpoConfig".
  /// Unknown keys, unknown metrics, empty or inverted ranges and a bad budget are errors.
  /// @throws tailor::Error(InvalidArgument)
  static HpoConfig from_json(std::string_view json);
  std::string to_json() const;
  /// Ranges from an algorithmHyperParameterRanges object (replacing any present).
  /// @throws tailor::Error(InvalidArgument)
  void set_ranges(std::string_view ranges_json);
  /// Checks the ranges against the recipe: every name is one of its hyperparameters and every
  /// value in a range is one it accepts (tries the ends of each range).
  /// @throws tailor::Error(InvalidArgument) naming the range
  void check_against(std::string_view recipe) const;
};

/// One training of the search.
struct HpoTrial {
  int configuration = 0;     ///< which sampled configuration (0-based, in sampling order)
  int rung = 0;              ///< successive-halving rung (0: the cheapest)
  double user_fraction = 1;  ///< share of the search's training users this rung trains on
  std::string params_json;   ///< the recipe's full hyperparameters
  double objective = 0;      ///< the metric on the validation users
  double seconds = 0;
};

/// What a search did and found.
struct TAILOR_EXPORT HpoResult {
  HpoConfig config;
  std::string best_params_json;
  double best_objective = 0;
  std::vector<HpoTrial> trials;  ///< in the order they were decided (rung by rung)
  std::size_t validation_users = 0;
  double seconds = 0;

  std::string to_json() const;
  /// @throws tailor::Error(ParseError)
  static HpoResult from_json(std::string_view json);
};

/// Searches `recipe`'s hyperparameters over `config`'s ranges, starting from `base_params_json`.
/// Only `events` are used: a validation split of kind `validation` is carved from them (seeded
/// by execution.seed), so callers pass the training side of their evaluation split and the test
/// users, or the held-out newest events, are never seen. Use the evaluation's own split kind:
/// held-out users are folded in, the others are scored with their trained state. Deterministic
/// for a seed and a number of parallel jobs.
/// @throws tailor::Error(InvalidArgument) for bad ranges or too few users to validate on
TAILOR_EXPORT HpoResult search_hyperparameters(
    std::string_view recipe, std::string_view base_params_json, const HpoConfig& config,
    const EventColumns& events, Index num_users, Index num_items, const ExecutionOptions& execution,
    SplitKind validation = SplitKind::HeldOutUsers,
    const std::function<void(const TrainingProgress&)>& progress = {});

}  // namespace tailor
