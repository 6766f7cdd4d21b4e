// SPDX-License-Identifier: MIT
// Campaign: request resolution under a short read lock, scoring on an immutable snapshot without
// any lock (respond.cpp), and names looked up under a second short read lock.
#include "tailor/serving/campaign.hpp"

#include <charconv>
#include <cmath>
#include <utility>

#include "serving/campaign_impl.hpp"
#include "serving/candidates.hpp"
#include "serving/live_popularity.hpp"
#include "serving/request_checks.hpp"
#include "serving/softmax.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/ranking.hpp"

namespace tailor {

Campaign::Impl::Impl(std::shared_ptr<LiveDatasetGroup> group, Solution solution,
                     CampaignOptions options)
    : group_(std::move(group)),
      solution_(std::move(solution)),
      options_(std::move(options)),
      records_(options_.recorded_recommendations, this) {
  TAILOR_THROW_IF(!group_, ErrorCode::InvalidArgument, "a campaign needs a dataset group");
}

Campaign::Impl::~Impl() {
  closing_ = true;
  subscription_.reset();  // no change reaches a campaign being destroyed
  wait_for_retrain();
}

Campaign::Campaign(std::shared_ptr<LiveDatasetGroup> group, Solution solution,
                   SolutionVersion version, CampaignOptions options)
    : impl_(std::make_unique<Impl>(std::move(group), std::move(solution), std::move(options))) {
  Impl& m = *impl_;
  // Subscribe first, so that no change between reading the group and subscribing goes unseen.
  m.subscription_ = m.group_->subscribe([&m](const GroupChange& change) { m.on_change(change); });
  auto [lengths, rows] = m.group_->read(detail::history_lengths);
  m.deploy(std::move(version), std::move(lengths), rows);
  m.mark_trained();
}

Campaign::Campaign(std::shared_ptr<LiveDatasetGroup> group, SolutionVersion version,
                   CampaignOptions options)
    // A copy, not a move: the order in which the two arguments are made is unspecified.
    : Campaign(std::move(group), Solution(version.config()), version, std::move(options)) {}

Campaign::~Campaign() = default;

RecommendationResponse Campaign::get_recommendations(const RecommendationRequest& request) const {
  const std::shared_ptr<const Impl::Snapshot> snap = impl_->snapshot();
  Impl::Resolved r = impl_->resolve(request, *snap);
  // The ordered catalog's early stop reads a few thousand items where the serving scan reads
  // them all.
  Impl::Ranked ranked;
  const bool by_blocks = detail::rank_by_blocks(*snap, request, r, ranked);
  RecommendationResponse response =
      impl_->respond(request, *snap, r, by_blocks ? &ranked : nullptr);
  impl_->records_.record(request, response);
  return response;
}

std::shared_ptr<const SolutionVersion> Campaign::version() const {
  return impl_->snapshot()->version;
}
const Solution& Campaign::solution() const { return impl_->solution_; }
const std::shared_ptr<LiveDatasetGroup>& Campaign::group() const { return impl_->group_; }
RecommendationResponse Campaign::get_personalized_ranking(const RankingRequest& request) const {
  return impl_->get_personalized_ranking(request);
}
PutReport Campaign::put_events(const std::vector<EventRecord>& events) {
  return impl_->put_events(events);
}
void Campaign::deploy(SolutionVersion version) { impl_->deploy(std::move(version)); }
void Campaign::retrain() { impl_->retrain(); }
bool Campaign::retrain_async() { return impl_->retrain_async(); }
void Campaign::wait_for_retrain() { impl_->wait_for_retrain(); }
PutReport Campaign::put_users(const std::vector<EntityRecord>& users) {
  return impl_->group_->put_users(users);
}
PutReport Campaign::put_items(const std::vector<EntityRecord>& items) {
  return impl_->group_->put_items(items);
}

std::vector<RecommendationRecord> Campaign::recent_recommendations() const {
  return impl_->records_.recent();
}

std::optional<std::string> Campaign::last_retrain_error() const {
  std::lock_guard<std::mutex> lock(impl_->retrain_error_mutex_);
  return impl_->last_retrain_error_;
}

namespace {

// Requested metadata columns must be fields of the items dataset.
void check_metadata_columns(const DatasetGroup& g, const std::vector<std::string>& columns) {
  TAILOR_THROW_IF(!g.items(), ErrorCode::InvalidArgument,
                  "metadata_columns: the dataset group has no items dataset");
  for (const std::string& c : columns) {
    TAILOR_THROW_IF(!g.items()->column(c), ErrorCode::InvalidArgument, "metadata_columns: \"", c,
                    "\" is not a field of the items dataset");
  }
}

std::string cell_text(const Column& c, std::uint32_t row) {
  const Field& f = c.field();
  if (f.categorical) {
    std::string out;
    for (Index code : c.codes_at(row)) {
      if (!out.empty()) out += '|';
      out += c.dictionary().name(code);
    }
    return out;
  }
  if (f.type == FieldType::Boolean) return c.bool_at(row) ? "true" : "false";
  if (f.is_integral()) return std::to_string(c.int_at(row));
  if (f.is_numeric()) {
    // The shortest text that reads back as the value: 0.1 stays "0.1" (17 digits gave
    // "0.10000000000000001").
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, c.number_at(row));
    return std::string(buffer, result.ptr);
  }
  return std::string(c.text_at(row));
}

}  // namespace

