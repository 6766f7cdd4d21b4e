// SPDX-License-Identifier: MIT
// Campaign: request resolution under a short read lock, scoring on an immutable snapshot without
// any lock, and names looked up under a second short read lock.
#include "tailor/serving/campaign.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <tuple>
#include <unordered_map>

#include "detail/parallel.hpp"
#include "detail/topk.hpp"
#include "serving/campaign_impl.hpp"
#include "serving/softmax.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/popularity.hpp"
#include "tailor/recipes/ranking.hpp"

namespace tailor {

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void check_context(const std::vector<std::pair<std::string, std::string>>& context) {
  TAILOR_THROW_IF(context.size() > CampaignLimits::kMaxContextEntries, ErrorCode::InvalidArgument,
                  "context has ", context.size(), " entries, more than the limit of ",
                  CampaignLimits::kMaxContextEntries);
  for (const auto& [key, value] : context) {
    const bool key_ok = !key.empty() && key.size() <= CampaignLimits::kMaxContextKey &&
                        std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    TAILOR_THROW_IF(!key_ok, ErrorCode::InvalidArgument, "context key \"", key.substr(0, 160),
                    "\" must be 1-150 characters of [A-Za-z0-9_]");
    TAILOR_THROW_IF(value.size() > CampaignLimits::kMaxContextValue, ErrorCode::InvalidArgument,
                    "context value for \"", key, "\" is longer than 1000 characters");
  }
}

// Each user's interaction count, and the interaction rows in all: what a version is trained on.
std::pair<std::vector<std::uint32_t>, std::size_t> history_lengths(const DatasetGroup& g) {
  std::vector<std::uint32_t> lengths(g.user_ids().size());
  for (Index u = 0; u < lengths.size(); ++u) lengths[u] = static_cast<std::uint32_t>(g.interaction_rows_of(u).size());
  return {std::move(lengths), g.interactions().size()};
}

// Items by the number of distinct users who interacted with them (ties by index).
std::vector<Index> popular_items(const DatasetGroup& g) {
  std::vector<float> users(g.item_ids().size(), 0.0f);
  std::vector<Index> last_user(g.item_ids().size(), kNoIndex);
  for (Index u = 0; u < g.user_ids().size(); ++u) {
    for (std::uint32_t r : g.interaction_rows_of(u)) {
      const Index i = g.interactions().items()[r];
      if (last_user[i] != u) {
        last_user[i] = u;
        users[i] += 1;
      }
    }
  }
  std::vector<Index> order(users.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return users[a] > users[b]; });
  return order;
}

// The best `count` items by exact score, from approximate scores within `bound` of the exact
// ones (UserScorer::approximate_scores; knocked-out items at −infinity): the items that could be
// among the exact best are scored exactly and ranked. Each item scored exactly goes into
// `normaliser` (when given).
void top_k_within(const UserScorer& scorer, const float* approximate,
                  std::size_t n, const ScoreBound& bound, std::size_t count, const Bitmap* allowed,
                  detail::Normaliser* normaliser, std::vector<ScoredItem>& top) {
  // Usually the best few more than `count` approximate scores hold every item that could be.
  const std::size_t wider = count + 4;
  detail::top_k(approximate, n, wider, allowed, top);
  std::vector<Index> candidates;
  if (top.size() < wider) {
    for (const ScoredItem& s : top) candidates.push_back(s.item);  // every allowed item
  } else {
    // `count` of these items score at least their lower bounds, so the exact count-th best
    // score is at least t, the count-th best lower bound; an item can be among the best only if
    // its upper bound reaches t.
    std::vector<double> lower(top.size());
    for (std::size_t j = 0; j < top.size(); ++j) {
      lower[j] = static_cast<double>(top[j].score) - static_cast<double>(bound.of(top[j].item));
    }
    std::nth_element(lower.begin(), lower.begin() + static_cast<std::ptrdiff_t>(count - 1),
                     lower.end(), std::greater<double>());
    const double t = lower[count - 1];
    auto reaches = [&](Index i) {
      return static_cast<double>(approximate[i]) + static_cast<double>(bound.of(i)) >= t;
    };
    if (static_cast<double>(top.back().score) + static_cast<double>(bound.max()) < t) {
      // Nothing outside these items reaches t.
      for (const ScoredItem& s : top) {
        if (reaches(s.item)) candidates.push_back(s.item);
      }
    } else {
      // A second pass: the items whose approximate score is within the largest bound of t.
      const double floor = t - static_cast<double>(bound.max());
      float threshold = static_cast<float>(floor);
      if (static_cast<double>(threshold) > floor) {
        threshold = std::nextafter(threshold, -std::numeric_limits<float>::infinity());
      }
      std::vector<Index> near;
      detail::items_at_least(approximate, n, threshold, allowed, near);
      for (Index i : near) {
        if (reaches(i)) candidates.push_back(i);
      }
    }
  }
  std::vector<float> exact;
  if (candidates.size() > 4 * count + 64) {
    // Near-ties over a large part of the catalog: scoring it all exactly is cheaper.
    scorer.score_all(exact);
    if (normaliser) normaliser->set_all_exact(exact);
    for (std::size_t i = 0; i < n; ++i) {
      if (approximate[i] == -std::numeric_limits<float>::infinity()) exact[i] = approximate[i];
    }
    detail::top_k(exact.data(), n, count, allowed, top);
    return;
  }
  scorer.score(candidates, exact);
  top.resize(candidates.size());
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    top[j] = {candidates[j], exact[j]};
    if (normaliser) normaliser->set_exact(candidates[j], approximate[candidates[j]], exact[j]);
  }
  const std::size_t keep = std::min(count, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                    detail::better);
  top.resize(keep);
}

}  // namespace

