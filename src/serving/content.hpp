// SPDX-License-Identifier: MIT
// What a campaign knows of item content: ages (CREATION_TIMESTAMP), exposure, metadata factors
// for items the model has not trained on, TF-IDF vectors for similar items of new items, and the
// exploration of new items.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "tailor/data/dataset_group.hpp"
#include "tailor/recipes/item_features.hpp"
#include "tailor/recipes/model.hpp"
#include "tailor/types.hpp"

namespace tailor::detail {

// Built under the group's read lock for one served model; immutable afterwards.
struct ContentIndex {
  Index catalog = 0;
  // "Now" for item ages: the newest interaction in the group (the newest creation time in a group
  // without interactions), so that ages mean the same in a replayed or imported data set as in a
  // live one (where it is the last event). Items created after it are of age 0.
  std::int64_t now = 0;
  // Items with a CREATION_TIMESTAMP (not deleted), newest first, and their creation times.
  std::vector<Index> by_age;
  std::vector<std::int64_t> created;        // parallel to by_age
  std::vector<std::uint32_t> interactions;  // per item: interaction rows (its exposure)
  std::vector<float> age_days;              // per item: days since creation (0 without one)
  // Vectors from metadata (AttributeMapping::project) of new items and of items past the model,
  // when the model's ItemVectorSpace has an attribute mapping: mapped_row[item] is the row in
  // `mapped` or kNoIndex.
  std::vector<Index> mapped_row;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> mapped;
  std::vector<Index> past_model;  // items past the model's rows that have mapped factors
  // TF-IDF vectors fitted on the group's items (similar items of new items), or null.
  std::shared_ptr<const ItemFeatureTable> tfidf;
  bool tfidf_built = false;  // tfidf was asked for (it may still be null: no usable metadata)

  // The recency penalty ln 2 · age / half-life of each item (ServingSettings::recency_half_life),
  // subtracted from scores; items past `age_days` get none.
  void penalise(float* scores, std::size_t n, float half_life) const {
    const float per_day = 0.69314718f / half_life;
    for (std::size_t i = 0; i < n && i < age_days.size(); ++i) scores[i] -= per_day * age_days[i];
  }
  float penalty(Index item, float half_life) const {
    return item < age_days.size() ? 0.69314718f / half_life * age_days[item] : 0.0f;
  }

  const float* mapped_factors(Index item) const {
    return item < mapped_row.size() && mapped_row[item] != kNoIndex
               ? mapped.row(mapped_row[item]).data()
               : nullptr;
  }
};

// v·u, both of n floats: an item's score from its vector and the user's (ItemVectorSpace).
inline float dot(const float* v, const float* u, std::size_t n) {
  const auto size = static_cast<Eigen::Index>(n);
  return Eigen::Map<const Eigen::VectorXf>(v, size).dot(Eigen::Map<const Eigen::VectorXf>(u, size));
}

// Interactions at which an item's similar items weigh co-occurrence and metadata equally (items
// with fewer get content_neighbors()), and at which a new item is no longer explored.
inline constexpr std::uint32_t kContentSettle = 10;

// An item is new, a candidate of exploration, when it was created less than the cut-off
// (in days) before `now`.
inline constexpr double kSecondsPerDay = 86400.0;

// Builds the index; `model` is the served one (the attribute mapping of its ItemVectorSpace, when
// it has one, gives vectors to the new items and to items put after training). `age_cut_off_days`
// bounds which items get mapped vectors for exploration; `with_tfidf` builds `tfidf` (similar
// items).
std::shared_ptr<const ContentIndex> build_content_index(const DatasetGroup& g, const Model& model,
                                                        double age_cut_off_days,
                                                        bool with_tfidf = true);

// Slots of a request of k results that exploration may fill: round(weight × k), at most k.
std::size_t exploration_slots(double weight, std::size_t k);

// A seed fixed by the user and the recommendation id: the same pair explores the same items.
std::uint64_t exploration_seed(std::string_view user_id, std::string_view recommendation_id);

// Up to `count` new items (younger than `age_cut_off_days`, fewer than kContentSettle
// interactions) that `accept` allows, best first:
// ranked by their metadata score u·v (v = factors_of(item): Wᵀf for new items, the model's
// factors otherwise; standardised over the candidates; 0 without a user vector) plus an exposure
// bonus 1/√(1 + interactions) that shrinks as the item is shown and read, plus a small seeded
// jitter (at most 0.25) so that repeated requests explore different items. The scores returned are
// the metadata scores u·v.
std::vector<ScoredItem> explore(const ContentIndex& index, const float* user, int factors,
                                double age_cut_off_days, std::size_t count, std::uint64_t seed,
                                const std::function<bool(Index)>& accept,
                                const std::function<const float*(Index)>& factors_of);

// Similar items of `item` by the cosine of TF-IDF metadata vectors, blended with co-occurrence
// as interactions arrive: score = m · cosine + (1 − m) · co-occurrence / max co-occurrence,
// m = 10 / (10 + the item's interactions). `co` is the item's co-occurring items (any order).
std::vector<ScoredItem> content_neighbors(const ContentIndex& index, Index item,
                                          const std::vector<ScoredItem>& co, std::size_t k);

}  // namespace tailor::detail
