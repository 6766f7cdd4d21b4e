// SPDX-License-Identifier: MIT
// Cold-item evaluation: hold out new items with all their interactions, train on the rest, and
// measure how the held-out items are ranked, explored and given similar items from metadata.
#include "tailor/solution/cold_items.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>

#include "serving/content.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

double recall_at(const std::vector<Index>& ranked, const std::vector<Index>& relevant,
                 std::size_t k) {
  if (relevant.empty()) return 0;
  std::size_t hits = 0;
  for (std::size_t p = 0; p < ranked.size() && p < k; ++p)
    hits += std::binary_search(relevant.begin(), relevant.end(), ranked[p]);
  return static_cast<double>(hits) / static_cast<double>(relevant.size());
}

// Items sorted by descending score, ties by index.
std::vector<Index> by_score(const std::vector<Index>& items, const std::vector<float>& scores) {
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  std::vector<Index> out;
  for (std::size_t k : order) out.push_back(items[k]);
  return out;
}

std::string fmt(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", v);
  return buffer;
}

}  // namespace

std::string ColdItemReport::to_text() const {
  std::string out = "cold items " + std::to_string(cold_items) + ", test users " +
                    std::to_string(test_users) + "\n";
  out += "(a) ranking the cold items only: NDCG@10 " + fmt(cold_ndcg_at_10) + " (random " +
         fmt(random_ndcg_at_10) + "), recall@25 " + fmt(cold_recall_at_25) + " (random " +
         fmt(random_recall_at_25) + ")\n";
  out += "(b) whole catalogue, top 25:\n    exploration  NDCG@10  recall@25  new-item share\n";
  for (const ColdCatalogueRow& r : catalogue) {
    char line[96];
    std::snprintf(line, sizeof line, "    %11.2f  %7.4f  %9.4f  %14.4f\n", r.exploration_weight,
                  r.ndcg_at_10, r.recall_at_25, r.new_item_share);
    out += line;
  }
  out += "similar items of cold items sharing a " + genre_field +
         " value: " + fmt(similar_genre_share) + " (random items " + fmt(random_genre_share) +
         ")\n";
  out += "usual split NDCG@10: with metadata " + fmt(usual_ndcg_at_10_metadata) + ", without " +
         fmt(usual_ndcg_at_10_plain) + "\n";
  return out;
}

std::string ColdItemReport::to_json() const {
  std::string out = "{\"coldItems\":" + std::to_string(cold_items) +
                    ",\"testUsers\":" + std::to_string(test_users) +
                    ",\"coldNdcgAt10\":" + fmt(cold_ndcg_at_10) +
                    ",\"coldRecallAt25\":" + fmt(cold_recall_at_25) +
                    ",\"randomNdcgAt10\":" + fmt(random_ndcg_at_10) +
                    ",\"randomRecallAt25\":" + fmt(random_recall_at_25) + ",\"catalogue\":[";
  for (std::size_t k = 0; k < catalogue.size(); ++k) {
    const ColdCatalogueRow& r = catalogue[k];
    out += std::string(k ? "," : "") + "{\"explorationWeight\":" + fmt(r.exploration_weight) +
           ",\"ndcgAt10\":" + fmt(r.ndcg_at_10) + ",\"recallAt25\":" + fmt(r.recall_at_25) +
           ",\"newItemShare\":" + fmt(r.new_item_share) + "}";
  }
  out += "],\"similarGenreShare\":" + fmt(similar_genre_share) +
         ",\"randomGenreShare\":" + fmt(random_genre_share) +
         ",\"usualNdcgAt10Metadata\":" + fmt(usual_ndcg_at_10_metadata) +
         ",\"usualNdcgAt10Plain\":" + fmt(usual_ndcg_at_10_plain) + "}";
  return out;
}