namespace {
// Items co-occurring with `item` in users' histories, by the number of users (an item the model
// has not seen yet still gets similar items as soon as it has interactions).
std::vector<ScoredItem> co_occurring(const DatasetGroup& g, Index item, std::size_t k) {
  std::unordered_map<Index, float> counts;
  std::vector<Index> users;
  const Interactions& in = g.interactions();
  for (Index u = 0; u < g.user_ids().size(); ++u) {
    for (std::uint32_t r : g.interaction_rows_of(u)) {
      if (in.items()[r] == item) {
        users.push_back(u);
        break;
      }
    }
  }
  for (Index u : users) {
    std::vector<Index> items;
    for (std::uint32_t r : g.interaction_rows_of(u)) items.push_back(in.items()[r]);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    for (Index i : items) {
      if (i != item) counts[i] += 1.0f;
    }
  }
  detail::TopK top(k);
  for (const auto& [i, c] : counts) top.push(i, c);
  std::vector<ScoredItem> out;
  top.take_sorted(out);
  return out;
}
}  // namespace

Campaign::Impl::Impl(std::shared_ptr<LiveDatasetGroup> group, Solution solution, CampaignOptions options)
    : group_(std::move(group)), solution_(std::move(solution)), options_(std::move(options)) {
  TAILOR_THROW_IF(!group_, ErrorCode::InvalidArgument, "a campaign needs a dataset group");
  id_prefix_ = std::hash<const void*>()(this) ^
               static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
}

Campaign::Impl::~Impl() {
  subscription_.reset();  // no change reaches a campaign being destroyed
  wait_for_retrain();
}

Campaign::Campaign(std::shared_ptr<LiveDatasetGroup> group, Solution solution, SolutionVersion version,
                   CampaignOptions options)
    : impl_(std::make_unique<Impl>(std::move(group), std::move(solution), std::move(options))) {
  Impl& m = *impl_;
  // Subscribe first, so that no change between reading the group and subscribing goes unseen.
  m.subscription_ = m.group_->subscribe([&m](const GroupChange& change) { m.on_change(change); });
  auto [lengths, rows] = m.group_->read(history_lengths);
  m.deploy(std::move(version), std::move(lengths), rows);
  m.last_training_seconds_ = seconds_now();
}

Campaign::Campaign(std::shared_ptr<LiveDatasetGroup> group, SolutionVersion version, CampaignOptions options)
    // A copy, not a move: the order in which the two arguments are made is unspecified.
    : Campaign(std::move(group), Solution(version.config()), version, std::move(options)) {}

Campaign::~Campaign() = default;

RecommendationResponse Campaign::get_recommendations(const RecommendationRequest& request) const {
  const std::shared_ptr<const Impl::Snapshot> snap = impl_->snapshot();
  Impl::Resolved r = impl_->resolve(request, *snap);
  RecommendationResponse response = impl_->respond(request, *snap, r, nullptr);
  impl_->record(request, response);
  return response;
}

