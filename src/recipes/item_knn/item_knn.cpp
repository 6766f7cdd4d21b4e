// SPDX-License-Identifier: MIT
// sims recipe: weighting, training and serving of item-kNN.
#include "tailor/recipes/item_knn.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "detail/topk.hpp"
#include "recipes/item_knn/item_knn_kernels.hpp"
#include "recipes/params.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

const std::vector<detail::ParamField<ItemKnnParams>>& knn_fields() {
  static const std::vector<detail::ParamField<ItemKnnParams>> fields = {
      {"neighbors", &ItemKnnParams::neighbors, 1, 10000, {}, "neighbours kept per item"},
      {"similarity",
       detail::enum_member<&ItemKnnParams::similarity>(),
       0,
       0,
       {"cosine", "bm25", "tfidf"},
       "co-occurrence weighting"},
      {"popularity_discount_factor",
       &ItemKnnParams::popularity_discount_factor,
       0,
       1,
       {},
       "exponent on the neighbour's popularity in the denominator (0.5: cosine)"},
      {"min_cointeraction_count",
       &ItemKnnParams::min_cointeraction_count,
       0,
       1000000,
       {},
       "minimum users shared by an item pair"},
      {"max_user_history_length_percentile",
       &ItemKnnParams::max_user_history_length_percentile,
       0,
       1,
       {},
       "users with longer histories than this percentile are left out"},
      {"bm25_k1", &ItemKnnParams::bm25_k1, 0, 100, {}, "BM25 k1"},
      {"bm25_b", &ItemKnnParams::bm25_b, 0, 1, {}, "BM25 b"},
  };
  return fields;
}

struct WeightedMatrices {
  std::vector<std::size_t> item_offsets, user_offsets;
  std::vector<Index> item_users, user_items;
  std::vector<float> item_values, user_values;
};

// The item→user matrix and its transpose, without over-long histories, weighted as configured.
WeightedMatrices weigh(const TrainingData& d, const ItemKnnParams& p) {
  // History length cut-off.
  std::vector<std::size_t> lengths(d.num_users);
  for (Index u = 0; u < d.num_users; ++u) lengths[u] = d.user_offsets[u + 1] - d.user_offsets[u];
  std::size_t cutoff = std::numeric_limits<std::size_t>::max();
  if (p.max_user_history_length_percentile < 1.0f && d.num_users > 0) {
    std::vector<std::size_t> sorted;
    for (std::size_t n : lengths) {
      if (n > 0) sorted.push_back(n);
    }
    if (!sorted.empty()) {
      std::sort(sorted.begin(), sorted.end());
      auto rank = static_cast<std::size_t>(
          std::ceil(p.max_user_history_length_percentile * static_cast<double>(sorted.size())));
      cutoff = sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
    }
  }
  auto kept = [&](Index u) { return lengths[u] <= cutoff; };

  // Per-item length (sum of values) and per-user idf over kept users.
  std::vector<double> item_length(d.num_items, 0.0);
  for (Index i = 0; i < d.num_items; ++i) {
    for (std::size_t e = d.item_offsets[i]; e < d.item_offsets[i + 1]; ++e) {
      if (kept(d.item_users[e])) item_length[i] += d.item_values[e];
    }
  }
  double mean_length = 0;
  for (double l : item_length) mean_length += l;
  mean_length /= std::max<double>(1.0, static_cast<double>(d.num_items));
  const double n_items = static_cast<double>(d.num_items);
  auto weight = [&](Index i, Index u, float value) -> float {
    if (p.similarity == ItemSimilarity::Cosine) return 1.0f;
    const double idf = std::log(n_items) - std::log1p(static_cast<double>(lengths[u]));
    if (p.similarity == ItemSimilarity::Tfidf) return static_cast<float>(std::sqrt(value) * idf);
    const double norm = (1.0 - p.bm25_b) + p.bm25_b * item_length[i] / std::max(mean_length, 1e-12);
    return static_cast<float>(value * (p.bm25_k1 + 1.0) / (p.bm25_k1 * norm + value) * idf);
  };

  WeightedMatrices m;
  m.item_offsets.assign(static_cast<std::size_t>(d.num_items) + 1, 0);
  for (Index i = 0; i < d.num_items; ++i) {
    for (std::size_t e = d.item_offsets[i]; e < d.item_offsets[i + 1]; ++e) {
      const Index u = d.item_users[e];
      if (!kept(u)) continue;
      m.item_users.push_back(u);
      m.item_values.push_back(weight(i, u, d.item_values[e]));
    }
    m.item_offsets[i + 1] = m.item_users.size();
  }
  m.user_offsets.assign(static_cast<std::size_t>(d.num_users) + 1, 0);
  for (Index u = 0; u < d.num_users; ++u) {
    if (kept(u)) {
      for (std::size_t e = d.user_offsets[u]; e < d.user_offsets[u + 1]; ++e) {
        m.user_items.push_back(d.user_items[e]);
        m.user_values.push_back(weight(d.user_items[e], u, d.user_values[e]));
      }
    }
    m.user_offsets[u + 1] = m.user_items.size();
  }
  return m;
}

}  // namespace

