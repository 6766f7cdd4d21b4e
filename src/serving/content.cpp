// SPDX-License-Identifier: MIT
// Item content for serving: ages, exposure, metadata factors, exploration and similar items of
// new items.
#include "serving/content.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "detail/topk.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

namespace {

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Seconds from `created` to `now`, in double (any two int64 times, without overflow); an item
// created after "now" is of age 0.
double age_seconds(std::int64_t now, std::int64_t created) {
  return std::max(0.0, static_cast<double>(now) - static_cast<double>(created));
}

}  // namespace

std::shared_ptr<const ContentIndex> build_content_index(const DatasetGroup& g, const Model& model,
                                                        double age_cut_off_days, bool with_tfidf) {
  auto ci = std::make_shared<ContentIndex>();
  ci->catalog = g.item_ids().size();
  const Interactions& in = g.interactions();
  ci->interactions.assign(ci->catalog, 0);
  for (std::size_t r = 0; r < in.size(); ++r) {
    if (in.items()[r] < ci->catalog) ++ci->interactions[in.items()[r]];
    ci->now = std::max(ci->now, in.timestamps()[r]);
  }
  // Creation times set "now" only in a group without interactions: one item put with a creation
  // time years ahead would otherwise age every other item past the cut-off (and, with recency,
  // push them all below it).
  const bool now_from_creation = in.size() == 0;
  const EntityTable* items = g.items();
  if (!items) return ci;
  const Bitmap& deleted = g.deleted_items();
  auto is_deleted = [&](Index i) { return i < deleted.size() && deleted.test(i); };
  if (const Column* c = items->column("CREATION_TIMESTAMP"); c && c->field().is_integral()) {
    std::vector<std::pair<std::int64_t, Index>> aged;
    for (Index i = 0; i < ci->catalog; ++i) {
      const std::uint32_t row = items->row_of(i);
      if (row == EntityTable::kNoRow || c->is_null(row) || is_deleted(i)) continue;
      aged.emplace_back(c->int_at(row), i);
      if (now_from_creation) ci->now = std::max(ci->now, c->int_at(row));
    }
    // Newest first; ties by index, so that the order is the same on every build.
    std::sort(aged.begin(), aged.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    ci->age_days.assign(ci->catalog, 0.0f);
    for (const auto& [t, i] : aged) {
      ci->by_age.push_back(i);
      ci->created.push_back(t);
    }
    for (const auto& [t, i] : aged)
      ci->age_days[i] = static_cast<float>(age_seconds(ci->now, t) / kSecondsPerDay);
  }
  ci->tfidf_built = with_tfidf;
  if (with_tfidf) ci->tfidf = ItemFeatureTable::build(items, ci->catalog);

  const ItemVectorSpace* space = model.item_vectors();
  const AttributeMapping* mapping = space ? space->attribute_mapping() : nullptr;
  if (!mapping) return ci;
  TAILOR_THROW_IF(static_cast<std::size_t>(mapping->weights.cols()) != space->dimensions(),
                  ErrorCode::Internal, "recipe ", model.recipe(), ": its attribute mapping gives ",
                  mapping->weights.cols(), " dimensions, its vectors have ", space->dimensions());
  std::vector<Index> wanted;
  for (std::size_t k = 0; k < ci->by_age.size(); ++k) {
    if (age_seconds(ci->now, ci->created[k]) >= age_cut_off_days * kSecondsPerDay) break;
    wanted.push_back(ci->by_age[k]);
  }
  for (Index i = model.num_items(); i < ci->catalog; ++i) {
    if (!is_deleted(i)) wanted.push_back(i);
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  ci->mapped_row.assign(ci->catalog, kNoIndex);
  std::vector<Eigen::VectorXf> rows;
  for (Index i : wanted) {
    const SparseFeatures f = mapping->featurizer.features(*items, i);
    if (f.empty()) continue;
    ci->mapped_row[i] = static_cast<Index>(rows.size());
    rows.push_back(mapping->project(f));
    if (i >= model.num_items()) ci->past_model.push_back(i);
  }
  ci->mapped.resize(static_cast<Eigen::Index>(rows.size()), mapping->weights.cols());
  for (std::size_t r = 0; r < rows.size(); ++r)
    ci->mapped.row(static_cast<Eigen::Index>(r)) = rows[r].transpose();
  return ci;
}

std::size_t exploration_slots(double weight, std::size_t k) {
  if (!(weight > 0)) return 0;
  return std::min(k, static_cast<std::size_t>(std::lround(weight * static_cast<double>(k))));
}

std::uint64_t exploration_seed(std::string_view user_id, std::string_view recommendation_id) {
  // FNV-1a over both strings (a separator between them), then mixed: std::hash is not the same
  // on every platform, and the seed should be.
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto add = [&](std::string_view s) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ull;
    }
  };
  add(user_id);
  add(std::string_view("\x1f", 1));
  add(recommendation_id);
  return splitmix(h);
}

