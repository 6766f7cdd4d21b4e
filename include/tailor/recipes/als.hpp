// SPDX-License-Identifier: MIT
// user-personalization: implicit-feedback ALS (Hu, Koren, Volinsky 2008).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/recipes/item_features.hpp"
#include "tailor/recipes/recipe.hpp"

namespace tailor {

/// How ALS solves each row's least-squares system. In JSON: "cg" and "cholesky".
enum class AlsSolver {
  ConjugateGradient,  ///< warm-started conjugate gradient, AlsParams::cg_steps steps (fast)
  Cholesky,           ///< an exact solve (slow; for checking)
};

/// Hyperparameters of the user-personalization recipe.
struct TAILOR_EXPORT AlsParams {
  int factors = 64;              ///< latent dimensions
  float regularization = 0.05f;  ///< λ, added to the diagonal of every normal equation
  float alpha = 1.0f;            ///< confidence = 1 + alpha · value
  int iterations = 15;           ///< full sweeps (users, then items)
  int cg_steps = 3;              ///< conjugate-gradient steps per row per sweep
  AlsSolver solver = AlsSolver::ConjugateGradient;  ///< JSON "cg" or "cholesky"
  float init_scale = 0.01f;                         ///< initial factors ~ N(0, init_scale²)
  bool compute_loss = false;  ///< compute the loss every sweep (reported through progress)
  /// Learn the attribute-to-feature mapping from item metadata (item_features.hpp) after the
  /// fit, so that items without interactions get factors from their metadata.
  bool item_metadata = true;
  float metadata_regularization = 1.0f;  ///< λ of that mapping's ridge regression
  /// Share of a request's slots (at most round(weight × numResults)) given to exploring new
  /// items, as Personalize's explorationWeight; requests may override it.
  float exploration_weight = 0.3f;
  /// Items younger than this many days (CREATION_TIMESTAMP) may be explored, as Personalize's
  /// explorationItemAgeCutOff; requests may override it.
  float exploration_item_age_cut_off = 30.0f;
  /// When > 0, recommendations and rankings lower an item's score by ln 2 per this many days of
  /// age (CREATION_TIMESTAMP), so that its softmax share halves every half-life; 0 (the
  /// default) leaves scores alone.
  float recency_half_life = 0.0f;

  /// Parses a JSON object over the defaults. @throws tailor::Error(InvalidArgument)
  static AlsParams from_json(std::string_view json);
  std::string to_json() const;
  /// @throws tailor::Error(InvalidArgument) listing every out-of-range field
  void validate() const;
  /// One line per field: name, default, range, description.
  static std::string describe();
};

/// Row-major float32 factor matrix: one contiguous row per user or item.
using FactorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A trained ALS model: user and item factors; scores are dot products.
///
/// Thread safety: immutable; every const member is safe to call concurrently.
class TAILOR_EXPORT AlsModel : public Model, private BlockScorer, private ItemVectorSpace {
 public:
  /// `removed_items`: items deleted since training (see without()), which score -infinity.
  /// `metadata`: the attribute-to-feature mapping learnt with the factors, or null.
  AlsModel(std::string recipe, AlsParams params, FactorMatrix users, FactorMatrix items,
           std::vector<Index> removed_items = {},
           std::shared_ptr<const AttributeMapping> metadata = nullptr);
  ~AlsModel() override;
  /// The model save() wrote, as trained by `recipe`.
  /// @throws tailor::Error(ParseError) when the archive's sections do not fit together
  static std::unique_ptr<AlsModel> load(std::string recipe, const ModelArchive& archive);

  const std::string& recipe() const override;
  Index num_items() const override;
  Index num_users() const override;
  bool personalized() const override { return true; }
  ScoreKind score_kind() const override { return ScoreKind::Softmax; }
  /// Scores blocks of user vectors against panels of the item factors.
  const BlockScorer* block_scorer() const override { return this; }
  /// The params' recency_half_life, exploration_weight and exploration_item_age_cut_off.
  ServingSettings serving_settings() const override;
  /// Its factors: user_vector() and item_factors() rows, and metadata() as the mapping.
  const ItemVectorSpace* item_vectors() const override { return this; }
  void score_all(const UserQuery& query, std::vector<float>& scores) const override;
  void score(const UserQuery& query, Span<Index> items, std::vector<float>& scores) const override;
  /// Holds the user's vector (user_vector()). Its approximate_scores() read a bfloat16 copy of
  /// the item factors (half the bytes of float32); item i's score is within ‖u‖·r_i, r_i about
  /// the norm of its factors' rounding residual (under 2^−8·‖y_i‖).
  std::unique_ptr<UserScorer> scorer(const UserQuery& query) const override;