std::shared_ptr<const SolutionVersion> Campaign::version() const { return impl_->snapshot()->version; }
const Solution& Campaign::solution() const { return impl_->solution_; }
const std::shared_ptr<LiveDatasetGroup>& Campaign::group() const { return impl_->group_; }
RecommendationResponse Campaign::get_personalized_ranking(const RankingRequest& request) const {
  return impl_->get_personalized_ranking(request);
}
PutReport Campaign::put_events(const std::vector<EventRecord>& events) { return impl_->put_events(events); }
void Campaign::deploy(SolutionVersion version) { impl_->deploy(std::move(version)); }
void Campaign::retrain() { impl_->retrain(); }
bool Campaign::retrain_async() { return impl_->retrain_async(); }
void Campaign::wait_for_retrain() { impl_->wait_for_retrain(); }
PutReport Campaign::put_users(const std::vector<EntityRecord>& users) { return impl_->group_->put_users(users); }
PutReport Campaign::put_items(const std::vector<EntityRecord>& items) { return impl_->group_->put_items(items); }

std::optional<std::string> Campaign::last_retrain_error() const {
  std::lock_guard<std::mutex> lock(impl_->retrain_error_mutex_);
  return impl_->last_retrain_error_;
}

std::shared_ptr<const Campaign::Impl::Snapshot> Campaign::Impl::snapshot() const { return std::atomic_load(&snapshot_); }

void Campaign::Impl::deploy(SolutionVersion version) {
  auto [lengths, rows] = group_->read(history_lengths);
  deploy(std::move(version), std::move(lengths), rows);
}

void Campaign::Impl::deploy(SolutionVersion version, std::vector<std::uint32_t> history_lengths, std::size_t rows) {
  // Whatever deploys (a retrain that copied its events before a deletion included), the model
  // served forgets every deleted user and item. Deploys are serialised so that one that read the
  // deleted sets before a deletion cannot land after the deletion's own.
  std::lock_guard<std::mutex> deploying(deploy_mutex_);
  auto [deleted_users, deleted_items] = group_->read([](const DatasetGroup& g) {
    return std::make_pair(g.deleted_users().set_indices(), g.deleted_items().set_indices());
  });
  if (!deleted_users.empty() || !deleted_items.empty()) {
    version = SolutionVersion(version.config(), version.mode(), version.model()->without(deleted_users, deleted_items),
                              version.metrics(), version.baseline_metrics(), version.training_seconds());
  }
  auto s = std::make_shared<Snapshot>();
  s->softmax_scores = version.model()->score_kind() == ScoreKind::Softmax;
  s->version = std::make_shared<const SolutionVersion>(std::move(version));
  s->history_lengths = std::move(history_lengths);
  s->trained_rows = rows;
  s->popular = group_->read([](const DatasetGroup& g) { return popular_items(g); });
  {
    // Events the new version was trained on no longer count as live.
    std::lock_guard<std::mutex> lock(live_mutex_);
    live_events_.erase(std::remove_if(live_events_.begin(), live_events_.end(),
                                      [&](const auto& e) { return e.second < rows; }),
                       live_events_.end());
  }
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(s)));
}

std::string Campaign::Impl::next_recommendation_id() const {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%016llx-%010llx", static_cast<unsigned long long>(id_prefix_),
                static_cast<unsigned long long>(id_counter_.fetch_add(1) + 1));
  return buffer;
}

std::vector<std::pair<Index, float>> Campaign::Impl::live_counts(const Snapshot& s) const {
  std::unordered_map<Index, float> counts;
  {
    std::lock_guard<std::mutex> lock(live_mutex_);
    for (const auto& [item, row] : live_events_) {
      if (row >= s.trained_rows) counts[item] += 1.0f;
    }
  }
  return {counts.begin(), counts.end()};
}