void Campaign::Impl::add_metadata(const DatasetGroup& g, const std::vector<std::string>& columns,
                                  const std::vector<Index>& items,
                                  RecommendationResponse& response) {
  if (columns.empty() || !g.items()) return;
  for (std::size_t k = 0; k < items.size() && k < response.items.size(); ++k) {
    const std::uint32_t row =
        items[k] == kNoIndex ? EntityTable::kNoRow : g.items()->row_of(items[k]);
    if (row == EntityTable::kNoRow) continue;
    for (const std::string& name : columns) {
      const Column* c = g.items()->column(name);
      if (c && row < c->size() && !c->is_null(row))
        response.items[k].metadata.emplace_back(name, cell_text(*c, row));
    }
  }
}

std::shared_ptr<const detail::ContentIndex> Campaign::Impl::content(const DatasetGroup& g,
                                                                    const Snapshot& snap,
                                                                    bool similar) const {
  const Model& model = *snap.version->model();
  const ServingSettings settings = model.serving_settings();
  const ItemVectorSpace* space = model.item_vectors();
  const bool uses = (space && space->attribute_mapping()) || settings.recency_half_life > 0;
  if (!g.items() || !(similar || uses)) return nullptr;
  // Events only move item exposure and "now": they refresh the index at most once a second,
  // so that a stream of events does not rebuild it for every request.
  auto fresh = [&](const std::shared_ptr<const ContentCache>& c) {
    // An event may name an item the group has not seen: the index must then cover it at once.
    if (!c || c->model != &model || c->generation != content_generation_.load() ||
        c->index->catalog != g.item_ids().size() || (similar && !c->index->tfidf_built))
      return false;
    return c->events == content_events_.load() ||
           std::chrono::steady_clock::now() - c->built_at < std::chrono::seconds(1);
  };
  std::shared_ptr<const ContentCache> cache = std::atomic_load(&content_);
  if (fresh(cache)) return cache->index;
  std::lock_guard<std::mutex> lock(content_mutex_);
  cache = std::atomic_load(&content_);
  if (fresh(cache)) return cache->index;  // another request rebuilt it meanwhile
  auto built = std::make_shared<ContentCache>();
  built->model = &model;
  built->generation = content_generation_.load();
  built->events = content_events_.load();
  built->built_at = std::chrono::steady_clock::now();
  built->index =
      detail::build_content_index(g, model, settings.exploration_item_age_cut_off, similar);
  std::atomic_store(&content_, std::shared_ptr<const ContentCache>(built));
  return built->index;
}

