// SPDX-License-Identifier: MIT
// Cold-item evaluation: how well a solution recommends items it has never seen interactions of,
// from their metadata alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tailor/data/dataset_group.hpp"
#include "tailor/export.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor {

/// How the cold-item split is made.
struct ColdItemOptions {
  /// Share of the items (those with interactions) held out with all their interactions.
  double cold_share = 0.1;
  /// Hold out a seeded random share instead of the newest items by CREATION_TIMESTAMP (forced
  /// when the items have no CREATION_TIMESTAMP).
  bool random_items = false;
  /// Exploration weights of the whole-catalogue lists.
  std::vector<double> exploration_weights = {0.0, 0.3, 1.0};
  /// The categorical items field whose shared values make two items alike in the similar-items
  /// check (e.g. GENRES); empty: the first categorical field.
  std::string genre_field;
  /// Random orders averaged for the random baseline of cold ranking.
  int random_orders = 20;
  ExecutionOptions execution;  ///< threads; the seed picks random items and orders
};

/// Whole-catalogue lists (top 25 of the trained model, exploration filling its share with the
/// held-out items, which are the new ones) at one exploration weight.
struct ColdCatalogueRow {
  double exploration_weight = 0;
  double ndcg_at_10 = 0;      ///< of the user's held-out items
  double recall_at_25 = 0;    ///< held-out items of the user in the list / all of them
  double new_item_share = 0;  ///< share of held-out items in the top-25 lists
};

/// The cold-item evaluation's figures.
struct TAILOR_EXPORT ColdItemReport {
  std::size_t cold_items = 0;
  std::size_t test_users = 0;  ///< users with held-out interactions and training interactions
  /// (a) Ranking only the held-out items by the model's scores (metadata mapping) and by a random
  /// order (mean of ColdItemOptions::random_orders).
  double cold_ndcg_at_10 = 0, cold_recall_at_25 = 0;
  double random_ndcg_at_10 = 0, random_recall_at_25 = 0;
  /// (b) Whole-catalogue lists, one row per exploration weight.
  std::vector<ColdCatalogueRow> catalogue;
  /// Similar items (10, TF-IDF metadata) of each held-out item: share sharing a value of the
  /// genre field with it, against the share among all other items.
  std::string genre_field;
  double similar_genre_share = 0, random_genre_share = 0;
  /// NDCG@10 on the usual split (Solution::train's metrics), with and without item metadata.
  double usual_ndcg_at_10_metadata = 0, usual_ndcg_at_10_plain = 0;
  /// A human-readable table.
  std::string to_text() const;
  std::string to_json() const;
};

/// Runs the cold-item evaluation on `group` of a solution whose model maps item metadata into its
/// item vectors (Model::item_vectors() with an attribute mapping, as user-personalization's):
/// holds out the newest cold_share of items (by CREATION_TIMESTAMP, or a seeded random share)
/// with all their interactions, trains on the rest with every item's metadata, and scores the
/// users who had held-out interactions. See ColdItemReport for the figures.
/// @throws tailor::Error(InvalidArgument) when the group has no items metadata, the solution's
///         model maps no item metadata, or nothing is left to evaluate
TAILOR_EXPORT ColdItemReport evaluate_cold_items(const DatasetGroup& group,
                                                 const SolutionConfig& config,
                                                 const ColdItemOptions& options = {});

}  // namespace tailor