  /// Hu, Koren & Volinsky (2008) §5: the score of item i for a user solved from their history
  /// is Σ_j s_ij c_j over the history items j, with s_ij = y_iᵀ W y_j, W the inverse of the user's
  /// regularised, confidence-weighted Gram matrix YᵀY + Yᵀ(C − I)Y + λI and c_j = 1 + α·value.
  /// Each history item's term is its contribution; they sum to the score of fold_in(history).
  void explain(const UserQuery& query, Span<Index> items, std::size_t k,
               std::vector<std::vector<ScoredItem>>& out) const override;
  /// The factor vector a request uses: the trained one, or one folded in from the history for an
  /// unknown user or a refresh (zero for an empty history).
  Eigen::VectorXf user_vector(const UserQuery& query) const;
  /// Solves one user's factors from their history with the item factors fixed (one f×f solve).
  Eigen::VectorXf fold_in(Span<Index> history, Span<float> weights) const;

  /// Scores of a block of users for items [first, first + count): row j of `out` (stride
  /// `out_stride` ≥ count rounded up to a multiple of 16) gets the scores of the user whose factors
  /// are row j of `users` (row-major, users_count × factors). `first` must be a multiple of 16;
  /// the entries of a row past `count` are scratch. Batch scoring: one pass over the item
  /// factors serves many users.
  void score_block(const float* users, std::size_t users_count, Index first, Index count,
                   float* out, std::size_t out_stride) const override;
  /// Exact scores of `items` for the user whose factors are `user`, equal to score_block()'s.
  void score_items(const float* user, Span<Index> items, float* out) const override;
  /// Batch jobs' approximate scores, where the CPU has fast 8-bit dot products
  /// (detail::batch_int8): an 8-bit copy of the item factors (int8_scan.hpp), made on first use,
  /// and the user quantised to the bytes the target's kernel takes ([−127, 127], or [−64, 64] on
  /// AVX2); item i's score is within S·r_i of score_block()'s (S about ‖u‖,
  /// r_i about the norm of its factors' rounding residual).
  std::size_t approximate_state_size() const override;
  ScoreBound approximate_state(const float* user, float* approximate) const override;
  void approximate_block(const float* approximate_states, std::size_t users_count, Index first,
                         Index count, float* out, std::size_t out_stride) const override;
  /// The live items by decreasing norm of their factors, with that order's 8-bit copy (made on
  /// first use, where approximate_state_size() is not 0; null elsewhere): batch jobs stop
  /// scanning a user once ‖u‖ times the longest factor vector left is below the user's top k.
  const detail::OrderedCatalog* ordered_catalog() const override;
  /// Zeroes the users' and items' factors (and every copy derived from the item factors) and
  /// marks the items removed.
  std::shared_ptr<const Model> without(Span<Index> users, Span<Index> items) const override;
  /// Sections: "params" (JSON), "shape" (users, items, factors), "user_factors" and
  /// "item_factors" (row-major), "removed_items", and "metadata.*" (AttributeMapping::save) when
  /// the model has a metadata mapping (versions saved without one load without one).
  void save(ModelArchive& archive) const override;

  const AlsParams& params() const;
  const FactorMatrix& user_factors() const;
  const FactorMatrix& item_factors() const;
  /// Items deleted since training, ascending: their factors are zero and they score -infinity.
  const std::vector<Index>& removed_items() const;
  /// The mapping from item metadata to factors (null when trained without metadata): serving
  /// gives an item put after training the factors metadata().project(features).
  const std::shared_ptr<const AttributeMapping>& metadata() const;

 private:
  struct Impl;   // the factors and the copies serving derives from them
  class Scorer;  // scorer()'s, defined with the model
  // BlockScorer: a user's state is their factor vector (user_vector()).
  std::size_t state_size() const override;
  void user_state(const UserQuery& query, float* state) const override;
  Index chunk_alignment() const override;
  // ItemVectorSpace: the factors.
  std::size_t dimensions() const override;
  const float* item_vector(Index item) const override;
  void user_vector(const UserQuery& query, float* out) const override;
  const AttributeMapping* attribute_mapping() const override;

  std::unique_ptr<const Impl> impl_;
};

/// The user-personalization recipe.
class TAILOR_EXPORT AlsRecipe : public Recipe {
 public:
  explicit AlsRecipe(AlsParams params = {}, std::string name = "user-personalization");
  const std::string& name() const override { return name_; }
  std::string params_json() const override { return params_.to_json(); }
  /// Default search ranges (src/recipes/hpo_ranges.cpp).
  std::string hpo_ranges_json() const override;
  std::unique_ptr<Model> train(const TrainingData& data,
                               const TrainContext& context) const override;
  bool supports_update() const override { return true; }
  std::unique_ptr<Model> update(const Model& previous, const TrainingData& data,
                                const TrainContext& context) const override;
  const AlsParams& params() const { return params_; }

 protected:
  /// The attribute-to-factor mapping learnt from trained item factors (null without item
  /// metadata, or when item_metadata is off); items with features but no interactions get their
  /// projected factors in `items`. Every trainer of the recipe (the distributed one too) calls it
  /// after its fit.
  std::shared_ptr<const AttributeMapping> map_metadata(const TrainingData& data,
                                                       FactorMatrix& items) const;

 private:
  AlsParams params_;
  std::string name_;
};

}  // namespace tailor