std::shared_ptr<const Campaign::Impl::Snapshot> Campaign::Impl::snapshot() const {
  return std::atomic_load(&snapshot_);
}

void Campaign::Impl::deploy(SolutionVersion version) {
  auto [lengths, rows] = group_->read(detail::history_lengths);
  deploy(std::move(version), std::move(lengths), rows);
}

void Campaign::Impl::deploy(SolutionVersion version, std::vector<std::uint32_t> history_lengths,
                            std::size_t rows) {
  // Whatever deploys (a retrain that copied its events before a deletion included), the model
  // served forgets every deleted user and item. Deploys are serialised so that one that read the
  // deleted sets before a deletion cannot land after the deletion's own.
  std::lock_guard<std::mutex> deploying(deploy_mutex_);
  auto [deleted_users, deleted_items] = group_->read([](const DatasetGroup& g) {
    return std::make_pair(g.deleted_users().set_indices(), g.deleted_items().set_indices());
  });
  if (!deleted_users.empty() || !deleted_items.empty()) {
    version = version.with_model(version.model()->without(deleted_users, deleted_items));
  }
  auto s = std::make_shared<Snapshot>();
  s->softmax_scores = version.model()->score_kind() == ScoreKind::Softmax;
  s->version = std::make_shared<const SolutionVersion>(std::move(version));
  s->history_lengths = std::move(history_lengths);
  s->trained_rows = rows;
  s->popular = group_->read(detail::popular_items);
  // The ordered catalog requests rank by (detail::rank_by_blocks), made now rather than on the
  // first request.
  const BlockScorer* blocks = s->version->model()->block_scorer();
  if (blocks && s->softmax_scores && blocks->approximate_state_size() > 0)
    blocks->ordered_catalog();
  live_.forget_before(rows);  // events the new version was trained on no longer count as live
  ++content_generation_;
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(s)));
}

Campaign::Impl::Resolved Campaign::Impl::resolve(const RecommendationRequest& request,
                                                 const Snapshot& snap,
                                                 const std::vector<std::string>* input_list) const {
  detail::check_request(request);
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
      const std::size_t want = request.num_results + request.excluded_item_ids.size() + 1;
      out.content = content(g, snap, true);
      if (out.content && out.content->tfidf && out.item < out.content->interactions.size() &&
          out.content->interactions[out.item] < detail::kContentSettle) {
        // An item with few interactions: its metadata's neighbours, blended with co-occurrence.
        out.live_neighbors = detail::content_neighbors(
            *out.content, out.item, detail::co_occurring(g, out.item, want), want);
        out.live_similar = true;
      } else if (out.item >= model.num_items()) {
        out.live_neighbors = detail::co_occurring(g, out.item, want);
        out.live_similar = true;
      }
    } else {
      out.content = content(g, snap, false);
    }
    if (!request.metadata_columns.empty()) check_metadata_columns(g, request.metadata_columns);
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
    if (input_list) {
      for (const std::string& id : *input_list) out.candidates.push_back(g.item_ids().find(id));
    }
    return out;
  });
  if (similar) r.excluded.push_back(r.item);
  return r;
}