Campaign::Impl::Resolved Campaign::Impl::resolve(const RecommendationRequest& request, const Snapshot& snap) const {
  TAILOR_THROW_IF(request.num_results > CampaignLimits::kMaxNumResults, ErrorCode::InvalidArgument,
                  "num_results ", request.num_results, " is more than the limit of ", CampaignLimits::kMaxNumResults);
  TAILOR_THROW_IF(request.user_id.empty() && request.item_id.empty(), ErrorCode::InvalidArgument,
                  "a recommendation request needs a user_id or an item_id");
  TAILOR_THROW_IF(request.excluded_item_ids.size() > CampaignLimits::kMaxExcluded, ErrorCode::InvalidArgument,
                  request.excluded_item_ids.size(), " excluded items, more than the limit of ",
                  CampaignLimits::kMaxExcluded);
  check_context(request.context);
  if (request.promotion) {
    const Promotion& p = *request.promotion;
    const bool name_ok = !p.name.empty() && p.name.size() <= 63 && std::isalnum(static_cast<unsigned char>(p.name[0])) &&
                         std::all_of(p.name.begin(), p.name.end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '_' || c == '-';
                         });
    TAILOR_THROW_IF(!name_ok, ErrorCode::InvalidArgument, "promotion name \"", p.name.substr(0, 70),
                    "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
    TAILOR_THROW_IF(p.percent_promoted_items < 1 || p.percent_promoted_items > 100, ErrorCode::InvalidArgument,
                    "promotion ", p.name, ": percent_promoted_items must be 1-100");
    TAILOR_THROW_IF(!p.filter, ErrorCode::InvalidArgument, "promotion ", p.name, " needs a filter");
  }
  const Model& model = *snap.version->model();
  const bool similar = !request.item_id.empty();
  TAILOR_THROW_IF(similar && !model.has_similar_items(), ErrorCode::InvalidArgument, "recipe ",
                  model.recipe(), " answers user requests, not similar-items requests (use sims)");

  // Ids, history and filters, under the read lock.
  Resolved r = group_->read([&](const DatasetGroup& g) {
    Resolved out;
    out.catalog = g.item_ids().size();
    if (!request.user_id.empty()) {
      out.user = g.user_ids().find(request.user_id);
      if (out.user != kNoIndex) {
        solution_.user_history(g, out.user, out.history, out.weights);
        out.history_rows = g.interaction_rows_of(out.user).size();
      }
    }
    if (similar) {
      out.item = g.item_ids().find(request.item_id);
      TAILOR_THROW_IF(out.item == kNoIndex, ErrorCode::NotFound, "item \"", request.item_id,
                      "\" is not in the dataset group");
      if (out.item >= model.num_items()) {
        out.live_neighbors = co_occurring(g, out.item, request.num_results + request.excluded_item_ids.size() + 1);
      }
    }
    FilterRequest fr;
    fr.user = out.user;
    fr.current_item = out.item;
    if (request.filter) {
      fr.values = &request.filter_values;
      out.allowed = request.filter->evaluate(g, fr);
    }
    if (request.promotion) {
      fr.values = &request.promotion->filter_values;
      out.promoted_allowed = request.promotion->filter->evaluate(g, fr);
    }
    for (const std::string& id : request.excluded_item_ids) {
      const Index i = g.item_ids().find(id);
      if (i != kNoIndex) out.excluded.push_back(i);
    }
    return out;
  });
  if (similar) r.excluded.push_back(r.item);
  return r;
}

void Campaign::Impl::record(const RecommendationRequest& request, const RecommendationResponse& response) const {
  if (options_.recorded_recommendations == 0) return;
  RecommendationRecord rec;
  rec.recommendation_id = response.recommendation_id;
  rec.user_id = request.user_id;
  rec.item_id = request.item_id;
  for (const RecommendedItem& i : response.items) rec.items.push_back(i.item_id);
  rec.context = request.context;
  std::lock_guard<std::mutex> lock(records_mutex_);
  records_.push_back(std::move(rec));
  while (records_.size() > options_.recorded_recommendations) records_.pop_front();
}

std::vector<RecommendationRecord> Campaign::recent_recommendations() const {
  std::lock_guard<std::mutex> lock(impl_->records_mutex_);
  return {impl_->records_.begin(), impl_->records_.end()};
}

bool Campaign::Impl::dense_scoring(const RecommendationRequest& request, const Snapshot& snap, const Resolved& r) {
  const Model& model = *snap.version->model();
  const bool cold = request.item_id.empty() && model.personalized() && r.history.empty();
  return request.item_id.empty() && !cold && (snap.softmax_scores || !model.personalized());
}

