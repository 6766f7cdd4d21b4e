// SPDX-License-Identifier: MIT
// Model: what a trained recipe answers. Campaigns, batch jobs, metrics and benchmarks talk only
// to this interface.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tailor/bitmap.hpp"
#include "tailor/export.hpp"
#include "tailor/recipes/model_archive.hpp"
#include "tailor/types.hpp"

namespace tailor {

struct AttributeMapping;  // tailor/recipes/item_features.hpp
namespace detail {
class OrderedCatalog;  // internal to tailor's own recipes
}

/// The user a request is for.
struct UserQuery {
  /// The user's dataset-group index, or kNoIndex for an anonymous or brand-new user.
  Index user = kNoIndex;
  /// Items the user interacted with (group indices), any order; may repeat.
  Span<Index> history;
  /// Weight per history entry (same length), or empty for weight 1 each.
  Span<float> weights;
  /// Re-derive the user's model state from `history` even if the model knows the user (a user
  /// who sent events since training).
  bool refresh = false;
  /// The request's context key/values (e.g. DEVICE=phone), for recipes that use it; the built-in
  /// recipes do not.
  const std::vector<std::pair<std::string, std::string>>* context = nullptr;
};

/// Which items a recommendation may contain.
struct ItemMask {
  /// Allowed items (nullptr: all). Items past its size are not allowed.
  const Bitmap* allowed = nullptr;
  /// Items never returned (e.g. what the user already read); any order.
  Span<Index> excluded;
};

/// How far UserScorer::approximate_scores() may be from score_all(): for every item i,
/// |approximate_i − exact_i| ≤ scale · radii[i]. A scale of 0 means the scores are exact.
struct ScoreBound {
  float scale = 0;
  /// num_items() radii, owned by the model (valid while it lives); null when scale is 0.
  const float* radii = nullptr;
  float max_radius = 0;  ///< the largest of the radii

  bool exact() const { return scale == 0; }
  /// The bound of one item's score.
  float of(Index item) const { return exact() ? 0.0f : scale * radii[item]; }
  /// The bound of every item's score.
  float max() const { return scale * max_radius; }
};

/// One user's scores, for a request that asks for them more than once: whatever the model
/// derives from the query (an ALS user's vector, folded in from a history at the cost of a
/// factors × factors solve) is derived once, when the scorer is made.
///
/// Thread safety: const members are safe to call concurrently. A scorer refers to its model and
/// to the query's history, which must outlive it.
class TAILOR_EXPORT UserScorer {
 public:
  virtual ~UserScorer() = default;
  /// Model::score_all() for the user.
  virtual void score_all(std::vector<float>& scores) const = 0;
  /// Model::score() for the user: equal to score_all()'s scores of those items.
  virtual void score(Span<Index> items, std::vector<float>& scores) const = 0;
  /// Scores of every item, each within the returned bound of score_all()'s, for serving: it ranks
  /// the few items whose scores could reach its top k by their exact scores (score()), so a model
  /// may scan a compact copy of its factors here. The default is score_all(), exact.
  virtual ScoreBound approximate_scores(std::vector<float>& scores) const {
    score_all(scores);
    return {};
  }
};

/// What Personalize's `score` field of a response holds for a model's recommendations.
enum class ScoreKind {
  None,     ///< no score (popularity and trending lists, similar items)
  Softmax,  ///< a softmax of the model's scores over the whole catalog (over the list for ranking)
};

/// Scores many users at once, for batch jobs: a user is reduced to a fixed-size state vector
/// (an ALS user's factors), and blocks of states are scored against chunks of the catalog, so one
/// pass over the model's item data serves many users.
///
/// Thread safety: const members are safe to call concurrently.
class TAILOR_EXPORT BlockScorer {
 public:
  virtual ~BlockScorer() = default;
  /// Floats in one user's state.
  virtual std::size_t state_size() const = 0;
  /// Writes the user's state (state_size() floats) to `state`.
  virtual void user_state(const UserQuery& query, float* state) const = 0;
  /// Chunks passed to score_block() start at a multiple of this many items, and row strides are
  /// multiples of it.
  virtual Index chunk_alignment() const { return 1; }
  /// Scores of `users_count` users (their states are consecutive rows of `states`) for items
  /// [first, first + count): row j of `out` (stride `out_stride`, at least `count` rounded up to
  /// chunk_alignment()) gets user j's scores, equal to Model::score_all()'s. Entries of a row
  /// past `count` are scratch.
  virtual void score_block(const float* states, std::size_t users_count, Index first, Index count,
                           float* out, std::size_t out_stride) const = 0;
  /// Exact scores of `items` (each < the model's num_items()) for the user whose state is
  /// `state`: out[j] equal to score_block()'s score of items[j]. The default scores each item's
  /// aligned chunk with score_block().
  virtual void score_items(const float* state, Span<Index> items, float* out) const;

