// SPDX-License-Identifier: MIT
// Campaign: real-time recommendations from one solution version, with live updates and
// retraining swapped in without pausing readers.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tailor/error.hpp"
#include "tailor/export.hpp"
#include "tailor/filters/filter.hpp"
#include "tailor/limits.hpp"  // CampaignLimits
#include "tailor/serving/live_group.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor {

/// A promotion: a share of the slots filled by items of its own filter.
struct Promotion {
  std::string name;                ///< 1-63 characters, [A-Za-z0-9][A-Za-z0-9_-]*
  int percent_promoted_items = 0;  ///< 1-100
  std::optional<Filter> filter;    ///< which items may be promoted (required)
  FilterValues filter_values;
};

/// A get_recommendations request.
struct RecommendationRequest {
  std::string user_id;  ///< for "recommended for you" (unknown users get popular items)
  std::string item_id;  ///< for similar items (recipe sims)
  std::size_t num_results = 25;
  std::optional<Filter> filter;  ///< optional (a Filter is a cheap handle: copying shares it)
  FilterValues filter_values;
  std::vector<std::pair<std::string, std::string>> context;  ///< recorded and passed on
  std::vector<std::string> excluded_item_ids;                ///< never returned
  std::optional<Promotion> promotion;
  /// Overrides the model's exploration_weight (0-1, ServingSettings) for this request.
  std::optional<float> exploration_weight;
  /// Overrides the solution's exploration_item_age_cut_off (days, >= 0) for this request.
  std::optional<float> exploration_item_age_cut_off;
  /// Items fields returned with each item (Personalize's metadataColumns), at most 10.
  std::vector<std::string> metadata_columns;
  /// Give each item its reasons (RecommendedItem::reason); off by default, as it costs a solve
  /// per item for user-personalization.
  bool explain = false;
};

/// A get_personalized_ranking request.
struct RankingRequest {
  std::string user_id;
  std::vector<std::string> input_list;  ///< up to 500 item ids
  std::optional<Filter> filter;         ///< optional
  FilterValues filter_values;
  std::vector<std::pair<std::string, std::string>> context;
  /// Items fields returned with each item (Personalize's metadataColumns), at most 10.
  std::vector<std::string> metadata_columns;
};

/// One recommended item.
struct RecommendedItem {
  std::string item_id;
  /// Personalize's score: a softmax over the whole catalog for user-personalization, over the
  /// list for personalized ranking; absent for recipes without scores and for items the model
  /// does not know. A catalog's softmax normaliser may come from approximate scores of the items
  /// not ranked: it is within the approximation's bound of the exact one (README, "How a
  /// user-personalization request is scored").
  std::optional<double> score;
  float raw_score = 0;         ///< the model's own score (0 for back-filled or unknown items)
  std::string promotion_name;  ///< set for promoted items
  /// Set for an item in one of the slots exploration gave to new items (exploration_weight).
  bool explored = false;
  /// The requested metadata columns of the item, in the request's order; a null value is left
  /// out. Values are text: categorical values joined by `|`, numbers in decimal.
  std::vector<std::pair<std::string, std::string>> metadata;
  /// Why the item is here, when the request asked (RecommendationRequest::explain), as
  /// Personalize's "reason" list: "Promoted item", "Popular item" (back-fill), "Exploration"
  /// (exploration), "Similar to ID" (similar items), or the history items that contribute most to
  /// its score (Model::explain), each as "Interacted with ID (contribution 0.123)".
  std::vector<std::string> reason;
};

/// A response: items best first, and a recommendation id unique to this response.
struct RecommendationResponse {
  std::vector<RecommendedItem> items;
  std::string recommendation_id;
  bool cold_start = false;  ///< the user was unknown (or had no events): popular items
};

/// What a campaign answered, kept for a while (Personalize records recommendations so that events
/// quoting their recommendation id count as impressions).
struct RecommendationRecord {
  std::string recommendation_id;
  std::string user_id;
  std::string item_id;
  std::vector<std::string> items;
  std::vector<std::pair<std::string, std::string>> context;
};

/// Campaign settings.
struct CampaignOptions {
  /// Recent responses kept in memory (RecommendationRecord); 0 keeps none.
  std::size_t recorded_recommendations = 1000;
  /// How retraining trains (metrics off by default: serving needs the model, not the split).
  TrainOptions training = [] {
    TrainOptions t;
    t.compute_metrics = false;
    return t;
  }();
  /// Retrain by itself after this many new events (0: never).
  std::size_t retrain_every_events = 0;
  /// Retrain by itself when an event arrives this long after the last training (0: never).
  double retrain_every_seconds = 0;
  /// Called when a retrain fails (the served version stays), with the error's message; a
  /// background retrain calls it on its own thread. No campaign lock is held during the call, so
  /// requests and put_*() go on; it must not throw, call wait_for_retrain() or destroy the
  /// campaign (retrain_async() from it returns false: the retrain is still running).
  std::function<void(const std::string& error)> on_retrain_error;
  /// Called after a retrain deployed its new version, under the same rules as on_retrain_error.
  std::function<void(const SolutionVersion& version)> on_retrain_success;
};