UserQuery Campaign::Impl::user_query(const RecommendationRequest& request, const Snapshot& snap, const Resolved& r) {
  UserQuery q;
  q.user = r.user;
  q.history = r.history;
  q.weights = r.weights;
  q.refresh = r.user >= snap.history_lengths.size() || r.history_rows > snap.history_lengths[r.user];
  q.context = &request.context;
  return q;
}

RecommendationResponse Campaign::Impl::respond(const RecommendationRequest& request, const Snapshot& snap,
                                         Resolved& r, const Ranked* precomputed) const {
  const Model& model = *snap.version->model();
  const bool similar = !request.item_id.empty();
  // Score on the snapshot, without locks.
  RecommendationResponse response;
  response.recommendation_id = next_recommendation_id();
  const std::size_t k = request.num_results;
  const bool cold = !similar && model.personalized() && r.history.empty();
  response.cold_start = cold;

  struct Pick {
    Index item;
    float raw;
    bool softmax;  // gets a softmax score (back-filled items get none)
    bool promoted;
  };
  std::vector<Pick> picks;
  // Excluded or already picked: a short list (results and exclusions are capped at 500 each),
  // cheaper to search than a per-request flag array over the whole catalog is to clear.
  std::vector<Index> taken_list;
  auto taken = [&](Index i) { return std::find(taken_list.begin(), taken_list.end(), i) != taken_list.end(); };
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
    scorer = model.scorer(user_query(request, snap, r));
    bound = scorer->approximate_scores(owned);
    if (snap.softmax_scores) approximate.lse.add(owned.data(), owned.size());
    if (!model.personalized()) {
      owned.resize(r.catalog, 0.0f);  // items new since training start at zero
      for (const auto& [item, count] : live_counts(snap)) {
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
        top_k_within(*scorer, scores, score_count, bound, count, mask.allowed,
                     snap.softmax_scores ? &approximate : nullptr, top);
      } else {
        detail::top_k(scores, score_count, count, mask.allowed, top);
      }
    } else if (similar) {
      if (r.item < model.num_items()) {
        model.similar_items(r.item, count, mask, top);
      } else {
        for (const ScoredItem& n : r.live_neighbors) {
          if (top.size() < count && !taken(n.item) && (!mask.allowed || mask.allowed->test(n.item))) top.push_back(n);
        }
      }
    } else if (!cold) {
      UserQuery q;
      q.user = r.user;
      q.history = r.history;
      q.weights = r.weights;
      q.context = &request.context;
      model.recommend(q, count, mask, top);
    }
    for (const ScoredItem& s : top) {
      picks.push_back({s.item, s.score, snap.softmax_scores, promoted});
      take(s.item);
    }
    // Back-fill with popular items (and items newer than the model) so that a filter never
    // shortens the list while allowed items remain.
    std::size_t have = static_cast<std::size_t>(std::count_if(picks.begin(), picks.end(),
                                                              [&](const Pick& p) { return p.promoted == promoted; }));
    auto consider = [&](Index i) {
      if (have >= count || (allowed && !allowed->test(i)) || taken(i)) return;
      picks.push_back({i, 0.0f, false, promoted});
      take(i);
      ++have;
    };
    for (Index i : snap.popular) {
      if (have >= count) break;
      if (i < r.catalog) consider(i);
    }
    for (Index i = static_cast<Index>(snap.popular.size()); i < r.catalog && have < count; ++i) consider(i);
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
  std::vector<Pick> ordered(picks.begin() + static_cast<std::ptrdiff_t>(promoted_count), picks.end());
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

  // Names under a second short read lock.
  group_->read([&](const DatasetGroup& g) {
    for (const Pick& p : ordered) {
      RecommendedItem item;
      item.item_id = std::string(g.item_ids().name(p.item));
      if (p.softmax) item.score = std::exp(static_cast<double>(p.raw) - normaliser);
      item.raw_score = p.raw;
      if (p.promoted) item.promotion_name = request.promotion->name;
      response.items.push_back(std::move(item));
    }
    return 0;
  });
  return response;
}

