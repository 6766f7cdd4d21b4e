// SPDX-License-Identifier: MIT
// Personalize's metrics, the evaluation split and the evaluation loop.
#include "tailor/metrics/ranking_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "detail/parallel.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {
bool is_relevant(Span<Index> relevant, Index item) {
  return std::binary_search(relevant.begin(), relevant.end(), item);
}
}  // namespace

double precision_at_k(Span<Index> ranked, Span<Index> relevant, std::size_t k) {
  if (k == 0) return 0;
  std::size_t hits = 0;
  for (std::size_t p = 0; p < std::min(k, ranked.size()); ++p)
    hits += is_relevant(relevant, ranked[p]);
  return static_cast<double>(hits) / static_cast<double>(k);
}

double ndcg_at_k(Span<Index> ranked, Span<Index> relevant, std::size_t k) {
  double dcg = 0, ideal = 0;
  for (std::size_t p = 0; p < std::min(k, ranked.size()); ++p) {
    if (is_relevant(relevant, ranked[p])) dcg += 1.0 / std::log(2.0 + static_cast<double>(p));
  }
  for (std::size_t p = 0; p < std::min(k, relevant.size()); ++p)
    ideal += 1.0 / std::log(2.0 + static_cast<double>(p));
  return ideal > 0 ? dcg / ideal : 0.0;
}

double reciprocal_rank_at_k(Span<Index> ranked, Span<Index> relevant, std::size_t k) {
  for (std::size_t p = 0; p < std::min(k, ranked.size()); ++p) {
    if (is_relevant(relevant, ranked[p])) return 1.0 / static_cast<double>(p + 1);
  }
  return 0.0;
}

std::vector<std::pair<std::string, double>> RankingMetrics::named() const {
  return {
      {"coverage", coverage},
      {"mean_reciprocal_rank_at_25", mean_reciprocal_rank_at_25},
      {"normalized_discounted_cumulative_gain_at_5", normalized_discounted_cumulative_gain_at_5},
      {"normalized_discounted_cumulative_gain_at_10", normalized_discounted_cumulative_gain_at_10},
      {"normalized_discounted_cumulative_gain_at_25", normalized_discounted_cumulative_gain_at_25},
      {"precision_at_5", precision_at_5},
      {"precision_at_10", precision_at_10},
      {"precision_at_25", precision_at_25}};
}

std::string RankingMetrics::to_json() const {
  std::ostringstream out;
  out.precision(6);
  out << "{";
  bool first = true;
  for (const auto& [name, value] : named()) {
    out << (first ? "" : ",") << '"' << name << "\":" << value;
    first = false;
  }
  out << "}";
  return out.str();
}

EvaluationSplit split_for_evaluation(const EventColumns& events, Index num_users,
                                     const EvaluationOptions& options) {
  TAILOR_THROW_IF(
      !(options.test_user_fraction > 0 && options.test_user_fraction < 1) ||
          !(options.test_interaction_fraction > 0 && options.test_interaction_fraction < 1),
      ErrorCode::InvalidArgument, "evaluation fractions must lie in (0, 1)");
  // Each user's events, oldest first (dataset order breaks timestamp ties).
  std::vector<std::size_t> order(events.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (events.users[a] != events.users[b]) return events.users[a] < events.users[b];
    return events.timestamps[a] < events.timestamps[b];
  });
  std::vector<std::size_t> begin(static_cast<std::size_t>(num_users) + 1, 0);
  for (std::size_t e : order) ++begin[events.users[e] + 1];
  std::partial_sum(begin.begin(), begin.end(), begin.begin());

  std::vector<char> is_test(num_users, 0);
  std::vector<Index> eligible;
  for (Index u = 0; u < num_users; ++u) {
    if (begin[u + 1] - begin[u] >= 2) eligible.push_back(u);
  }
  if (options.split == SplitKind::HeldOutUsers) {
    std::mt19937_64 rng(options.execution.seed);
    std::shuffle(eligible.begin(), eligible.end(), rng);
    auto n = static_cast<std::size_t>(
        std::ceil(options.test_user_fraction * static_cast<double>(eligible.size())));
    for (std::size_t k = 0; k < std::min(n, eligible.size()); ++k) is_test[eligible[k]] = 1;
  } else {
    for (Index u : eligible) is_test[u] = 1;
  }

  EvaluationSplit split;
  split.fold_in_test_users = options.split == SplitKind::HeldOutUsers;
  auto keep = [&](std::size_t e) {
    split.train.users.push_back(events.users[e]);
    split.train.items.push_back(events.items[e]);
    split.train.timestamps.push_back(events.timestamps[e]);
    split.train.weights.push_back(events.weights[e]);
  };
  for (Index u = 0; u < num_users; ++u) {
    const std::size_t n = begin[u + 1] - begin[u];
    if (!is_test[u]) {
      for (std::size_t k = begin[u]; k < begin[u + 1]; ++k) keep(order[k]);
      continue;
    }
    const auto truth_n = std::max<std::size_t>(
        1, static_cast<std::size_t>(
               std::floor(options.test_interaction_fraction * static_cast<double>(n))));
    const std::size_t cut = begin[u + 1] - truth_n;
    TestUser t;
    t.user = u;
    for (std::size_t k = begin[u]; k < cut; ++k) {
      t.input.push_back(events.items[order[k]]);
      t.input_weights.push_back(events.weights[order[k]]);
      // Under LatestPerUser the input is the user's training data as well.
      if (!split.fold_in_test_users) keep(order[k]);
    }
    std::vector<Index> seen(t.input);
    std::sort(seen.begin(), seen.end());
    for (std::size_t k = cut; k < begin[u + 1]; ++k) {
      const Index item = events.items[order[k]];
      if (!std::binary_search(seen.begin(), seen.end(), item)) t.truth.push_back(item);
    }
    std::sort(t.truth.begin(), t.truth.end());
    t.truth.erase(std::unique(t.truth.begin(), t.truth.end()), t.truth.end());
    if (!t.truth.empty()) split.tests.push_back(std::move(t));
  }
  return split;
}

