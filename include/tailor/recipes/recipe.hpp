// SPDX-License-Identifier: MIT
// Recipe: an algorithm with its hyperparameters; training it yields a Model.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/recipes/model.hpp"
#include "tailor/recipes/training_data.hpp"

namespace tailor {

/// A recipe: a named algorithm with validated hyperparameters.
///
/// Thread safety: immutable; train() may be called from several threads at once on different
/// data.
class TAILOR_EXPORT Recipe {
 public:
  virtual ~Recipe() = default;
  /// Registry name, e.g. "user-personalization".
  virtual const std::string& name() const = 0;
  /// The hyperparameters as a JSON object (every field, defaults included).
  virtual std::string params_json() const = 0;
  /// Trains a model from scratch (training mode FULL).
  virtual std::unique_ptr<Model> train(const TrainingData& data, const TrainContext& context) const = 0;
  /// Whether update() is supported (training mode UPDATE).
  virtual bool supports_update() const { return false; }
  /// Extends `previous` with the users and items that are new in `data` and fits them against the
  /// existing model, without a full retrain.
  /// @throws tailor::Error(InvalidArgument) when the recipe has no UPDATE mode or `previous` is
  ///         not one of its models
  virtual std::unique_ptr<Model> update(const Model& previous, const TrainingData& data,
                                        const TrainContext& context) const;
};

/// Creates recipes by name.
class TAILOR_EXPORT RecipeRegistry {
 public:
  /// A recipe with hyperparameters from a JSON object ("{}" for the defaults). Accepts the
  /// registry names and Personalize's names ("aws-user-personalization", "aws-sims", ...).
  /// @throws tailor::Error(NotFound) for an unknown recipe, InvalidArgument for bad parameters
  static std::unique_ptr<Recipe> create(std::string_view name, std::string_view params_json = "{}");
  /// The registry names: user-personalization, sims, popularity-count, trending-now,
  /// personalized-ranking.
  static std::vector<std::string> names();
  /// One line per hyperparameter of a recipe: name, type, default, range, description.
  static std::string describe(std::string_view name);
};

}  // namespace tailor
