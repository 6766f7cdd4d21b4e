// SPDX-License-Identifier: MIT
// A resolved recommendation request scored on its snapshot without any lock: the model's best
// items within the filter and exclusions, promoted items in their share of the slots, back-fill
// with popular items, and the names under a second short read lock.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

#include "detail/topk.hpp"
#include "recipes/score_count.hpp"
#include "serving/campaign_impl.hpp"
#include "serving/candidates.hpp"
#include "serving/softmax.hpp"

namespace tailor {

namespace {

constexpr std::size_t kReasonsPerItem = 3;

// An item's reasons: Personalize's "Promoted item", "Popular item" and "Exploration" (an item
// exploration chose), the item a similar item is similar to, or the history items the model names.
std::vector<std::string> reasons(const DatasetGroup& g, const RecommendationRequest& request,
                                 bool promoted, bool backfill, bool explored,
                                 const std::vector<std::vector<ScoredItem>>& because,
                                 std::size_t n) {
  std::vector<std::string> out;
  if (promoted) out.push_back("Promoted item");
  if (backfill) {
    out.push_back("Popular item");
    return out;
  }
  if (explored) {
    out.push_back("Exploration");
    return out;
  }
  if (!request.item_id.empty()) {
    out.push_back("Similar to " + request.item_id);
    return out;
  }
  if (n >= because.size()) return out;
  for (const ScoredItem& t : because[n]) {
    if (t.item >= g.item_ids().size()) continue;
    char contribution[32];
    std::snprintf(contribution, sizeof contribution, "%.4g", static_cast<double>(t.score));
    out.push_back("Interacted with " + std::string(g.item_ids().name(t.item)) + " (contribution " +
                  contribution + ")");
  }
  return out;
}

}  // namespace

bool Campaign::Impl::dense_scoring(const RecommendationRequest& request, const Snapshot& snap,
                                   const Resolved& r) {
  const Model& model = *snap.version->model();
  const bool cold = request.item_id.empty() && model.personalized() && r.history.empty();
  // A request with item content (recency, vectors of items put after training: content()) ranks
  // every item's score, adjusted or added: the catalog is scored whole, whatever the score kind.
  return request.item_id.empty() && !cold &&
         (snap.softmax_scores || !model.personalized() || r.content);
}

UserQuery Campaign::Impl::user_query(
    const Resolved& r, const Snapshot& snap,
    const std::vector<std::pair<std::string, std::string>>& context) {
  UserQuery q;
  q.user = r.user;
  q.history = r.history;
  q.weights = r.weights;
  q.refresh =
      r.user >= snap.history_lengths.size() || r.history_rows > snap.history_lengths[r.user];
  q.context = &context;
  return q;
}

RecommendationResponse Campaign::Impl::respond(const RecommendationRequest& request,
                                               const Snapshot& snap, Resolved& r,
                                               const Ranked* batched) const {
  const Model& model = *snap.version->model();
  const bool similar = !request.item_id.empty();
  // Recency (ServingSettings::recency_half_life): scores lowered by the items' ages. The catalog
  // is then scored exactly (the approximate scan's bounds hold for the model's own scores) and on
  // its own, not from a batched ranking of unadjusted scores.
  const ServingSettings settings = model.serving_settings();
  const float half_life = !similar && r.content ? settings.recency_half_life : 0.0f;
  const Ranked* precomputed = half_life > 0 ? nullptr : batched;
  // Score on the snapshot, without locks.
  RecommendationResponse response;
  response.recommendation_id = records_.next_id();
  const std::size_t k = request.num_results;
  const bool cold = !similar && model.personalized() && r.history.empty();
  response.cold_start = cold;

  struct Pick {
    Index item;
    float raw;
    bool softmax;  // gets a softmax score (back-filled items get none)
    bool promoted;
    bool backfill = false;  // popular or new, not ranked by the model
    bool explored = false;  // in a slot exploration gave to new items
  };
  std::vector<Pick> picks;
  picks.reserve(k);
  // Excluded or already picked: a short list (results and exclusions are capped at 500 each),
  // cheaper to search than a per-request flag array over the whole catalog is to clear.
  std::vector<Index> taken_list;
  taken_list.reserve(r.excluded.size() + k);
  auto taken = [&](Index i) {
    return std::find(taken_list.begin(), taken_list.end(), i) != taken_list.end();
  };
  auto take = [&](Index i) {
    if (!taken(i)) taken_list.push_back(i);
  };
  for (Index e : r.excluded) take(e);

  // Scores for every item the request may rank: model scores, live counts for popularity models.
  // The scores live in `owned`, unless the caller ranked the catalog already (batched scoring).
  // One buffer per thread, kept between requests: a catalog's scores are hundreds of kilobytes,
  // and allocating them anew on every request costs page faults whenever the allocator has
  // handed the previous block back to the system.
  thread_local std::vector<float> owned;
  float* scores = nullptr;
  std::size_t score_count = 0;
  double normaliser = 0;
  // The user's scorer, how far the scores in `owned` may be from the exact ones, and the
  // normaliser of softmax scores while the ranked items' terms are made exact.
  std::unique_ptr<UserScorer> scorer;
  ScoreBound bound;
  detail::Normaliser approximate;
  const bool dense = dense_scoring(request, snap, r);
  if (dense && precomputed) {
    normaliser = precomputed->normaliser;
  } else if (dense) {
    scorer = model.scorer(user_query(r, snap, request.context));
    if (half_life > 0) {
      scorer->score_all(owned);
      r.content->penalise(owned.data(), owned.size(), half_life);
    } else {
      bound = scorer->approximate_scores(owned);
    }
    detail::check_score_count(model, owned.size());
    if (snap.softmax_scores) approximate.lse.add(owned.data(), owned.size());
    if (!model.personalized()) {
      owned.resize(r.catalog, 0.0f);  // items new since training start at zero
      for (const auto& [item, count] : live_.counts_since(snap.trained_rows)) {
        if (item < owned.size()) owned[item] += count;
      }
    }
    scores = owned.data();
    score_count = owned.size();
  }
  // Items put after training that have vectors from their metadata (the attribute mapping of the
  // model's ItemVectorSpace): scored with the user's vector and ranked with the model's own items.
  const ItemVectorSpace* space = similar ? nullptr : model.item_vectors();
  const detail::ContentIndex* content =
      space && space->attribute_mapping() ? r.content.get() : nullptr;
  std::vector<float> user;
  if (content) {
    user.resize(space->dimensions());
    space->user_vector(user_query(r, snap, request.context), user.data());
  }
  std::vector<ScoredItem> past_model;
  if (content && dense) {
    for (Index i : content->past_model) {
      if (i >= r.catalog) continue;
      const float* v = content->mapped_factors(i);
      past_model.push_back({i, detail::dot(v, user.data(), user.size()) -
                                   (half_life > 0 ? content->penalty(i, half_life) : 0.0f)});
    }
    if (snap.softmax_scores && !past_model.empty()) {
      std::vector<float> extra;
      for (const ScoredItem& p : past_model) extra.push_back(p.score);
      if (precomputed) {
        const double e = detail::log_sum_exp(extra.data(), extra.size());
        const double hi = std::max(normaliser, e);
        normaliser = hi + std::log(std::exp(normaliser - hi) + std::exp(e - hi));
      } else {
        approximate.lse.add(extra.data(), extra.size());
      }
    }
  }
  auto choose = [&](std::size_t count, const std::optional<Bitmap>& allowed, bool promoted) {
    if (count == 0) return;
    std::vector<ScoredItem> top;
    ItemMask mask;
    mask.allowed = allowed ? &*allowed : nullptr;
    mask.excluded = taken_list;
    if (dense && precomputed) {
      for (const ScoredItem& s : precomputed->top) {
        if (top.size() < count && !taken(s.item)) top.push_back(s);
      }
    } else if (dense) {
      // Taken items never come back, so their scores can be knocked out in place.
      for (Index e : taken_list) {
        if (e < score_count) scores[e] = -std::numeric_limits<float>::infinity();
      }
      if (!bound.exact()) {
        detail::top_k_within(*scorer, scores, score_count, bound, count, mask.allowed,
                             snap.softmax_scores ? &approximate : nullptr, top);
      } else {
        detail::top_k(scores, score_count, count, mask.allowed, top);
      }
    } else if (similar) {
      if (r.item < model.num_items() && !r.live_similar) {
        model.similar_items(r.item, count, mask, top);
      } else {
        for (const ScoredItem& n : r.live_neighbors) {
          if (top.size() < count && !taken(n.item) && (!mask.allowed || mask.allowed->test(n.item)))
            top.push_back(n);
        }
      }
    } else if (!cold) {
      model.recommend(user_query(r, snap, request.context), count, mask, top);
    }
    if (dense && !past_model.empty()) {
      for (const ScoredItem& p : past_model) {
        if (!taken(p.item) && (!mask.allowed || mask.allowed->test(p.item))) top.push_back(p);
      }
      const std::size_t keep = std::min(count, top.size());
      std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                        [](const ScoredItem& a, const ScoredItem& b) {
                          return a.score != b.score ? a.score > b.score : a.item < b.item;
                        });
      top.resize(keep);
    }
    for (const ScoredItem& s : top) {
      picks.push_back({s.item, s.score, snap.softmax_scores, promoted});
      take(s.item);
    }
    // Back-fill with popular items (and items newer than the model) so that a filter never
    // shortens the list while allowed items remain.
    // Explored items fill slots of their own: they do not count here.
    std::size_t have =
        static_cast<std::size_t>(std::count_if(picks.begin(), picks.end(), [&](const Pick& p) {
          return p.promoted == promoted && !p.explored;
        }));
    auto consider = [&](Index i) {
      if (have >= count || (allowed && !allowed->test(i)) || taken(i)) return;
      picks.push_back({i, 0.0f, false, promoted, true});
      take(i);
      ++have;
    };
    for (Index i : snap.popular) {
      if (have >= count) break;
      if (i < r.catalog) consider(i);
    }
    for (Index i = static_cast<Index>(snap.popular.size()); i < r.catalog && have < count; ++i)
      consider(i);
  };

