// SPDX-License-Identifier: MIT
// Campaign::Impl: the campaign's state and the steps of a request, private to the library (the
// campaign and batch scoring share them).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
  Index catalog = 0;
};

// The catalog already ranked for one request (batched scoring): the best items, excluded ones
// left out, and the softmax normaliser.
struct RankedCatalog {
  std::vector<ScoredItem> top;
  double normaliser = 0;
};

}  // namespace detail

struct Campaign::Impl {
  using Snapshot = detail::CampaignSnapshot;
  using Resolved = detail::ResolvedRequest;
  using Ranked = detail::RankedCatalog;

  Impl(std::shared_ptr<LiveDatasetGroup> group, Solution solution, CampaignOptions options);
  ~Impl();

  std::shared_ptr<const Snapshot> snapshot() const;
  Resolved resolve(const RecommendationRequest& request, const Snapshot& snap) const;
  RecommendationResponse respond(const RecommendationRequest& request, const Snapshot& snap,
                                 Resolved& r, const Ranked* precomputed) const;
  RecommendationResponse get_personalized_ranking(const RankingRequest& request) const;
  PutReport put_events(const std::vector<EventRecord>& events);
  static bool dense_scoring(const RecommendationRequest& request, const Snapshot& snap,
                            const Resolved& r);
  /// The model query of a resolved user request (the trained vector, or a fold-in when the user
  /// is new or has events since training).
  static UserQuery user_query(const RecommendationRequest& request, const Snapshot& snap,
                              const Resolved& r);
  void deploy(SolutionVersion version);
  void deploy(SolutionVersion version, std::vector<std::uint32_t> history_lengths,
              std::size_t rows);
  /// The retrain itself (returns what it deployed); retrain() wraps it with the error reporting.
  SolutionVersion train_and_deploy();
  void retrain();
  bool retrain_async();
  void wait_for_retrain();
  std::string next_recommendation_id() const;
  void record(const RecommendationRequest& request, const RecommendationResponse& response) const;
  std::vector<std::pair<Index, float>> live_counts(const Snapshot& s) const;
  void on_change(const GroupChange& change);

  std::shared_ptr<LiveDatasetGroup> group_;
  Solution solution_;
  CampaignOptions options_;
  std::shared_ptr<const Snapshot> snapshot_;  // read and written with std::atomic_load/store

  // Popularity events since the served version's data (item, interactions row).
  std::mutex deploy_mutex_;
  mutable std::mutex live_mutex_;
  std::vector<std::pair<Index, std::uint32_t>> live_events_;

  std::mutex retrain_mutex_;
  std::thread retrain_thread_;
  std::atomic<bool> retraining_{false};
  std::atomic<std::size_t> events_since_training_{0};
  std::atomic<double> last_training_seconds_{0};
  mutable std::mutex retrain_error_mutex_;
  std::optional<std::string> last_retrain_error_;
  std::uint64_t id_prefix_;
  mutable std::atomic<std::uint64_t> id_counter_{0};
  mutable std::mutex records_mutex_;
  mutable std::deque<RecommendationRecord> records_;
  LiveDatasetGroup::Subscription subscription_;  // last: unsubscribed before anything else goes
};

}  // namespace tailor
