// SPDX-License-Identifier: MIT
// Seeded benchmark-scale interaction data: Zipf-like item popularity, heavy-tailed user activity.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace tailor::bench {

struct SyntheticSpec {
  std::size_t users = 100000;
  std::size_t items = 50000;
  std::size_t interactions = 5000000;
  double zipf_exponent = 1.0;
  std::uint64_t seed = 42;
};

/// Row count from the TAILOR_BENCH_ROWS environment variable, else `fallback`.
inline std::size_t rows_from_env(std::size_t fallback) {
  const char* v = std::getenv("TAILOR_BENCH_ROWS");
  return v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

/// Calls emit(user, item, timestamp) `spec.interactions` times, deterministically for a seed.
template <typename Emit>
void generate_interactions(const SyntheticSpec& spec, Emit&& emit) {
  std::mt19937_64 rng(spec.seed);
  // Item popularity: p(rank r) ~ 1 / r^s, ranks shuffled over item ids.
  std::vector<double> item_cdf(spec.items);
  double total = 0;
  for (std::size_t r = 0; r < spec.items; ++r) {
    total += 1.0 / std::pow(static_cast<double>(r + 1), spec.zipf_exponent);
    item_cdf[r] = total;
  }
  std::vector<std::uint32_t> item_of_rank(spec.items);
  std::iota(item_of_rank.begin(), item_of_rank.end(), 0u);
  std::shuffle(item_of_rank.begin(), item_of_rank.end(), rng);
  // User activity: log-normal weights.
  std::lognormal_distribution<double> activity(0.0, 1.0);
  std::vector<double> user_cdf(spec.users);
  total = 0;
  for (std::size_t u = 0; u < spec.users; ++u) {
    total += activity(rng);
    user_cdf[u] = total;
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto sample = [&](const std::vector<double>& cdf) {
    double x = unit(rng) * cdf.back();
    return static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), x) - cdf.begin());
  };
  for (std::size_t n = 0; n < spec.interactions; ++n) {
    std::size_t u = std::min(sample(user_cdf), spec.users - 1);
    std::size_t r = std::min(sample(item_cdf), spec.items - 1);
    emit(static_cast<std::uint32_t>(u), item_of_rank[r], 1600000000 + static_cast<std::int64_t>(n));
  }
}

/// The interactions as a CSV in the sample data's format
/// (USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE).
inline std::string synthetic_csv(const SyntheticSpec& spec) {
  std::string out = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n";
  out.reserve(spec.interactions * 32);
  generate_interactions(spec, [&](std::uint32_t u, std::uint32_t i, std::int64_t t) {
    out += std::to_string(u);
    out += ',';
    out += std::to_string(i);
    out += ',';
    out += std::to_string(t);
    out += ",click,1\n";
  });
  return out;
}

/// Training data from generate_interactions (all weights 1).
template <typename TrainingData>
TrainingData synthetic_training_data(const SyntheticSpec& spec) {
  std::vector<std::uint32_t> us, is;
  std::vector<std::int64_t> ts;
  generate_interactions(spec, [&](std::uint32_t u, std::uint32_t i, std::int64_t t) {
    us.push_back(u);
    is.push_back(i);
    ts.push_back(t);
  });
  std::vector<float> ws(us.size(), 1.0f);
  return TrainingData::build(static_cast<std::uint32_t>(spec.users),
                             static_cast<std::uint32_t>(spec.items), std::move(us), std::move(is),
                             std::move(ts), std::move(ws));
}

inline const char* kBenchInteractionsSchema = R"({"type":"record","name":"Interactions",
  "namespace":"com.amazonaws.personalize.schema","fields":[
  {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
  {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"},
  {"name":"EVENT_VALUE","type":["null","float"]}],"version":"1.0"})";

}  // namespace tailor::bench