RecommendationResponse Campaign::Impl::get_personalized_ranking(
    const RankingRequest& request) const {
  detail::check_request(request);
  // The user, history and filter resolve as a recommendation request's do; the list's ids under
  // the same read lock.
  RecommendationRequest user_request;
  user_request.user_id = request.user_id;
  user_request.filter = request.filter;
  user_request.filter_values = request.filter_values;
  user_request.context = request.context;
  user_request.metadata_columns = request.metadata_columns;
  const std::shared_ptr<const Snapshot> snap = snapshot();
  const Model& model = *snap->version->model();
  const Resolved r = resolve(user_request, *snap, &request.input_list);
  const std::vector<Index>& candidates = r.candidates;
  // The filter removes items from the list; ids the group does not know stay (as unknown).
  std::vector<std::size_t> positions;  // kept entries' positions in input_list
  std::vector<Index> kept;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const Index c = candidates[k];
    if (c != kNoIndex && r.allowed && !r.allowed->test(c)) continue;
    kept.push_back(c);
    positions.push_back(k);
  }
  std::vector<RankedItem> ranked = rank_items(model, user_query(r, *snap, request.context), kept);
  // Items put after training are scored from their metadata (the attribute mapping of the
  // model's ItemVectorSpace), then the list is ranked again.
  if (r.content) {
    bool changed = false;
    // Old items down-weighted (ServingSettings::recency_half_life), then re-ranked.
    const float h = model.serving_settings().recency_half_life;
    if (h > 0) {
      for (RankedItem& x : ranked) {
        if (x.known) x.score -= r.content->penalty(x.item, h);
      }
      changed = true;
    }
    // Mapped vectors exist only for a model with an ItemVectorSpace (build_content_index).
    const ItemVectorSpace* space = model.item_vectors();
    std::vector<float> u;
    for (RankedItem& x : ranked) {
      const float* v =
          x.known || x.item == kNoIndex || !space ? nullptr : r.content->mapped_factors(x.item);
      if (!v) continue;
      if (u.empty()) {
        u.resize(space->dimensions());
        space->user_vector(user_query(r, *snap, request.context), u.data());
      }
      x.score = detail::dot(v, u.data(), u.size());
      if (h > 0) x.score -= r.content->penalty(x.item, h);
      x.known = changed = true;
    }
    if (changed) {
      std::stable_sort(ranked.begin(), ranked.end(), [](const RankedItem& a, const RankedItem& b) {
        if (a.known != b.known) return a.known;
        return a.known && a.score > b.score;
      });
    }
  }
  std::vector<float> known;
  for (const RankedItem& x : ranked) {
    if (x.known) known.push_back(x.score);
  }
  const double normaliser = detail::log_sum_exp(known.data(), known.size());
  RecommendationResponse response;
  response.recommendation_id = records_.next_id();
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
      // A softmax over the list, for models whose responses carry scores (Model::score_kind).
      if (snap->softmax_scores) item.score = std::exp(static_cast<double>(x.score) - normaliser);
    }
    response.items.push_back(std::move(item));
  }
  if (!request.metadata_columns.empty()) {
    std::vector<Index> shown;
    for (const RankedItem& x : ranked) shown.push_back(x.item);
    group_->read([&](const DatasetGroup& g) {
      add_metadata(g, request.metadata_columns, shown, response);
      return 0;
    });
  }
  return response;
}

PutReport Campaign::Impl::put_events(const std::vector<EventRecord>& given) {
  // Implicit impressions: an event quoting a recorded recommendation without an impression list
  // gets the items that recommendation showed.
  std::vector<EventRecord> events = given;
  records_.add_impressions(events);
  // Through the group's one write path: durable when the group lives in a Store; the campaign
  // hears of the new rows through its subscription (on_change).
  return group_->put_events(events);
}

void Campaign::Impl::on_change(const GroupChange& change) {
  // Ages, exposure and metadata may have changed.
  ++(change.kind == GroupChange::Kind::Appended ? content_events_ : content_generation_);
  if (change.kind == GroupChange::Kind::Entities) return;
  if (change.kind == GroupChange::Kind::Deleted) {
    // Row numbers moved and the model must forget the deleted users and items: serve the same
    // version again, which deploy() strips of them; live counts start again.
    live_.clear();
    const std::shared_ptr<const Snapshot> s = snapshot();
    const std::size_t rows =
        group_->read([](const DatasetGroup& g) { return g.interactions().size(); });
    deploy(*s->version, s->history_lengths, rows);
    return;
  }
  if (change.kind == GroupChange::Kind::Replaced) {
    // Row numbers may have moved: the live counts so far no longer name the right rows (the
    // popular list is rebuilt at the next deploy).
    live_.clear();
    return;
  }
  // Changes arrive one at a time, so the rows read here are the new ones.
  group_->read([&](const DatasetGroup& g) { live_.add_rows(g, change.first_row); });
  count_events(change.events);
}

}  // namespace tailor
