// SPDX-License-Identifier: MIT
// Item metadata as features (categorical values, numeric buckets, words of textual fields, TF-IDF
// weighted) and the attribute-to-feature mapping that gives an item without interactions a factor
// vector from its features (Gantner, Drumond, Freudenthaler, Rendle, Schmidt-Thieme, "Learning
// Attribute-to-Feature Mappings for Cold-Start Recommendations", ICDM 2010).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tailor/data/entity_table.hpp"
#include "tailor/export.hpp"
#include "tailor/recipes/model_archive.hpp"
#include "tailor/types.hpp"

namespace tailor {

/// An item's features: ascending feature indices and their weights (TF-IDF, L2-normalised).
struct TAILOR_EXPORT SparseFeatures {
  std::vector<Index> indices;
  std::vector<float> values;
  bool empty() const { return indices.empty(); }
  /// Dot product of two sparse vectors (cosine similarity, both being L2-normalised).
  float dot(const SparseFeatures& other) const;
};

/// Lower-cased words of a text (runs of ASCII letters and digits; other bytes, UTF-8 included,
/// are kept inside words), without English stop words and one-character words.
TAILOR_EXPORT std::vector<std::string> tokenize(std::string_view text);
/// Whether a lower-cased word is one of the English stop words tokenize() drops.
TAILOR_EXPORT bool is_stop_word(std::string_view word);

/// How item features are made.
struct ItemFeatureOptions {
  /// The most features kept, by document frequency (how many items have them); the rest are
  /// dropped. It bounds the attribute mapping's dense features × features solve.
  std::size_t max_features = 1000;
  /// Features seen on fewer items are dropped (a feature on one item teaches the mapping nothing).
  std::size_t min_items = 2;
  /// Quantile buckets per numeric field.
  int numeric_buckets = 8;
};

/// Turns items' metadata into sparse features: one per categorical value (each value of a
/// multi-valued `a|b` field), one per quantile bucket of a numeric field, one per word of a
/// textual field. Every categorical, textual and numeric field of the items schema is used except
/// CREATION_TIMESTAMP (an item's age drives exploration, not its content). Weights are
/// tf × idf, idf = ln((1 + items) / (1 + items with the feature)) + 1, and each item's vector is
/// L2-normalised.
///
/// Thread safety: immutable after fit()/load(); const members are safe to call concurrently.
class TAILOR_EXPORT ItemFeaturizer {
 public:
  ItemFeaturizer() = default;
  /// The vocabulary, idf weights and bucket bounds of items [0, count) of `items` (those with a
  /// row).
  static ItemFeaturizer fit(const EntityTable& items, Index count,
                            const ItemFeatureOptions& options = {});
  /// An item's features (empty when it has no row or none of its values is in the vocabulary).
  SparseFeatures features(const EntityTable& items, Index item) const;
  /// Features of items [0, count) (empty for items without a row).
  std::vector<SparseFeatures> features_of_all(const EntityTable& items, Index count) const;

  /// Number of features.
  std::size_t size() const { return names_.size(); }
  bool empty() const { return names_.empty(); }
  /// A feature's name: "FIELD=value", "FIELD:word" or "FIELD#bucket".
  const std::string& name(std::size_t feature) const { return names_[feature]; }
  /// The feature of that name, or kNoIndex.
  Index find(const std::string& name) const;

  /// Writes sections "<prefix>fields", "<prefix>bound_bits" (the bounds' doubles, bit for bit;
  /// load() also reads float "<prefix>bounds"), "<prefix>bound_counts", "<prefix>names" and
  /// "<prefix>idf".
  void save(ModelArchive& archive, const std::string& prefix) const;
  /// @throws tailor::Error(ParseError) when the sections do not fit together
  static ItemFeaturizer load(const ModelArchive& archive, const std::string& prefix);

 private:
  enum class Kind : char { Categorical = 'C', Textual = 'T', Numeric = 'N' };
  struct FieldSpec {
    std::string name;
    Kind kind;
    std::vector<double> bounds;  // Numeric: ascending bucket bounds (bucket = values ≤ bound)
  };
  // Raw (feature name, count) pairs of an item's row, before the vocabulary.
  void raw_features(const EntityTable& items, std::uint32_t row,
                    std::unordered_map<std::string, float>& out) const;

  std::vector<FieldSpec> fields_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, Index> index_;
  std::vector<float> idf_;
};

/// The attribute-to-feature mapping (Gantner et al. 2010): a ridge regression W from an item's
/// features f to its ALS factors, fitted on the items that have interactions,
/// W = (FᵀF + λI)⁻¹ FᵀY. An item without interactions gets Wᵀf: the factors items with its
/// metadata have on average, so its score for a user follows the user's taste for that metadata.
///
/// Thread safety: immutable; const members are safe to call concurrently.
struct TAILOR_EXPORT AttributeMapping {
  ItemFeaturizer featurizer;
  /// features × factors, row-major.
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> weights;

  /// Fits W on the rows whose `fit_rows` flag is set: rows[i] are item i's features, factors row i
  /// its factors (λ ≥ 0 on the diagonal; λ = 0 needs FᵀF invertible).
  static AttributeMapping fit(
      ItemFeaturizer featurizer, const std::vector<SparseFeatures>& rows,
      const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& factors,
      const std::vector<char>& fit_rows, float lambda);
  /// Wᵀf, the factors of an item with features f.
  Eigen::VectorXf project(const SparseFeatures& f) const;
  /// Writes the featurizer and "<prefix>weights" (+ "<prefix>weights_shape").
  void save(ModelArchive& archive, const std::string& prefix) const;
  /// @throws tailor::Error(ParseError) when the sections do not fit together or W's width is not
  ///         `factors`
  static AttributeMapping load(const ModelArchive& archive, const std::string& prefix,
                               std::size_t factors);
};

/// Every item's features at one moment, for training: the featurizer fitted on the group's items
/// and each item's features.
struct TAILOR_EXPORT ItemFeatureTable {
  ItemFeaturizer featurizer;
  std::vector<SparseFeatures> rows;  ///< item index -> features (empty without metadata)
  /// The table of items [0, count) of `items`, or null when there is no items dataset or no
  /// item has a usable feature.
  static std::shared_ptr<const ItemFeatureTable> build(const EntityTable* items, Index count,
                                                       const ItemFeatureOptions& options = {});
};

}  // namespace tailor