ItemKnnParams ItemKnnParams::from_json(std::string_view json) {
  return detail::params_from_json(json, knn_fields(), "sims");
}
std::string ItemKnnParams::to_json() const { return detail::params_to_json(*this, knn_fields()); }
void ItemKnnParams::validate() const { detail::validate_params(*this, knn_fields(), "sims"); }
std::string ItemKnnParams::describe() { return detail::describe_params(knn_fields()); }

ItemKnnModel::ItemKnnModel(std::string recipe, std::vector<std::size_t> offsets,
                           std::vector<Index> neighbors, std::vector<float> similarities,
                           std::vector<float> popularity)
    : recipe_(std::move(recipe)),
      offsets_(std::move(offsets)),
      neighbors_(std::move(neighbors)),
      similarities_(std::move(similarities)),
      popularity_(std::move(popularity)),
      popular_order_(popularity_.size()) {
  TAILOR_THROW_IF(offsets_.size() != popularity_.size() + 1 ||
                      neighbors_.size() != similarities_.size() ||
                      offsets_.back() != neighbors_.size(),
                  ErrorCode::InvalidArgument, "inconsistent item-kNN model arrays");
  std::iota(popular_order_.begin(), popular_order_.end(), 0u);
  std::stable_sort(popular_order_.begin(), popular_order_.end(),
                   [&](Index a, Index b) { return popularity_[a] > popularity_[b]; });
  for (Index i = 0; i < num_items(); ++i) {
    if (popularity_[i] == -std::numeric_limits<float>::infinity()) removed_.push_back(i);
  }
  // Sorted last, so the removed items are the tail of the order.
  popular_order_.resize(popular_order_.size() - removed_.size());
}

void ItemKnnModel::save(ModelArchive& archive) const {
  archive.put_integers("offsets", std::vector<std::uint64_t>(offsets_.begin(), offsets_.end()));
  archive.put_indices("neighbors", neighbors_);
  archive.put_floats("similarities", similarities_);
  archive.put_floats("scores", popularity_);
}

std::unique_ptr<ItemKnnModel> ItemKnnModel::load(std::string recipe, const ModelArchive& archive) {
  const std::vector<std::uint64_t>& offsets = archive.integers("offsets");
  const std::vector<Index>& neighbors = archive.indices("neighbors");
  const std::vector<float>& popularity = archive.floats("scores");
  for (Index n : neighbors) {
    TAILOR_THROW_IF(n >= popularity.size(), ErrorCode::ParseError,
                    "item-kNN model: a neighbour outside the catalog");
  }
  for (std::size_t k = 1; k < offsets.size(); ++k) {
    TAILOR_THROW_IF(offsets[k] < offsets[k - 1], ErrorCode::ParseError,
                    "item-kNN model: bad neighbour offsets");
  }
  try {
    return std::make_unique<ItemKnnModel>(std::move(recipe),
                                          std::vector<std::size_t>(offsets.begin(), offsets.end()),
                                          neighbors, archive.floats("similarities"), popularity);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::ParseError) throw;
    TAILOR_THROW(ErrorCode::ParseError, "item-kNN model: ", e.what());
  }
}

std::shared_ptr<const Model> ItemKnnModel::without(Span<Index>, Span<Index> items) const {
  std::vector<float> popularity = popularity_;
  for (Index i : items) {
    if (i < num_items()) popularity[i] = -std::numeric_limits<float>::infinity();
  }
  auto removed = [&](Index i) { return popularity[i] == -std::numeric_limits<float>::infinity(); };
  std::vector<std::size_t> offsets{0};
  std::vector<Index> neighbors;
  std::vector<float> similarities;
  for (Index i = 0; i < num_items(); ++i) {
    if (!removed(i)) {
      for (std::size_t e = offsets_[i]; e < offsets_[i + 1]; ++e) {
        if (removed(neighbors_[e])) continue;
        neighbors.push_back(neighbors_[e]);
        similarities.push_back(similarities_[e]);
      }
    }
    offsets.push_back(neighbors.size());
  }
  return std::make_shared<ItemKnnModel>(recipe_, std::move(offsets), std::move(neighbors),
                                        std::move(similarities), std::move(popularity));
}