  /// Floats in one user's approximate state, or 0 (the default) when the scorer has no
  /// approximate scores for blocks on the CPU target in force. Batch jobs then rank as a single
  /// request does (UserScorer::approximate_scores): approximate scores of the whole catalog
  /// (approximate_block()), the exact scores (score_items()) of the few items whose bounds can
  /// reach the top.
  virtual std::size_t approximate_state_size() const { return 0; }
  /// Writes the approximate state of the user whose state() is `state` to `approximate`
  /// (approximate_state_size() floats) and returns how far that user's approximate scores may
  /// be from score_block()'s; an exact bound (scale 0) when the user has no approximate state
  /// (then score them with score_block()). The default has none.
  virtual ScoreBound approximate_state(const float* state, float* approximate) const {
    (void)state;
    (void)approximate;
    return {};
  }
  /// score_block() on approximate states: row j gets user j's approximate scores, each within
  /// the bound approximate_state() returned for the user. Only called when
  /// approximate_state_size() is not 0; the default throws InvalidArgument.
  virtual void approximate_block(const float* approximate_states, std::size_t users_count,
                                 Index first, Index count, float* out,
                                 std::size_t out_stride) const;
  /// Internal to tailor's own recipes; a plug-in keeps the default, null. The catalog in
  /// decreasing order of item norm with its moments, for a scorer whose scores are dot products
  /// of the approximate states' users and the items: batch jobs then scan each user's catalog
  /// in that order and stop once no item left can reach the user's top k.
  virtual const detail::OrderedCatalog* ordered_catalog() const { return nullptr; }
};

/// How serving treats a model's recommendations beyond its scores, from its solution's parameters
/// (a recipe copies them from its own, as user-personalization does from AlsParams). The
/// defaults change nothing: no recency, no exploration.
struct ServingSettings {
  /// When > 0, recommendations and rankings lower an item's score by ln 2 per this many days of
  /// age (the items' CREATION_TIMESTAMP), so that its softmax share halves every half-life; 0
  /// leaves scores alone.
  float recency_half_life = 0.0f;
  /// Share of a request's slots (at most round(weight × numResults)) given to exploring new
  /// items, as Personalize's explorationWeight; requests may override it. Exploration needs the
  /// model's ItemVectorSpace with an attribute mapping.
  float exploration_weight = 0.0f;
  /// Items younger than this many days may be explored (and get vectors from their metadata),
  /// as Personalize's explorationItemAgeCutOff; requests may override it.
  float exploration_item_age_cut_off = 30.0f;
};

/// The space of a model that scores an item for a user by the dot product of a user vector and
/// the item's vector (ALS's factors), and that may map item metadata into it. Serving uses it
/// for items the model has not learnt from interactions: an item put after training, or a new
/// one, gets the vector attribute_mapping() gives its metadata, is scored u·v and ranked with
/// the model's own items, and exploration ranks new items by u·v.
///
/// Thread safety: const members are safe to call concurrently.
class TAILOR_EXPORT ItemVectorSpace {
 public:
  virtual ~ItemVectorSpace() = default;
  /// Floats in a user's and an item's vector.
  virtual std::size_t dimensions() const = 0;
  /// The vector of item `item` < Model::num_items() (dimensions() floats, owned by the model).
  virtual const float* item_vector(Index item) const = 0;
  /// Writes the vector of the request's user (dimensions() floats) to `out`: Model::score() of
  /// a trained item is its dot product with item_vector().
  virtual void user_vector(const UserQuery& query, float* out) const = 0;
  /// The mapping from item metadata to vectors (its weights have dimensions() columns), owned by
  /// the model, or null when the model maps no metadata (then serving neither scores items put
  /// after training nor explores).
  virtual const AttributeMapping* attribute_mapping() const { return nullptr; }
};

/// A trained model.
///
/// Thread safety: all const members are safe to call concurrently; a model is immutable once
/// trained.
class TAILOR_EXPORT Model {
 public:
  virtual ~Model() = default;