std::vector<ScoredItem> explore(const ContentIndex& index, const float* user, int factors,
                                double age_cut_off_days, std::size_t count, std::uint64_t seed,
                                const std::function<bool(Index)>& accept,
                                const std::function<const float*(Index)>& factors_of) {
  std::vector<ScoredItem> out;
  if (count == 0) return out;
  struct Candidate {
    Index item;
    float metadata;
    double rank;
  };
  std::vector<Candidate> candidates;
  for (std::size_t k = 0; k < index.by_age.size(); ++k) {
    if (age_seconds(index.now, index.created[k]) >= age_cut_off_days * kSecondsPerDay) break;
    const Index i = index.by_age[k];
    // Items with kContentSettle interactions or more have been explored enough: the model's
    // own list shows them when they deserve it.
    const std::uint32_t seen = i < index.interactions.size() ? index.interactions[i] : 0;
    if (seen >= kContentSettle || !accept(i)) continue;
    float s = 0;
    if (const float* v = user ? factors_of(i) : nullptr) {
      for (int c = 0; c < factors; ++c) s += user[c] * v[c];
    }
    candidates.push_back({i, s, 0});
  }
  if (candidates.empty()) return out;
  double mean = 0, var = 0;
  for (const Candidate& c : candidates) mean += c.metadata;
  mean /= static_cast<double>(candidates.size());
  for (const Candidate& c : candidates) var += (c.metadata - mean) * (c.metadata - mean);
  const double sd = std::sqrt(var / static_cast<double>(candidates.size()));
  for (Candidate& c : candidates) {
    const double z = sd > 0 ? (c.metadata - mean) / sd : 0.0;
    const std::uint32_t n = c.item < index.interactions.size() ? index.interactions[c.item] : 0;
    const double bonus = 1.0 / std::sqrt(1.0 + n);
    const double jitter =
        0.25 * static_cast<double>(splitmix(seed ^ splitmix(c.item)) >> 11) * 0x1.0p-53;
    c.rank = z + bonus + jitter;
  }
  const std::size_t keep = std::min(count, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep),
                    candidates.end(), [](const Candidate& a, const Candidate& b) {
                      return a.rank != b.rank ? a.rank > b.rank : a.item < b.item;
                    });
  for (std::size_t k = 0; k < keep; ++k)
    out.push_back({candidates[k].item, candidates[k].metadata});
  return out;
}

std::vector<ScoredItem> content_neighbors(const ContentIndex& index, Index item,
                                          const std::vector<ScoredItem>& co, std::size_t k) {
  constexpr double kSettle = kContentSettle;
  const std::uint32_t n = item < index.interactions.size() ? index.interactions[item] : 0;
  const double m = index.tfidf ? kSettle / (kSettle + n) : 0.0;
  std::unordered_map<Index, double> score;
  float top_co = 0;
  for (const ScoredItem& s : co) top_co = std::max(top_co, s.score);
  for (const ScoredItem& s : co) {
    if (s.item != item && top_co > 0) score[s.item] += (1 - m) * s.score / top_co;
  }
  if (m > 0 && item < index.tfidf->rows.size() && !index.tfidf->rows[item].empty()) {
    const SparseFeatures& f = index.tfidf->rows[item];
    for (Index j = 0; j < index.tfidf->rows.size(); ++j) {
      if (j == item || index.tfidf->rows[j].empty()) continue;
      const float c = f.dot(index.tfidf->rows[j]);
      if (c > 0) score[j] += m * c;
    }
  }
  std::vector<ScoredItem> out;
  for (const auto& [i, s] : score) out.push_back({i, static_cast<float>(s)});
  const std::size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    [](const ScoredItem& a, const ScoredItem& b) {
                      return a.score != b.score ? a.score > b.score : a.item < b.item;
                    });
  out.resize(keep);
  return out;
}

}  // namespace tailor::detail
