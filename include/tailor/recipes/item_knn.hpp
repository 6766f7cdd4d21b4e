// SPDX-License-Identifier: MIT
// sims: item-to-item similarity from co-occurrence in user histories (item-kNN).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/recipes/recipe.hpp"

namespace tailor {

/// How item-kNN weighs a user's interaction in co-occurrence counts. In JSON: "cosine", "bm25"
/// and "tfidf".
enum class ItemSimilarity {
  Cosine,  ///< binary co-occurrence
  Bm25,    ///< BM25 weighting (bm25_k1, bm25_b)
  Tfidf,   ///< TF-IDF weighting
};

/// Hyperparameters of the sims recipe.
struct TAILOR_EXPORT ItemKnnParams {
  int neighbors = 100;                                 ///< neighbours kept per item
  ItemSimilarity similarity = ItemSimilarity::Cosine;  ///< JSON "cosine", "bm25" or "tfidf"
  /// Exponent d on the candidate's popularity: sim(i, j) = C_ij / (|i|^½ · |j|^d) for cosine
  /// (d = ½ is plain cosine; larger d favours less popular neighbours).
  float popularity_discount_factor = 0.5f;
  int min_cointeraction_count = 3;  ///< pairs seen together by fewer users are not neighbours
  /// Users whose history is longer than this percentile of history lengths are left out of the
  /// co-occurrence counts (they co-occur with everything). 1 keeps every user.
  float max_user_history_length_percentile = 0.995f;
  float bm25_k1 = 1.2f;  ///< BM25 term saturation
  float bm25_b = 0.75f;  ///< BM25 length normalisation

  static ItemKnnParams from_json(std::string_view json);
  std::string to_json() const;
  void validate() const;
  static std::string describe();
};

/// A trained item-kNN model: the top neighbours of each item, and item popularity for fallback.
/// An item whose popularity is -infinity was removed (see without()): it has no neighbours, is
/// nobody's neighbour, scores -infinity and is never back-filled.
///
/// Thread safety: immutable; every const member is safe to call concurrently.
class TAILOR_EXPORT ItemKnnModel : public Model {
 public:
  ItemKnnModel(std::string recipe, std::vector<std::size_t> offsets, std::vector<Index> neighbors,
               std::vector<float> similarities, std::vector<float> popularity);

  const std::string& recipe() const override { return recipe_; }
  Index num_items() const override { return static_cast<Index>(popularity_.size()); }
  Index num_users() const override { return 0; }
  bool personalized() const override { return true; }
  /// Σ over the history of sim(history item, candidate); zero for items with no neighbour in it.
  void score_all(const UserQuery& query, std::vector<float>& scores) const override;
  /// Neighbour-sum ranking, back-filled with popular items (score 0) when it runs short.
  void recommend(const UserQuery& query, std::size_t k, const ItemMask& mask,
                 std::vector<ScoredItem>& out) const override;
  /// An item's score is Σ_h w_h · sim(h, item) over the history items h it is a neighbour of:
  /// those terms, largest first.
  void explain(const UserQuery& query, Span<Index> items, std::size_t k,
               std::vector<std::vector<ScoredItem>>& out) const override;
  bool has_similar_items() const override { return true; }
  /// The item's neighbours, back-filled with popular items for an unknown or sparse item.
  void similar_items(Index item, std::size_t k, const ItemMask& mask,
                     std::vector<ScoredItem>& out) const override;
  /// Drops the items' neighbour lists, removes them from every other list and sets their
  /// popularity to -infinity. The model holds nothing per user, so `users` changes nothing.
  std::shared_ptr<const Model> without(Span<Index> users, Span<Index> items) const override;
  /// Sections: "offsets", "neighbors", "similarities" (the neighbour lists, CSR) and "scores"
  /// (the popularity).
  void save(ModelArchive& archive) const override;
  /// The model save() wrote, as trained by `recipe`.
  /// @throws tailor::Error(ParseError) when the archive's sections do not fit together
  static std::unique_ptr<ItemKnnModel> load(std::string recipe, const ModelArchive& archive);

  /// Neighbours of `item`, best first.
  Span<Index> neighbors(Index item) const;
  Span<float> similarities(Index item) const;
  /// Distinct users per item at training time (the fallback ranking).
  const std::vector<float>& popularity() const { return popularity_; }

 private:
  void back_fill(std::size_t k, const ItemMask& mask, Index self,
                 std::vector<ScoredItem>& out) const;
  std::string recipe_;
  std::vector<std::size_t> offsets_;
  std::vector<Index> neighbors_;
  std::vector<float> similarities_;
  std::vector<float> popularity_;
  std::vector<Index> popular_order_;  // removed items left out
  std::vector<Index> removed_;        // ascending
};

/// The sims recipe.
class TAILOR_EXPORT ItemKnnRecipe : public Recipe {
 public:
  explicit ItemKnnRecipe(ItemKnnParams params = {});
  const std::string& name() const override { return name_; }
  std::string params_json() const override { return params_.to_json(); }
  /// Default search ranges (src/recipes/hpo_ranges.cpp).
  std::string hpo_ranges_json() const override;
  std::unique_ptr<Model> train(const TrainingData& data,
                               const TrainContext& context) const override;

 private:
  ItemKnnParams params_;
  std::string name_ = "sims";
};

}  // namespace tailor