  /// Registry name of the recipe that trained it, e.g. "user-personalization": the recipe whose
  /// loader (RecipeRegistry::add) reads back what save() writes.
  virtual const std::string& recipe() const = 0;
  /// Items the model can score: indices [0, num_items()).
  virtual Index num_items() const = 0;
  /// Users the model was trained with: indices [0, num_users()).
  virtual Index num_users() const = 0;
  /// Whether scores depend on the user (false for popularity and trending).
  virtual bool personalized() const = 0;
  /// What responses report as an item's score; the default reports none.
  virtual ScoreKind score_kind() const { return ScoreKind::None; }
  /// A scorer of many users at once for batch jobs, owned by the model, or null (the default)
  /// when the model scores one user at a time.
  virtual const BlockScorer* block_scorer() const { return nullptr; }
  /// What serving does beyond the scores (recency, exploration); the default does nothing.
  virtual ServingSettings serving_settings() const { return {}; }
  /// The model's user and item vectors, owned by the model, or null (the default) when its
  /// scores are not dot products of vectors.
  virtual const ItemVectorSpace* item_vectors() const { return nullptr; }

  /// Score of every item for the user; `scores` gets num_items() entries, higher is better.
  virtual void score_all(const UserQuery& query, std::vector<float>& scores) const = 0;
  /// Scores of the given items (each < num_items()), equal to score_all()'s; the default scores
  /// all items and picks.
  virtual void score(const UserQuery& query, Span<Index> items, std::vector<float>& scores) const;

  /// The scorer of one user. The default asks score_all() and score() with the query each time.
  virtual std::unique_ptr<UserScorer> scorer(const UserQuery& query) const;

  /// The best k items for the user within `mask`, best first, ties by lower index.
  virtual void recommend(const UserQuery& query, std::size_t k, const ItemMask& mask,
                         std::vector<ScoredItem>& out) const;

  /// Why the user gets these items: for each of `items` (each < num_items()), at most k entries
  /// of the user's history that contribute most to its score, largest first, each with its
  /// contribution as the score. `out` gets one list per item. The default explains nothing
  /// (every list empty): a model says how its scores decompose, if they do.
  virtual void explain(const UserQuery& query, Span<Index> items, std::size_t k,
                       std::vector<std::vector<ScoredItem>>& out) const {
    (void)query;
    (void)k;
    out.assign(items.size(), {});
  }

  /// Whether similar_items() is supported.
  virtual bool has_similar_items() const { return false; }
  /// Items most similar to `item`, best first.
  /// @throws tailor::Error(InvalidArgument) when unsupported, NotFound for an unknown item
  virtual void similar_items(Index item, std::size_t k, const ItemMask& mask,
                             std::vector<ScoredItem>& out) const;

  /// A copy without these users and items (data deletion): what it learnt of each of them alone
  /// (an ALS user's or item's factors, an item's neighbour list, its count) is gone, and the
  /// items score -infinity, so the copy never recommends them. Indices the model does not know
  /// are ignored; the rest of the model is unchanged.
  /// A store refuses to delete users or items (changing nothing) while it keeps a version whose
  /// model cannot forget.
  /// @throws tailor::Error(InvalidArgument) for a model that cannot forget (the default)
  virtual std::shared_ptr<const Model> without(Span<Index> users, Span<Index> items) const;

  /// Writes the model into `archive`, from which its recipe's loader (RecipeRegistry::load)
  /// makes an equal model: how a solution version is saved.
  /// @throws tailor::Error(InvalidArgument) for a model that cannot be saved (the default)
  virtual void save(ModelArchive& archive) const;

 protected:
  /// Best k of `scores` within `mask` (shared by recommend() implementations).
  static void select_top_k(std::vector<float>& scores, std::size_t k, const ItemMask& mask,
                           std::vector<ScoredItem>& out);
};

/// Progress of a training run, reported through TrainContext::progress.
struct TrainingProgress {
  std::string stage;  ///< e.g. "als", "item-knn", "metrics"
  int iteration = 0;  ///< 1-based step within the stage
  int total = 0;      ///< steps in the stage
  double loss = -1;   ///< the objective, or -1 when the stage has none
  double elapsed_seconds = 0;
};

/// How a recipe trains.
struct TrainContext {
  ExecutionOptions execution;
  /// Called after each step; may be empty. Runs on the training thread.
  std::function<void(const TrainingProgress&)> progress;
};

}  // namespace tailor