RecommendationResponse Campaign::Impl::get_personalized_ranking(const RankingRequest& request) const {
  TAILOR_THROW_IF(request.user_id.empty(), ErrorCode::InvalidArgument, "a ranking request needs a user_id");
  TAILOR_THROW_IF(request.input_list.empty() || request.input_list.size() > CampaignLimits::kMaxInputList,
                  ErrorCode::InvalidArgument, "input_list must hold 1 to 500 item ids, found ",
                  request.input_list.size());
  check_context(request.context);
  const std::shared_ptr<const Snapshot> snap = snapshot();
  const Model& model = *snap->version->model();
  std::vector<Index> candidates;
  Resolved r = group_->read([&](const DatasetGroup& g) {
    Resolved out;
    out.catalog = g.item_ids().size();
    out.user = g.user_ids().find(request.user_id);
    if (out.user != kNoIndex) {
      solution_.user_history(g, out.user, out.history, out.weights);
      out.history_rows = g.interaction_rows_of(out.user).size();
    }
    if (request.filter) {
      FilterRequest fr;
      fr.user = out.user;
      fr.values = &request.filter_values;
      out.allowed = request.filter->evaluate(g, fr);
    }
    for (const std::string& id : request.input_list) candidates.push_back(g.item_ids().find(id));
    return out;
  });
  // The filter removes items from the list; ids the group does not know stay (as unknown).
  std::vector<std::size_t> positions;  // kept entries' positions in input_list
  std::vector<Index> kept;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const Index c = candidates[k];
    if (c != kNoIndex && r.allowed && !r.allowed->test(c)) continue;
    kept.push_back(c);
    positions.push_back(k);
  }
  UserQuery q;
  q.user = r.user;
  q.history = r.history;
  q.weights = r.weights;
  q.refresh = r.user == kNoIndex || r.user >= snap->history_lengths.size() ||
              r.history_rows > snap->history_lengths[r.user];
  q.context = &request.context;
  std::vector<RankedItem> ranked = rank_items(model, q, kept);
  std::vector<float> known;
  for (const RankedItem& x : ranked) {
    if (x.known) known.push_back(x.score);
  }
  const double normaliser = detail::log_sum_exp(known.data(), known.size());
  RecommendationResponse response;
  response.recommendation_id = next_recommendation_id();
  response.cold_start = r.history.empty() && model.personalized();
  // Map each ranked entry back to the caller's id: known ones by index, unknown ones in order.
  std::vector<char> used(kept.size(), 0);
  for (const RankedItem& x : ranked) {
    std::size_t at = 0;
    while (used[at] || (x.known ? kept[at] != x.item : kept[at] < model.num_items())) ++at;
    used[at] = 1;
    RecommendedItem item;
    item.item_id = request.input_list[positions[at]];
    if (x.known) {
      item.raw_score = x.score;
      item.score = std::exp(static_cast<double>(x.score) - normaliser);
    }
    response.items.push_back(std::move(item));
  }
  return response;
}

PutReport Campaign::Impl::put_events(const std::vector<EventRecord>& given) {
  // Implicit impressions: an event quoting a recorded recommendation without an impression list
  // gets the items that recommendation showed (up to the 25 an event may carry).
  std::vector<EventRecord> events = given;
  {
    std::lock_guard<std::mutex> lock(records_mutex_);
    for (EventRecord& e : events) {
      if (e.recommendation_id.empty() || !e.impression.empty()) continue;
      for (const RecommendationRecord& rec : records_) {
        if (rec.recommendation_id != e.recommendation_id) continue;
        e.impression.assign(rec.items.begin(), rec.items.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(25, rec.items.size())));
        break;
      }
    }
  }
  // Through the group's one write path: durable when the group lives in a Store; the campaign
  // hears of the new rows through its subscription (on_change).
  return group_->put_events(events);
}

