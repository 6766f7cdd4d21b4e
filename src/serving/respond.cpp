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

// An item's reasons: Personalize's "Promoted item" and "Popular item", the item a similar item is
// similar to, or the history items the model names.
std::vector<std::string> reasons(const DatasetGroup& g, const RecommendationRequest& request,
                                 bool promoted, bool backfill,
                                 const std::vector<std::vector<ScoredItem>>& because,
                                 std::size_t n) {
  std::vector<std::string> out;
  if (promoted) out.push_back("Promoted item");
  if (backfill) {
    out.push_back("Popular item");
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
  return request.item_id.empty() && !cold && (snap.softmax_scores || !model.personalized());
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
                                               const Ranked* precomputed) const {
  const Model& model = *snap.version->model();
  const bool similar = !request.item_id.empty();
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
  };
  std::vector<Pick> picks;
  // Excluded or already picked: a short list (results and exclusions are capped at 500 each),
  // cheaper to search than a per-request flag array over the whole catalog is to clear.
  std::vector<Index> taken_list;
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
    bound = scorer->approximate_scores(owned);
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
      if (r.item < model.num_items()) {
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
    for (const ScoredItem& s : top) {
      picks.push_back({s.item, s.score, snap.softmax_scores, promoted});
      take(s.item);
    }
    // Back-fill with popular items (and items newer than the model) so that a filter never
    // shortens the list while allowed items remain.
    std::size_t have = static_cast<std::size_t>(std::count_if(
        picks.begin(), picks.end(), [&](const Pick& p) { return p.promoted == promoted; }));
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
  choose(k - promoted_count, r.allowed, false);
  if (dense && !precomputed && snap.softmax_scores) normaliser = approximate.lse.value();

  // Promoted items go to random positions among the others, in their own order.
  std::vector<Pick> ordered(picks.begin() + static_cast<std::ptrdiff_t>(promoted_count),
                            picks.end());
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

  // Names under a second short read lock.
  group_->read([&](const DatasetGroup& g) {
    for (std::size_t n = 0; n < ordered.size(); ++n) {
      const Pick& p = ordered[n];
      RecommendedItem item;
      item.item_id = std::string(g.item_ids().name(p.item));
      if (p.softmax) item.score = std::exp(static_cast<double>(p.raw) - normaliser);
      item.raw_score = p.raw;
      if (p.promoted) item.promotion_name = request.promotion->name;
      if (request.explain) item.reason = reasons(g, request, p.promoted, p.backfill, because, n);
      response.items.push_back(std::move(item));
    }
    return 0;
  });
  return response;
}

}  // namespace tailor
