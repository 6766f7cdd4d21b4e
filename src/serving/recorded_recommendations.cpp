// SPDX-License-Identifier: MIT
// Recorded recommendations.
#include "serving/recorded_recommendations.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

namespace tailor::detail {

RecordedRecommendations::RecordedRecommendations(std::size_t capacity, const void* owner)
    : capacity_(capacity),
      id_prefix_(
          std::hash<const void*>()(owner) ^
          static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())) {
}

std::string RecordedRecommendations::next_id() {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%016llx-%010llx",
                static_cast<unsigned long long>(id_prefix_),
                static_cast<unsigned long long>(id_counter_.fetch_add(1) + 1));
  return buffer;
}

void RecordedRecommendations::record(const RecommendationRequest& request,
                                     const RecommendationResponse& response) {
  if (capacity_ == 0) return;
  RecommendationRecord rec;
  rec.recommendation_id = response.recommendation_id;
  rec.user_id = request.user_id;
  rec.item_id = request.item_id;
  for (const RecommendedItem& i : response.items) rec.items.push_back(i.item_id);
  rec.context = request.context;
  std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(std::move(rec));
  while (records_.size() > capacity_) records_.pop_front();
}

std::vector<RecommendationRecord> RecordedRecommendations::recent() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {records_.begin(), records_.end()};
}

void RecordedRecommendations::add_impressions(std::vector<EventRecord>& events) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (EventRecord& e : events) {
    if (e.recommendation_id.empty() || !e.impression.empty()) continue;
    for (const RecommendationRecord& rec : records_) {
      if (rec.recommendation_id != e.recommendation_id) continue;
      const std::size_t shown = std::min(PutLimits::kMaxImpressions, rec.items.size());
      e.impression.assign(rec.items.begin(),
                          rec.items.begin() + static_cast<std::ptrdiff_t>(shown));
      break;
    }
  }
}

}  // namespace tailor::detail
