// SPDX-License-Identifier: MIT
// Recorded recommendations: the ids a campaign gives its responses, the responses it keeps for a
// while, and the impressions that events quoting them get (Personalize's event tracking).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "tailor/serving/campaign.hpp"

namespace tailor::detail {

// Thread safety: every member is safe to call concurrently.
class RecordedRecommendations {
 public:
  // Keeps the most recent `capacity` responses (0: none); ids start with a prefix unique to
  // `owner` and the time.
  RecordedRecommendations(std::size_t capacity, const void* owner);

  // A recommendation id unique to this campaign, and most likely to every other.
  std::string next_id();
  void record(const RecommendationRequest& request, const RecommendationResponse& response);
  // The kept responses, oldest first.
  std::vector<RecommendationRecord> recent() const;
  // Gives each event that quotes a kept response and has no impression list that response's
  // items (up to the impressions an event may carry).
  void add_impressions(std::vector<EventRecord>& events) const;

 private:
  const std::size_t capacity_;
  const std::uint64_t id_prefix_;
  std::atomic<std::uint64_t> id_counter_{0};
  mutable std::mutex mutex_;
  std::deque<RecommendationRecord> records_;
};

}  // namespace tailor::detail
