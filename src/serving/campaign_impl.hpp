// SPDX-License-Identifier: MIT
// Campaign::Impl: the campaign's state and the steps of a request, private to the library (the
// campaign and batch scoring share them).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "serving/content.hpp"
#include "serving/live_popularity.hpp"
#include "serving/recorded_recommendations.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {

namespace detail {

// What a request is served from: the version, and what the data looked like when it was trained.
struct CampaignSnapshot {
  std::shared_ptr<const SolutionVersion> version;
  std::vector<std::uint32_t> history_lengths;  // per user, interaction rows at training time
  std::size_t trained_rows = 0;                // interaction rows at training time
  std::vector<Index> popular;                  // items by distinct users at training time
  bool softmax_scores = false;                 // Model::score_kind() is Softmax
};

// A request, resolved to indices under the read lock.
struct ResolvedRequest {
  Index user = kNoIndex;
  Index item = kNoIndex;
  std::vector<Index> history;
  std::vector<float> weights;
  std::size_t history_rows = 0;  // the user's interaction rows now
  std::optional<Bitmap> allowed;
  std::optional<Bitmap> promoted_allowed;
  std::vector<Index> excluded;
  std::vector<ScoredItem> live_neighbors;  // similar items of an item newer than the model
  bool live_similar = false;               // similar items come from live_neighbors
  Index catalog = 0;
  std::vector<Index> candidates;  // a ranking request's list (kNoIndex: an unknown id)
  // Item content (ages, metadata factors, TF-IDF) when the request uses it, else null.
  std::shared_ptr<const ContentIndex> content;
};

// The catalog already ranked for one request (batched scoring): the best items, excluded ones
// left out, and the softmax normaliser.
struct RankedCatalog {
  std::vector<ScoredItem> top;
  double normaliser = 0;
};

}  // namespace detail

namespace detail {
// Ranks one request's catalog as a batch job ranks it (recommend_all.cpp): the model's ordered
// catalog scanned from its longest factor vectors on, 8-bit scores, the scan stopped once no
// item left can reach the top k. Only where batch jobs would: a whole-catalog request for softmax
// scores, without promotion or item content, on a model with an ordered catalog under the CPU
// target in force, for a user with an approximate state. Returns false (out untouched) elsewhere.
bool rank_by_blocks(const CampaignSnapshot& snap, const RecommendationRequest& request,
                    const ResolvedRequest& r, RankedCatalog& out);
}  // namespace detail

struct Campaign::Impl {
  using Snapshot = detail::CampaignSnapshot;
  using Resolved = detail::ResolvedRequest;
  using Ranked = detail::RankedCatalog;

  Impl(std::shared_ptr<LiveDatasetGroup> group, Solution solution, CampaignOptions options);
  ~Impl();

  // Requests (campaign.cpp, respond.cpp).
  std::shared_ptr<const Snapshot> snapshot() const;
  // Checks the request and resolves its ids, history and filters under the read lock, and the
  // ids of `input_list` (a ranking request's) when given.
  Resolved resolve(const RecommendationRequest& request, const Snapshot& snap,
                   const std::vector<std::string>* input_list = nullptr) const;
  // Scores a resolved request; `precomputed` is its catalog already ranked (batched scoring), or
  // null.
  RecommendationResponse respond(const RecommendationRequest& request, const Snapshot& snap,
                                 Resolved& r, const Ranked* precomputed) const;
  RecommendationResponse get_personalized_ranking(const RankingRequest& request) const;
  // Whether the request ranks the whole catalog by score (then batched scoring may rank it).
  static bool dense_scoring(const RecommendationRequest& request, const Snapshot& snap,
                            const Resolved& r);
  // The model query of a resolved user (the trained state, or a fold-in of the history when the
  // user is new or has events since training): the one way every request asks the model.
  static UserQuery user_query(const Resolved& r, const Snapshot& snap,
                              const std::vector<std::pair<std::string, std::string>>& context);

  // Versions and changes (campaign.cpp).
  void deploy(SolutionVersion version);
  void deploy(SolutionVersion version, std::vector<std::uint32_t> history_lengths,
              std::size_t rows);
  PutReport put_events(const std::vector<EventRecord>& events);
  void on_change(const GroupChange& change);
  // The content index of the served model and the group now, built under the read lock `g` when
  // the group changed since the last one; null when the request cannot use it.
  std::shared_ptr<const detail::ContentIndex> content(const DatasetGroup& g, const Snapshot& snap,
                                                      bool similar) const;
  // Each item's requested metadata columns (items of the response, in order), under the read lock.
  static void add_metadata(const DatasetGroup& g, const std::vector<std::string>& columns,
                           const std::vector<Index>& items, RecommendationResponse& response);

  // Retraining (retraining.cpp).
  // The retrain itself (returns what it deployed); retrain() wraps it with the error reporting.
  SolutionVersion train_and_deploy();
  void retrain();
  bool retrain_async();
  void wait_for_retrain();
  // Starts the count of events and time towards an automatic retrain again.
  void mark_trained();
  // Counts new events, and retrains in the background when CampaignOptions say so.
  void count_events(std::size_t events);

  std::shared_ptr<LiveDatasetGroup> group_;
  Solution solution_;
  CampaignOptions options_;
  std::shared_ptr<const Snapshot> snapshot_;  // read and written with std::atomic_load/store
  std::mutex deploy_mutex_;
  detail::LivePopularity live_;
  mutable detail::RecordedRecommendations records_;

  std::mutex retrain_mutex_;
  std::thread retrain_thread_;
  std::atomic<bool> retraining_{false};
  // Set by the destructor: a background retrain stops at its training's next progress step and
  // deploys nothing, so that destroying a campaign does not wait for a whole training.
  std::atomic<bool> closing_{false};
  std::atomic<std::size_t> events_since_training_{0};
  std::atomic<double> last_training_seconds_{0};
  mutable std::mutex retrain_error_mutex_;
  std::optional<std::string> last_retrain_error_;
  // The content index, rebuilt after the items, the interactions' rows or the model change.
  // The index and what it was built from; read with std::atomic_load (no lock on the way of a
  // request), rebuilt under content_mutex_.
  struct ContentCache {
    std::shared_ptr<const detail::ContentIndex> index;
    const Model* model = nullptr;
    std::uint64_t generation = 0, events = 0;
    std::chrono::steady_clock::time_point built_at;
  };
  mutable std::mutex content_mutex_;
  mutable std::shared_ptr<const ContentCache> content_;
  std::atomic<std::uint64_t> content_generation_{0};  // items, rows or the model changed
  std::atomic<std::uint64_t> content_events_{0};      // events appended
  LiveDatasetGroup::Subscription subscription_;  // last: unsubscribed before anything else goes
};

}  // namespace tailor
