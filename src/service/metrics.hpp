// SPDX-License-Identifier: MIT
// The counters behind GET /metrics: requests by endpoint and status, and a latency histogram per
// endpoint, all lock-free so that recording never slows a request down.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tailor::service {

/// The endpoints, as /metrics labels them.
enum class Endpoint : std::size_t {
  Recommendations,
  PersonalizeRanking,
  Events,
  Users,
  Items,
  DeleteUsers,
  DeleteItems,
  CreateFilter,
  ListFilters,
  DescribeFilter,
  DeleteFilter,
  ListSolutions,
  CreateSolutionVersion,
  Health,
  Metrics,
  Other,  ///< unknown paths and requests refused before routing (auth, HTTP errors)
  Count
};

const char* endpoint_label(Endpoint e);

class Metrics {
 public:
  /// Counts one answered request.
  void record(Endpoint endpoint, int status, double seconds);
  /// Appends the request counters and histograms in Prometheus text format.
  void append_text(std::string& out) const;

  std::atomic<std::uint64_t> events_accepted{0};
  std::atomic<std::uint64_t> events_rejected{0};

 private:
  // Statuses the service answers with; anything else counts as the last slot.
  static constexpr std::array<int, 13> kStatuses = {200, 202, 400, 401, 404, 405, 409,
                                                    413, 429, 431, 500, 503, 0};
  // Upper bounds of the latency buckets, in seconds (the last bucket is +Inf).
  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  struct PerEndpoint {
    std::array<std::atomic<std::uint64_t>, kStatuses.size()> by_status{};
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // not cumulative
    std::atomic<std::uint64_t> nanoseconds{0};
  };
  std::array<PerEndpoint, static_cast<std::size_t>(Endpoint::Count)> endpoints_{};
};

}  // namespace tailor::service