  std::size_t promoted_slots = 0;
  if (request.promotion) {
    promoted_slots = static_cast<std::size_t>(
        std::ceil(static_cast<double>(k) * request.promotion->percent_promoted_items / 100.0));
    promoted_slots = std::min(promoted_slots, k);
    choose(promoted_slots, r.promoted_allowed, true);
  }
  const std::size_t promoted_count = picks.size();
  // Exploration: a share of the remaining slots goes to new items (younger than the cut-off),
  // ranked by their metadata score and a bonus that shrinks with their exposure; the same user
  // and recommendation id explore the same items.
  std::size_t explored_count = 0;
  if (content) {
    const float weight = request.exploration_weight.value_or(settings.exploration_weight);
    const float cut_off =
        request.exploration_item_age_cut_off.value_or(settings.exploration_item_age_cut_off);
    const std::size_t slots = detail::exploration_slots(weight, k - promoted_count);
    const std::uint64_t seed =
        detail::exploration_seed(request.user_id, response.recommendation_id);
    std::vector<Index> seen = r.history;  // items the user knows are not explored
    std::sort(seen.begin(), seen.end());
    const std::vector<ScoredItem> explored = detail::explore(
        *content, user.data(), static_cast<int>(user.size()), cut_off, slots, seed,
        [&](Index i) {
          return i < r.catalog && !taken(i) && (!r.allowed || r.allowed->test(i)) &&
                 !std::binary_search(seen.begin(), seen.end(), i);
        },
        [&](Index i) -> const float* {
          if (const float* v = content->mapped_factors(i)) return v;
          return i < model.num_items() ? space->item_vector(i) : nullptr;
        });
    for (const ScoredItem& e : explored) {
      picks.push_back({e.item, e.score, false, false, false, true});
      take(e.item);
    }
    explored_count = explored.size();
  }
  choose(k - promoted_count - explored_count, r.allowed, false);
  if (dense && !precomputed && snap.softmax_scores) normaliser = approximate.lse.value();

