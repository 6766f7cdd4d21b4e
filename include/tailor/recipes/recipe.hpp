// SPDX-License-Identifier: MIT
// Recipe: an algorithm with its hyperparameters; training it yields a Model.
#pragma once

#include <functional>
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
  virtual std::unique_ptr<Model> train(const TrainingData& data,
                                       const TrainContext& context) const = 0;
  /// Whether update() is supported (training mode UPDATE).
  virtual bool supports_update() const { return false; }
  /// Extends `previous` with the users and items that are new in `data` and fits them against the
  /// existing model, without a full retrain.
  /// @throws tailor::Error(InvalidArgument) when the recipe has no UPDATE mode or `previous` is
  ///         not one of its models
  virtual std::unique_ptr<Model> update(const Model& previous, const TrainingData& data,
                                        const TrainContext& context) const;
  /// The ranges a hyperparameter search (HpoConfig) tries when it is given none, as an
  /// algorithmHyperParameterRanges JSON object; empty (the default) when the recipe has none.
  virtual std::string hpo_ranges_json() const { return {}; }
};

/// Makes a recipe from its hyperparameters, a JSON object ("{}" for the defaults).
/// @throws tailor::Error(InvalidArgument) for bad parameters
using RecipeFactory = std::function<std::unique_ptr<Recipe>(std::string_view params_json)>;
/// Makes a model from what its Model::save() wrote.
/// @throws tailor::Error(ParseError) when the sections are missing or do not fit together
using ModelLoader = std::function<std::unique_ptr<Model>(const ModelArchive& archive)>;

/// The recipes a process knows, by name: the built-ins (user-personalization, sims,
/// popularity-count, trending-now, personalized-ranking) and any a program adds. Solutions name
/// their recipe here, and a saved version is loaded by the loader of its model's recipe().
///
/// Thread safety: every member is safe to call concurrently.
class TAILOR_EXPORT RecipeRegistry {
 public:
  /// Registers a recipe: `factory` makes it, `loader` reads its saved models back (empty for a
  /// recipe whose models are not saved), `describe` documents its hyperparameters (one line
  /// each). The built-in recipes register the same way. A name is lower-case letters, digits
  /// and '-', at most 63 characters, and does not start with "aws-" (Personalize's prefix,
  /// accepted in lookups).
  /// @throws tailor::Error(InvalidArgument) for a bad name, an empty factory, or a name that is
  ///         already registered
  static void add(const std::string& name, RecipeFactory factory, ModelLoader loader,
                  std::string describe = {});
  /// A recipe with hyperparameters from a JSON object ("{}" for the defaults). Lookups (here, in
  /// load() and describe()) ignore case and accept Personalize's "aws-" prefix
  /// ("aws-user-personalization", "AWS-SIMS") and "item-knn" for sims; names() lists the
  /// registry names only.
  /// @throws tailor::Error(NotFound) for an unknown recipe, InvalidArgument for bad parameters
  static std::unique_ptr<Recipe> create(std::string_view name, std::string_view params_json = "{}");
  /// The model a recipe's Model::save() wrote into `archive`.
  /// @throws tailor::Error(NotFound) for an unknown recipe or one without a loader,
  ///         ParseError when the loader refuses the archive
  static std::unique_ptr<Model> load(std::string_view recipe, const ModelArchive& archive);
  /// Whether `recipe` is registered with a loader: whether its models can be saved (a store
  /// refuses to save a version it could not load back).
  static bool has_loader(std::string_view recipe);
  /// The registered names, built-ins first, then in the order they were added.
  static std::vector<std::string> names();
  /// One line per hyperparameter of a recipe: name, type, default, range, description.
  /// @throws tailor::Error(NotFound) for an unknown recipe
  static std::string describe(std::string_view name);
  /// The recipe offline metrics are compared against: popularity-count with its defaults
  /// (Personalize's baseline).
  static std::unique_ptr<Recipe> baseline();
};

}  // namespace tailor