void Campaign::Impl::on_change(const GroupChange& change) {
  if (change.kind == GroupChange::Kind::Entities) return;
  if (change.kind == GroupChange::Kind::Deleted) {
    // Row numbers moved and the model must forget the deleted users and items: serve the same
    // version again, which deploy() strips of them; live counts start again.
    {
      std::lock_guard<std::mutex> lock(live_mutex_);
      live_events_.clear();
    }
    const std::shared_ptr<const Snapshot> s = snapshot();
    const std::size_t rows = group_->read([](const DatasetGroup& g) { return g.interactions().size(); });
    deploy(*s->version, s->history_lengths, rows);
    return;
  }
  if (change.kind == GroupChange::Kind::Replaced) {
    // Row numbers may have moved: the live counts so far no longer name the right rows (the
    // popular list is rebuilt at the next deploy).
    std::lock_guard<std::mutex> lock(live_mutex_);
    live_events_.clear();
    return;
  }
  // Popularity counts distinct users per item: an event counts when the user had not interacted
  // with the item before. Changes arrive one at a time, so the rows read here are the new ones.
  std::vector<std::pair<Index, std::uint32_t>> counted = group_->read([&](const DatasetGroup& g) {
    std::vector<std::pair<Index, std::uint32_t>> out;
    const Interactions& in = g.interactions();
    for (std::size_t row = change.first_row; row < in.size(); ++row) {
      const Index user = in.users()[row], item = in.items()[row];
      bool seen = false;
      for (std::uint32_t other : g.interaction_rows_of(user)) {
        if (other < row && in.items()[other] == item) {
          seen = true;
          break;
        }
      }
      if (!seen) out.emplace_back(item, static_cast<std::uint32_t>(row));
    }
    return out;
  });
  {
    std::lock_guard<std::mutex> lock(live_mutex_);
    live_events_.insert(live_events_.end(), counted.begin(), counted.end());
  }
  const std::size_t total = events_since_training_ += change.events;
  const bool by_count = options_.retrain_every_events > 0 && total >= options_.retrain_every_events;
  const bool by_time = options_.retrain_every_seconds > 0 && change.events > 0 &&
                       seconds_now() - last_training_seconds_.load() >= options_.retrain_every_seconds;
  if (by_count || by_time) retrain_async();
}

SolutionVersion Campaign::Impl::train_and_deploy() {
  struct Copy {
    EventColumns events;
    Index users = 0, items = 0;
    std::vector<std::uint32_t> lengths;
    std::size_t rows = 0;
  };
  Copy c = group_->read([&](const DatasetGroup& g) {
    Copy out;
    out.events = solution_.select_events(g);
    out.users = g.user_ids().size();
    out.items = g.item_ids().size();
    std::tie(out.lengths, out.rows) = history_lengths(g);
    return out;
  });
  events_since_training_ = 0;
  last_training_seconds_ = seconds_now();
  // UPDATE extends the version being served; hold it so that a concurrent deploy cannot free it.
  const std::shared_ptr<const SolutionVersion> served = snapshot()->version;
  SolutionVersion trained =
      solution_.train(std::move(c.events), c.users, c.items, options_.training,
                      options_.training.mode == TrainingMode::Update ? served.get() : nullptr);
  deploy(trained, std::move(c.lengths), c.rows);  // a copy shares the model
  return trained;
}

void Campaign::Impl::retrain() {
  auto failed = [this](const std::string& error) {
    {
      std::lock_guard<std::mutex> lock(retrain_error_mutex_);
      last_retrain_error_ = error;
    }
    if (options_.on_retrain_error) options_.on_retrain_error(error);  // no lock held
  };
  std::optional<SolutionVersion> trained;
  try {
    trained = train_and_deploy();
  } catch (const std::exception& e) {
    failed(e.what());
    throw;
  } catch (...) {
    failed("retrain failed with an unknown exception");
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(retrain_error_mutex_);
    last_retrain_error_.reset();
  }
  if (options_.on_retrain_success) options_.on_retrain_success(*trained);  // no lock held
}

bool Campaign::Impl::retrain_async() {
  // Checked before the lock too: a callback on the retrain thread (or put_events() from it) must
  // not wait for the lock that wait_for_retrain() holds while joining that thread.
  if (retraining_.load()) return false;
  std::lock_guard<std::mutex> lock(retrain_mutex_);
  if (retraining_.load()) return false;
  if (retrain_thread_.joinable()) retrain_thread_.join();
  retraining_ = true;
  retrain_thread_ = std::thread([this] {
    try {
      retrain();
    } catch (...) {
      // Reported by retrain() (last_retrain_error(), on_retrain_error); the served version
      // stays. Nothing may escape the thread, a callback's own exception included.
    }
    retraining_ = false;
  });
  return true;
}

void Campaign::Impl::wait_for_retrain() {
  std::lock_guard<std::mutex> lock(retrain_mutex_);
  if (retrain_thread_.joinable()) retrain_thread_.join();
}

}  // namespace tailor