Span<Index> ItemKnnModel::neighbors(Index item) const {
  return Span<Index>(neighbors_.data() + offsets_[item], offsets_[item + 1] - offsets_[item]);
}
Span<float> ItemKnnModel::similarities(Index item) const {
  return Span<float>(similarities_.data() + offsets_[item], offsets_[item + 1] - offsets_[item]);
}

void ItemKnnModel::score_all(const UserQuery& query, std::vector<float>& scores) const {
  scores.assign(popularity_.size(), 0.0f);
  for (std::size_t k = 0; k < query.history.size(); ++k) {
    const Index h = query.history[k];
    if (h >= num_items()) continue;
    const float w = query.weights.empty() ? 1.0f : query.weights[k];
    Span<Index> n = neighbors(h);
    Span<float> s = similarities(h);
    for (std::size_t j = 0; j < n.size(); ++j) scores[n[j]] += w * s[j];
  }
  for (Index i : removed_) scores[i] = -std::numeric_limits<float>::infinity();
}

void ItemKnnModel::back_fill(std::size_t k, const ItemMask& mask, Index self,
                             std::vector<ScoredItem>& out) const {
  if (out.size() >= k) return;
  std::vector<Index> taken;
  for (const ScoredItem& s : out) taken.push_back(s.item);
  for (Index e : mask.excluded) taken.push_back(e);
  std::sort(taken.begin(), taken.end());
  for (Index item : popular_order_) {
    if (out.size() >= k) break;
    if (item == self || std::binary_search(taken.begin(), taken.end(), item)) continue;
    if (mask.allowed && (item >= mask.allowed->size() || !mask.allowed->test(item))) continue;
    out.push_back({item, 0.0f});
  }
}

void ItemKnnModel::recommend(const UserQuery& query, std::size_t k, const ItemMask& mask,
                             std::vector<ScoredItem>& out) const {
  std::vector<float> scores;
  score_all(query, scores);
  // Items no history item points to score 0: leave them to the popularity back-fill.
  for (float& s : scores) {
    if (s <= 0.0f) s = -std::numeric_limits<float>::infinity();
  }
  select_top_k(scores, k, mask, out);
  back_fill(k, mask, kNoIndex, out);
}

void ItemKnnModel::similar_items(Index item, std::size_t k, const ItemMask& mask,
                                 std::vector<ScoredItem>& out) const {
  out.clear();
  if (item < num_items()) {
    std::vector<Index> excluded(mask.excluded.begin(), mask.excluded.end());
    std::sort(excluded.begin(), excluded.end());
    Span<Index> n = neighbors(item);
    Span<float> s = similarities(item);
    for (std::size_t j = 0; j < n.size() && out.size() < k; ++j) {
      if (mask.allowed && (n[j] >= mask.allowed->size() || !mask.allowed->test(n[j]))) continue;
      if (std::binary_search(excluded.begin(), excluded.end(), n[j])) continue;
      out.push_back({n[j], s[j]});
    }
  }
  back_fill(k, mask, item, out);
}

ItemKnnRecipe::ItemKnnRecipe(ItemKnnParams params) : params_(std::move(params)) {
  params_.validate();
}

std::unique_ptr<Model> ItemKnnRecipe::train(const TrainingData& data,
                                            const TrainContext& context) const {
  const auto start = std::chrono::steady_clock::now();
  WeightedMatrices m = weigh(data, params_);
  detail::KnnKernelArgs args;
  args.neighbors = params_.neighbors;
  args.popularity_discount = params_.popularity_discount_factor;
  args.min_cointeractions = params_.min_cointeraction_count;
  args.threads = context.execution.num_threads;
  detail::NeighborLists lists = detail::item_neighbors(
      {m.item_offsets.data(), m.item_users.data(), m.item_values.data(), data.num_items},
      {m.user_offsets.data(), m.user_items.data(), m.user_values.data(), data.num_users}, args);
  std::vector<float> popularity(data.num_items);
  for (Index i = 0; i < data.num_items; ++i) {
    popularity[i] = static_cast<float>(data.item_offsets[i + 1] - data.item_offsets[i]);
  }
  if (context.progress) {
    TrainingProgress p;
    p.stage = "item-knn";
    p.iteration = p.total = 1;
    p.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    context.progress(p);
  }
  return std::make_unique<ItemKnnModel>(name_, std::move(lists.offsets), std::move(lists.items),
                                        std::move(lists.similarities), std::move(popularity));
}

}  // namespace tailor