/// Serves one solution version of one solution over a LiveDatasetGroup.
///
/// Thread safety: get_recommendations() and get_personalized_ranking() are safe from any number
/// of threads, concurrently with put_*(), deploy() and retraining. A request reads the model
/// through one atomically loaded snapshot, so a swap never blocks or fails a request; requests in
/// flight finish on the version they started with.
class TAILOR_EXPORT Campaign {
 public:
  /// @param group the data (shared with other campaigns and writers)
  /// @param solution what retraining trains
  /// @param version the version to serve first
  Campaign(std::shared_ptr<LiveDatasetGroup> group, Solution solution, SolutionVersion version,
           CampaignOptions options = {});
  /// A campaign whose retraining trains the version's own solution (its config()).
  /// @throws tailor::Error(NotFound) when the version's recipe is not registered
  Campaign(std::shared_ptr<LiveDatasetGroup> group, SolutionVersion version,
           CampaignOptions options = {});
  /// Stops a background retrain at its training's next progress step (for ALS, the end of the
  /// current iteration) and waits only for that; nothing it trained is deployed or reported.
  ~Campaign();
  Campaign(const Campaign&) = delete;
  Campaign& operator=(const Campaign&) = delete;

  /// Recommendations for a user, or similar items for an item.
  /// @throws tailor::Error(InvalidArgument) for a bad request (limits, missing ids, filter
  ///         parameters), Error(NotFound) for an unknown item in a similar-items request
  RecommendationResponse get_recommendations(const RecommendationRequest& request) const;
  /// The input list ranked for the user; unknown items come last without a score.
  RecommendationResponse get_personalized_ranking(const RankingRequest& request) const;

  /// Event tracker: LiveDatasetGroup::put_events() on the campaign's group (durable when the
  /// group lives in a Store), visible to the next request of every campaign on the group; may
  /// start an automatic retrain. An event that quotes a recorded recommendation id of this
  /// campaign and has no impression list gets that response's items as impressions.
  PutReport put_events(const std::vector<EventRecord>& events);
  PutReport put_users(const std::vector<EntityRecord>& users);
  PutReport put_items(const std::vector<EntityRecord>& items);

  /// Serves `version` from now on (atomic swap).
  void deploy(SolutionVersion version);
  /// Trains a new version from the current data and deploys it (blocking the caller only). With
  /// CampaignOptions::training.mode Update, the served version is the one updated. A failure
  /// leaves the served version in place, is recorded (last_retrain_error(), on_retrain_error)
  /// and rethrown.
  /// @throws tailor::Error what Solution::train throws
  void retrain();
  /// retrain() on a background thread; returns false when one is already running. Its failure
  /// reaches the caller only through last_retrain_error() and on_retrain_error.
  bool retrain_async();
  /// Waits for a background retrain to finish.
  void wait_for_retrain();
  /// Why the most recent retrain (background or not) failed; empty when it succeeded or none
  /// ran. A later successful retrain clears it. Safe from any thread.
  std::optional<std::string> last_retrain_error() const;

  /// The most recent responses, oldest first (at most CampaignOptions::recorded_recommendations).
  std::vector<RecommendationRecord> recent_recommendations() const;

  /// The version being served.
  std::shared_ptr<const SolutionVersion> version() const;
  const Solution& solution() const;
  const std::shared_ptr<LiveDatasetGroup>& group() const;

  /// The campaign's state, defined only in the library's own sources (batch scoring reads the
  /// served snapshot through it); nothing can be done with it outside the library.
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// One request's outcome in recommend_all(): its response, or what went wrong.
struct RecommendationResult {
  RecommendationResponse response;  ///< empty when the request failed
  std::optional<ErrorCode> error;   ///< the kind of failure, as get_recommendations() would throw
  std::string message;              ///< the failure's message ("" on success)
  bool ok() const { return !error.has_value(); }
};

/// Answers many requests at once, as get_recommendations() would one by one, for batch jobs:
/// whole-catalog user requests to a model with a block scorer (Model::block_scorer()) are scored
/// in blocks of users per pass over the model's items, the rest one by one, all in parallel.
/// Result k is request k's. Part of the batch module (src/batch/recommend_all.cpp), declared here
/// so that this header is all a caller needs.
TAILOR_EXPORT std::vector<RecommendationResult> recommend_all(
    const Campaign& campaign, const std::vector<RecommendationRequest>& requests,
    const ExecutionOptions& execution = {});

}  // namespace tailor
