// SPDX-License-Identifier: MIT
#include "service/metrics.hpp"

#include <cstdio>

namespace tailor::service {

const char* endpoint_label(Endpoint e) {
  static const char* const kLabels[] = {"recommendations",
                                        "personalize_ranking",
                                        "events",
                                        "users",
                                        "items",
                                        "delete_users",
                                        "delete_items",
                                        "create_filter",
                                        "list_filters",
                                        "describe_filter",
                                        "delete_filter",
                                        "list_solutions",
                                        "create_solution_version",
                                        "health",
                                        "metrics",
                                        "other"};
  static_assert(sizeof kLabels / sizeof kLabels[0] == static_cast<std::size_t>(Endpoint::Count));
  return kLabels[static_cast<std::size_t>(e)];
}

void Metrics::record(Endpoint endpoint, int status, double seconds) {
  PerEndpoint& m = endpoints_[static_cast<std::size_t>(endpoint)];
  std::size_t s = 0;
  while (s + 1 < kStatuses.size() && kStatuses[s] != status) ++s;
  m.by_status[s].fetch_add(1, std::memory_order_relaxed);
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  m.buckets[b].fetch_add(1, std::memory_order_relaxed);
  m.nanoseconds.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Metrics::append_text(std::string& out) const {
  char line[256];
  out +=
      "# HELP tailor_http_requests_total Requests answered, by endpoint and status.\n"
      "# TYPE tailor_http_requests_total counter\n";
  for (std::size_t e = 0; e < endpoints_.size(); ++e) {
    const char* label = endpoint_label(static_cast<Endpoint>(e));
    for (std::size_t s = 0; s < kStatuses.size(); ++s) {
      const std::uint64_t n = endpoints_[e].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string status = kStatuses[s] ? std::to_string(kStatuses[s]) : "other";
      std::snprintf(line, sizeof line,
                    "tailor_http_requests_total{endpoint=\"%s\",status=\"%s\"} %llu\n", label,
                    status.c_str(), static_cast<unsigned long long>(n));
      out += line;
    }
  }
  out +=
      "# HELP tailor_http_request_duration_seconds Time from a request read to its response "
      "made.\n"
      "# TYPE tailor_http_request_duration_seconds histogram\n";
  for (std::size_t e = 0; e < endpoints_.size(); ++e) {
    const char* label = endpoint_label(static_cast<Endpoint>(e));
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += endpoints_[e].buckets[b].load(std::memory_order_relaxed);
      if (b < kBuckets.size()) {
        std::snprintf(line, sizeof line,
                      "tailor_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} "
                      "%llu\n",
                      label, kBuckets[b], static_cast<unsigned long long>(cumulative));
      } else {
        std::snprintf(line, sizeof line,
                      "tailor_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} "
                      "%llu\n",
                      label, static_cast<unsigned long long>(cumulative));
      }
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "tailor_http_request_duration_seconds_sum{endpoint=\"%s\"} %.9f\n"
                  "tailor_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                  label, endpoints_[e].nanoseconds.load(std::memory_order_relaxed) * 1e-9, label,
                  static_cast<unsigned long long>(cumulative));
    out += line;
  }
  std::snprintf(line, sizeof line,
                "# HELP tailor_events_total Events received by POST /events.\n"
                "# TYPE tailor_events_total counter\n"
                "tailor_events_total{result=\"accepted\"} %llu\n"
                "tailor_events_total{result=\"rejected\"} %llu\n",
                static_cast<unsigned long long>(events_accepted.load()),
                static_cast<unsigned long long>(events_rejected.load()));
  out += line;
}

}  // namespace tailor::service
