// SPDX-License-Identifier: MIT
// Model defaults, Recipe defaults and TrainingData construction.
#include "tailor/recipes/model.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "detail/topk.hpp"
#include "recipes/score_count.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/recipe.hpp"
#include "tailor/recipes/training_data.hpp"

namespace tailor {

void Model::score(const UserQuery& query, Span<Index> items, std::vector<float>& scores) const {
  std::vector<float> all;
  score_all(query, all);
  detail::check_score_count(*this, all.size());
  scores.resize(items.size());
  for (std::size_t k = 0; k < items.size(); ++k) {
    TAILOR_THROW_IF(items[k] >= all.size(), ErrorCode::NotFound, "item index ", items[k],
                    " is unknown to the model");
    scores[k] = all[items[k]];
  }
}

void BlockScorer::score_items(const float* state, Span<Index> items, float* out) const {
  // Items [first, item] of the item's aligned chunk: within the catalog, as `item` is.
  const Index align = std::max<Index>(1, chunk_alignment());
  std::vector<float> row(static_cast<std::size_t>(align));
  for (std::size_t k = 0; k < items.size(); ++k) {
    const Index first = items[k] - items[k] % align;
    score_block(state, 1, first, items[k] - first + 1, row.data(), row.size());
    out[k] = row[static_cast<std::size_t>(items[k] - first)];
  }
}

void BlockScorer::approximate_block(const float*, std::size_t, Index, Index, float*,
                                    std::size_t) const {
  TAILOR_THROW(ErrorCode::InvalidArgument, "this block scorer has no approximate scores");
}

namespace {

// The default scorer: the model's own score_all() and score() with the query.
class QueryScorer : public UserScorer {
 public:
  QueryScorer(const Model& model, const UserQuery& query) : model_(model), query_(query) {}
  void score_all(std::vector<float>& scores) const override { model_.score_all(query_, scores); }
  void score(Span<Index> items, std::vector<float>& scores) const override {
    model_.score(query_, items, scores);
  }

 private:
  const Model& model_;
  UserQuery query_;
};

}  // namespace

std::unique_ptr<UserScorer> Model::scorer(const UserQuery& query) const {
  return std::make_unique<QueryScorer>(*this, query);
}

void Model::select_top_k(std::vector<float>& scores, std::size_t k, const ItemMask& mask,
                         std::vector<ScoredItem>& out) {
  for (Index e : mask.excluded) {
    if (e < scores.size()) scores[e] = -std::numeric_limits<float>::infinity();
  }
  detail::top_k(scores.data(), scores.size(), k, mask.allowed, out);
}

void Model::recommend(const UserQuery& query, std::size_t k, const ItemMask& mask,
                      std::vector<ScoredItem>& out) const {
  std::vector<float> scores;
  score_all(query, scores);
  detail::check_score_count(*this, scores.size());
  select_top_k(scores, k, mask, out);
}

void Model::similar_items(Index, std::size_t, const ItemMask&, std::vector<ScoredItem>&) const {
  TAILOR_THROW(ErrorCode::InvalidArgument, "recipe ", recipe(),
               " does not answer similar-items requests (use sims)");
}

std::shared_ptr<const Model> Model::without(Span<Index>, Span<Index>) const {
  TAILOR_THROW(ErrorCode::InvalidArgument, "a model of recipe ", recipe(),
               " cannot forget users or items");
}

void Model::save(ModelArchive&) const {
  TAILOR_THROW(ErrorCode::InvalidArgument, "a model of recipe ", recipe(),
               " cannot be saved (it lives in memory only)");
}

std::unique_ptr<Model> Recipe::update(const Model&, const TrainingData&,
                                      const TrainContext&) const {
  TAILOR_THROW(ErrorCode::InvalidArgument, "recipe ", name(),
               " has no UPDATE training mode (only user-personalization has): train in FULL mode");
}

namespace {

// Groups (row, col, value) triples by row, sorts each row by column and sums duplicates.
void build_csr(Index rows, const std::vector<Index>& row_of, const std::vector<Index>& col_of,
               const std::vector<float>& value_of, std::vector<std::size_t>& offsets,
               std::vector<Index>& cols, std::vector<float>& values) {
  std::vector<std::size_t> counts(static_cast<std::size_t>(rows) + 1, 0);
  for (Index r : row_of) ++counts[r + 1];
  std::partial_sum(counts.begin(), counts.end(), counts.begin());
  std::vector<std::pair<Index, float>> entries(row_of.size());
  std::vector<std::size_t> fill(counts.begin(), counts.end() - 1);
  for (std::size_t e = 0; e < row_of.size(); ++e)
    entries[fill[row_of[e]]++] = {col_of[e], value_of[e]};
  offsets.assign(static_cast<std::size_t>(rows) + 1, 0);
  cols.clear();
  values.clear();
  cols.reserve(entries.size());
  values.reserve(entries.size());
  for (Index r = 0; r < rows; ++r) {
    auto begin = entries.begin() + static_cast<std::ptrdiff_t>(counts[r]);
    auto end = entries.begin() + static_cast<std::ptrdiff_t>(counts[r + 1]);
    std::sort(begin, end, [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = begin; it != end; ++it) {
      if (cols.size() > offsets[r] && cols.back() == it->first) {
        values.back() += it->second;
      } else {
        cols.push_back(it->first);
        values.push_back(it->second);
      }
    }
    offsets[r + 1] = cols.size();
  }
}

}  // namespace

TrainingData TrainingData::build(Index num_users, Index num_items, std::vector<Index> users,
                                 std::vector<Index> items, std::vector<std::int64_t> timestamps,
                                 std::vector<float> weights) {
  TAILOR_THROW_IF(users.size() != items.size() || users.size() != timestamps.size() ||
                      users.size() != weights.size(),
                  ErrorCode::InvalidArgument, "training data columns differ in length");
  for (std::size_t e = 0; e < users.size(); ++e) {
    TAILOR_THROW_IF(users[e] >= num_users || items[e] >= num_items, ErrorCode::InvalidArgument,
                    "training event ", e, " refers to user ", users[e], " / item ", items[e],
                    " outside ", num_users, " users / ", num_items, " items");
  }
  TrainingData d;
  d.num_users = num_users;
  d.num_items = num_items;
  build_csr(num_users, users, items, weights, d.user_offsets, d.user_items, d.user_values);
  // The transpose from the aggregated matrix, so both hold the same summed values.
  std::vector<Index> rows(d.user_items.size());
  for (Index u = 0; u < num_users; ++u) {
    for (std::size_t e = d.user_offsets[u]; e < d.user_offsets[u + 1]; ++e) rows[e] = u;
  }
  build_csr(num_items, d.user_items, rows, d.user_values, d.item_offsets, d.item_users,
            d.item_values);
  d.users = std::move(users);
  d.items = std::move(items);
  d.timestamps = std::move(timestamps);
  d.weights = std::move(weights);
  return d;
}

}  // namespace tailor