  // Explored items go to seeded random positions among the model's, in their own order; then
  // promoted items to random positions among all of them, in their own order.
  const auto main_begin = picks.begin() + static_cast<std::ptrdiff_t>(promoted_count);
  std::vector<Pick> ordered(main_begin + static_cast<std::ptrdiff_t>(explored_count), picks.end());
  if (explored_count > 0) {
    std::mt19937_64 rng(detail::exploration_seed(request.user_id, response.recommendation_id));
    std::vector<std::size_t> positions(ordered.size() + explored_count);
    std::iota(positions.begin(), positions.end(), std::size_t{0});
    std::shuffle(positions.begin(), positions.end(), rng);
    positions.resize(explored_count);
    std::sort(positions.begin(), positions.end());
    for (std::size_t p = 0; p < explored_count; ++p) {
      ordered.insert(ordered.begin() + static_cast<std::ptrdiff_t>(positions[p]),
                     *(main_begin + static_cast<std::ptrdiff_t>(p)));
    }
  }
  if (promoted_count > 0) {
    std::mt19937_64 rng(std::hash<std::string>()(response.recommendation_id));
    std::vector<std::size_t> positions(ordered.size() + promoted_count);
    std::iota(positions.begin(), positions.end(), std::size_t{0});
    std::shuffle(positions.begin(), positions.end(), rng);
    positions.resize(promoted_count);
    std::sort(positions.begin(), positions.end());
    for (std::size_t p = 0; p < promoted_count; ++p) {
      ordered.insert(ordered.begin() + static_cast<std::ptrdiff_t>(positions[p]), picks[p]);
    }
  }

  // The history items behind each model-ranked item, asked for: still on the snapshot.
  std::vector<std::vector<ScoredItem>> because;
  if (request.explain && !similar && !cold) {
    std::vector<Index> explained;
    for (const Pick& p : ordered) explained.push_back(p.item < model.num_items() ? p.item : 0);
    model.explain(user_query(r, snap, request.context), explained, kReasonsPerItem, because);
  }

  // Names under a second short read lock. An item deleted since the scoring has no name any more
  // and is left out.
  group_->read([&](const DatasetGroup& g) {
    std::vector<Index> shown;
    shown.reserve(ordered.size());
    response.items.reserve(ordered.size());
    for (std::size_t n = 0; n < ordered.size(); ++n) {
      const Pick& p = ordered[n];
      if (p.item < g.deleted_items().size() && g.deleted_items().test(p.item)) continue;
      shown.push_back(p.item);
      RecommendedItem item;
      item.item_id = std::string(g.item_ids().name(p.item));
      if (p.softmax) item.score = std::exp(static_cast<double>(p.raw) - normaliser);
      item.raw_score = p.raw;
      if (p.promoted) item.promotion_name = request.promotion->name;
      item.explored = p.explored;
      if (request.explain) {
        item.reason = reasons(g, request, p.promoted, p.backfill, p.explored, because, n);
      }
      response.items.push_back(std::move(item));
    }
    add_metadata(g, request.metadata_columns, shown, response);
    return 0;
  });
  return response;
}

}  // namespace tailor