ColdItemReport evaluate_cold_items(const DatasetGroup& g, const SolutionConfig& config,
                                   const ColdItemOptions& o) {
  TAILOR_THROW_IF(!g.items() || g.items()->count() == 0, ErrorCode::InvalidArgument,
                  "cold-item evaluation needs the items dataset (metadata)");
  TAILOR_THROW_IF(!(o.cold_share > 0 && o.cold_share < 1), ErrorCode::InvalidArgument,
                  "cold-item evaluation: the cold share must be between 0 and 1, not ",
                  o.cold_share);
  const Solution solution(config);
  const Index n_users = g.user_ids().size(), n_items = g.item_ids().size();
  EventColumns events = solution.select_events(g);

  // The held-out items: the newest share of the items with interactions, or a seeded random one.
  std::vector<char> has(n_items, 0);
  for (Index i : events.items) has[i] = 1;
  std::vector<Index> with_events;
  for (Index i = 0; i < n_items; ++i)
    if (has[i]) with_events.push_back(i);
  const auto want =
      static_cast<std::size_t>(std::ceil(o.cold_share * static_cast<double>(with_events.size())));
  const Column* created = g.items()->column("CREATION_TIMESTAMP");
  const bool by_time = !o.random_items && created && created->field().is_integral();
  std::vector<Index> cold;
  if (by_time) {
    std::vector<std::pair<std::int64_t, Index>> aged;
    for (Index i : with_events) {
      const std::uint32_t row = g.items()->row_of(i);
      if (row != EntityTable::kNoRow && !created->is_null(row))
        aged.emplace_back(created->int_at(row), i);
    }
    std::sort(aged.begin(), aged.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (std::size_t k = 0; k < aged.size() && k < want; ++k) cold.push_back(aged[k].second);
  } else {
    std::mt19937_64 rng(o.execution.seed);
    std::shuffle(with_events.begin(), with_events.end(), rng);
    cold.assign(with_events.begin(), with_events.begin() + static_cast<std::ptrdiff_t>(
                                                               std::min(want, with_events.size())));
  }
  std::sort(cold.begin(), cold.end());
  std::vector<char> is_cold(n_items, 0);
  for (Index i : cold) is_cold[i] = 1;

  EventColumns train;
  std::vector<std::vector<Index>> seen(n_users), held(n_users);
  for (std::size_t e = 0; e < events.size(); ++e) {
    const Index u = events.users[e], i = events.items[e];
    if (is_cold[i]) {
      held[u].push_back(i);
      continue;
    }
    train.users.push_back(u);
    train.items.push_back(i);
    train.timestamps.push_back(events.timestamps[e]);
    train.weights.push_back(events.weights[e]);
    seen[u].push_back(i);
  }
  for (auto* lists : {&seen, &held}) {
    for (auto& l : *lists) {
      std::sort(l.begin(), l.end());
      l.erase(std::unique(l.begin(), l.end()), l.end());
    }
  }

  TrainOptions t;
  t.compute_metrics = false;
  t.execution = o.execution;
  t.item_features = ItemFeatureTable::build(g.items(), n_items);
  TAILOR_THROW_IF(!t.item_features, ErrorCode::InvalidArgument,
                  "cold-item evaluation: no item has a usable metadata feature");
  const SolutionVersion version = solution.train(train, n_users, n_items, t);
  const Model& model = *version.model();
  const ItemVectorSpace* space = model.item_vectors();
  TAILOR_THROW_IF(!space || !space->attribute_mapping(), ErrorCode::InvalidArgument,
                  "cold-item evaluation needs a solution whose recipe maps item metadata into "
                  "item vectors (e.g. user-personalization with item_metadata); the model of "
                  "recipe ",
                  model.recipe(), " maps none");

  ColdItemReport report;
  report.cold_items = cold.size();
  std::vector<Index> users;
  for (Index u = 0; u < n_users; ++u)
    if (!held[u].empty() && !seen[u].empty()) users.push_back(u);
  TAILOR_THROW_IF(users.empty(), ErrorCode::InvalidArgument,
                  "cold-item evaluation: no user has both held-out and training interactions");
  report.test_users = users.size();
  const double n_test = static_cast<double>(users.size());

  // (a) The held-out items alone, by the model's scores and in random orders.
  std::mt19937_64 rng(o.execution.seed + 1);
  std::vector<float> scores;
  for (Index u : users) {
    UserQuery q;
    q.user = u;
    model.score(q, cold, scores);
    const std::vector<Index> ranked = by_score(cold, scores);
    report.cold_ndcg_at_10 += ndcg_at_k(ranked, held[u], 10) / n_test;
    report.cold_recall_at_25 += recall_at(ranked, held[u], 25) / n_test;
    std::vector<Index> shuffled = cold;
    for (int r = 0; r < o.random_orders; ++r) {
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      report.random_ndcg_at_10 += ndcg_at_k(shuffled, held[u], 10) / n_test / o.random_orders;
      report.random_recall_at_25 += recall_at(shuffled, held[u], 25) / n_test / o.random_orders;
    }
  }

  // (b) Whole-catalogue top 25 at each exploration weight. The held-out items are the new ones
  // (all of age 0, never read); exploration ranks them as serving does (detail::explore), and
  // its items go to seeded positions among the model's.
  detail::ContentIndex content;
  content.catalog = n_items;
  content.by_age = cold;
  content.created.assign(cold.size(), 0);
  content.interactions.assign(n_items, 0);
  constexpr std::size_t kList = 25;
  for (double w : o.exploration_weights) {
    ColdCatalogueRow row;
    row.exploration_weight = w;
    for (Index u : users) {
      UserQuery q;
      q.user = u;
      std::vector<float> vec(space->dimensions());
      space->user_vector(q, vec.data());
      const std::uint64_t seed =
          detail::exploration_seed(std::string(g.user_ids().name(u)), "cold-item-evaluation");
      const std::vector<ScoredItem> explored = detail::explore(
          content, vec.data(), static_cast<int>(vec.size()), 1.0,
          detail::exploration_slots(w, kList), seed,
          [&](Index i) { return !std::binary_search(seen[u].begin(), seen[u].end(), i); },
          [&](Index i) { return space->item_vector(i); });
      model.score_all(q, scores);
      for (Index i : seen[u]) scores[i] = -std::numeric_limits<float>::infinity();
      for (const ScoredItem& e : explored) scores[e.item] = -std::numeric_limits<float>::infinity();
      std::vector<Index> all(n_items);
      std::iota(all.begin(), all.end(), Index{0});
      const std::size_t main = std::min(kList - explored.size(), all.size());
      std::partial_sort(
          all.begin(), all.begin() + static_cast<std::ptrdiff_t>(main), all.end(),
          [&](Index a, Index b) { return scores[a] != scores[b] ? scores[a] > scores[b] : a < b; });
      std::vector<Index> list(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(main));
      std::mt19937_64 positions_rng(seed);
      std::vector<std::size_t> positions(main + explored.size());
      std::iota(positions.begin(), positions.end(), std::size_t{0});
      std::shuffle(positions.begin(), positions.end(), positions_rng);
      positions.resize(explored.size());
      std::sort(positions.begin(), positions.end());
      for (std::size_t p = 0; p < explored.size(); ++p)
        list.insert(list.begin() + static_cast<std::ptrdiff_t>(positions[p]), explored[p].item);
      row.ndcg_at_10 += ndcg_at_k(list, held[u], 10) / n_test;
      row.recall_at_25 += recall_at(list, held[u], kList) / n_test;
      const auto fresh =
          std::count_if(list.begin(), list.end(), [&](Index i) { return is_cold[i]; });
      row.new_item_share += static_cast<double>(fresh) / static_cast<double>(list.size()) / n_test;
    }
    report.catalogue.push_back(row);
  }

  // Similar items of each held-out item from its metadata (it has no interactions in training).
  const Column* genre = nullptr;
  if (!o.genre_field.empty()) {
    genre = g.items()->column(o.genre_field);
    TAILOR_THROW_IF(!genre || !genre->field().categorical, ErrorCode::InvalidArgument,
                    "cold-item evaluation: ", o.genre_field,
                    " is not a categorical field of the items");
  } else {
    for (const Column& c : g.items()->columns()) {
      if (c.field().categorical) {
        genre = &c;
        break;
      }
    }
  }
  if (genre) {
    report.genre_field = genre->field().name;
    auto codes = [&](Index i) {
      const std::uint32_t row = g.items()->row_of(i);
      std::vector<Index> out;
      if (row != EntityTable::kNoRow && !genre->is_null(row)) {
        const Span<Index> c = genre->codes_at(row);
        out.assign(c.begin(), c.end());
      }
      std::sort(out.begin(), out.end());
      return out;
    };
    auto share = [&](const std::vector<Index>& a, const std::vector<Index>& b) {
      for (Index x : a)
        if (std::binary_search(b.begin(), b.end(), x)) return true;
      return false;
    };
    std::vector<std::vector<Index>> all_codes(n_items);
    for (Index i = 0; i < n_items; ++i) all_codes[i] = codes(i);
    content.tfidf = t.item_features;
    double similar = 0, random = 0;
    std::size_t counted = 0;
    for (Index c : cold) {
      if (all_codes[c].empty()) continue;
      const std::vector<ScoredItem> near = detail::content_neighbors(content, c, {}, 10);
      if (near.empty()) continue;
      std::size_t same = 0;
      for (const ScoredItem& s : near) same += share(all_codes[c], all_codes[s.item]);
      similar += static_cast<double>(same) / static_cast<double>(near.size());
      std::size_t others = 0, alike = 0;
      for (Index j = 0; j < n_items; ++j) {
        if (j == c || all_codes[j].empty()) continue;
        ++others;
        alike += share(all_codes[c], all_codes[j]);
      }
      random += others ? static_cast<double>(alike) / static_cast<double>(others) : 0.0;
      ++counted;
    }
    if (counted) {
      report.similar_genre_share = similar / static_cast<double>(counted);
      report.random_genre_share = random / static_cast<double>(counted);
    }
  }

  // NDCG@10 on the usual split, with the metadata mapping and without: a recipe given no item
  // features (TrainingData::item_features null) learns no mapping, whatever its parameters.
  TrainOptions usual;
  usual.execution = o.execution;
  usual.item_features = t.item_features;
  report.usual_ndcg_at_10_metadata = solution.train(events, n_users, n_items, usual)
                                         .metrics()
                                         ->normalized_discounted_cumulative_gain_at_10;
  TrainOptions plain = usual;
  plain.item_features = nullptr;
  report.usual_ndcg_at_10_plain = solution.train(std::move(events), n_users, n_items, plain)
                                      .metrics()
                                      ->normalized_discounted_cumulative_gain_at_10;
  return report;
}

}  // namespace tailor