std::vector<std::vector<ScoredItem>> recommend_test_users(const Model& model,
                                                          const EvaluationSplit& split,
                                                          std::size_t k,
                                                          const ExecutionOptions& execution) {
  std::vector<std::vector<ScoredItem>> recs(split.tests.size());
  detail::parallel_for(split.tests.size(), execution.num_threads, [&](std::size_t n) {
    const TestUser& t = split.tests[n];
    UserQuery q;
    q.user = t.user;
    q.history = t.input;
    q.weights = t.input_weights;
    q.refresh = split.fold_in_test_users;
    ItemMask mask;
    mask.excluded = t.input;  // items already in the input are never counted
    model.recommend(q, k, mask, recs[n]);
  });
  return recs;
}

RankingMetrics evaluate(const Model& model, const EvaluationSplit& split, Index catalog_size,
                        const ExecutionOptions& execution) {
  RankingMetrics m;
  const std::size_t n = split.tests.size();
  if (n == 0) return m;
  const std::vector<std::vector<ScoredItem>> recs =
      recommend_test_users(model, split, 25, execution);
  std::vector<char> recommended(std::max<Index>(catalog_size, model.num_items()), 0);
  std::vector<Index> ranked;
  for (std::size_t k = 0; k < n; ++k) {
    ranked.clear();
    for (const ScoredItem& s : recs[k]) {
      ranked.push_back(s.item);
      recommended[s.item] = 1;
    }
    Span<Index> truth = split.tests[k].truth;
    m.precision_at_5 += precision_at_k(ranked, truth, 5);
    m.precision_at_10 += precision_at_k(ranked, truth, 10);
    m.precision_at_25 += precision_at_k(ranked, truth, 25);
    m.normalized_discounted_cumulative_gain_at_5 += ndcg_at_k(ranked, truth, 5);
    m.normalized_discounted_cumulative_gain_at_10 += ndcg_at_k(ranked, truth, 10);
    m.normalized_discounted_cumulative_gain_at_25 += ndcg_at_k(ranked, truth, 25);
    m.mean_reciprocal_rank_at_25 += reciprocal_rank_at_k(ranked, truth, 25);
  }
  const double d = static_cast<double>(n);
  m.precision_at_5 /= d;
  m.precision_at_10 /= d;
  m.precision_at_25 /= d;
  m.normalized_discounted_cumulative_gain_at_5 /= d;
  m.normalized_discounted_cumulative_gain_at_10 /= d;
  m.normalized_discounted_cumulative_gain_at_25 /= d;
  m.mean_reciprocal_rank_at_25 /= d;
  const auto distinct = static_cast<double>(std::count(recommended.begin(), recommended.end(), 1));
  m.coverage = catalog_size > 0 ? distinct / static_cast<double>(catalog_size) : 0.0;
  m.users_evaluated = n;
  return m;
}

}  // namespace tailor
