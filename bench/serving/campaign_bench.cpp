// SPDX-License-Identifier: MIT
// Campaign serving: single-request latency percentiles (one thread) for 50,000 and 1,000,000
// items, with and without a filter, seen items excluded; requests per second on 2 threads;
// put_events throughput. The model is an ALS model with random factors (64), so the figures are
// those of serving, not of training.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include <tailor/tailor.hpp>

namespace {

constexpr tailor::Index kUsers = 10000;

struct Fixture {
  std::shared_ptr<tailor::LiveDatasetGroup> group;
  std::unique_ptr<tailor::Campaign> campaign;
  std::shared_ptr<const tailor::Filter> filter;
};

Fixture& fixture(tailor::Index items) {
  static std::map<tailor::Index, Fixture> cache;
  Fixture& f = cache[items];
  if (f.campaign) return f;
  tailor::DatasetGroup g(
      tailor::Schema::parse(R"({"type":"record","name":"Interactions","fields":[
        {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
        {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}]})",
                            tailor::DatasetKind::Interactions),
      std::nullopt,
      tailor::Schema::parse(R"({"type":"record","name":"Items","fields":[
        {"name":"ITEM_ID","type":"string"},{"name":"GENRE","type":"string","categorical":true}]})",
                            tailor::DatasetKind::Items));
  std::mt19937 rng(7);
  std::string csv = "ITEM_ID,GENRE\n";
  for (tailor::Index i = 0; i < items; ++i) csv += "i" + std::to_string(i) + ",g" + std::to_string(rng() % 20) + "\n";
  g.import_csv_text(tailor::DatasetKind::Items, csv);
  csv = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  for (tailor::Index u = 0; u < kUsers; ++u) {
    for (int k = 0; k < 50; ++k) csv += "u" + std::to_string(u) + ",i" + std::to_string(rng() % items) + ",1,read\n";
  }
  g.import_csv_text(tailor::DatasetKind::Interactions, csv);
  std::normal_distribution<float> normal(0, 0.1f);
  tailor::FactorMatrix users(kUsers, 64), item_factors(items, 64);
  for (Eigen::Index r = 0; r < users.rows(); ++r)
    for (int c = 0; c < 64; ++c) users(r, c) = normal(rng);
  for (Eigen::Index r = 0; r < item_factors.rows(); ++r)
    for (int c = 0; c < 64; ++c) item_factors(r, c) = normal(rng);
  tailor::AlsParams params;
  auto model = std::make_shared<tailor::AlsModel>("user-personalization", params, std::move(users),
                                                  std::move(item_factors));
  tailor::Solution solution({"als", "user-personalization", "{}", {}});
  tailor::SolutionVersion version(solution.config(), tailor::TrainingMode::Full, model, std::nullopt, std::nullopt, 0);
  f.group = std::make_shared<tailor::LiveDatasetGroup>(std::move(g));
  f.campaign = std::make_unique<tailor::Campaign>(f.group, solution, std::move(version));
  f.filter = f.group->read([](const tailor::DatasetGroup& d) {
    return std::make_shared<const tailor::Filter>(tailor::Filter::compile(
        R"(INCLUDE ItemID WHERE Items.GENRE IN ($G) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))", d));
  });
  return f;
}

tailor::RecommendationRequest request(const Fixture& f, int user, bool filtered) {
  tailor::RecommendationRequest r;
  r.user_id = "u" + std::to_string(user);
  r.num_results = 10;
  if (filtered) {
    r.filter = f.filter;
    r.filter_values = {{"G", {"g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9", "g10"}}};
  } else {
    // Without a filter, seen items are excluded through the request's exclusion list.
    r.filter = nullptr;
  }
  return r;
}

// Latency percentiles of single requests on one thread.
void BM_RecommendLatency(benchmark::State& state) {
  Fixture& f = fixture(static_cast<tailor::Index>(state.range(0)));
  const bool filtered = state.range(1) != 0;
  std::vector<double> micros;
  int user = 0;
  for (auto _ : state) {
    auto req = request(f, user++ % static_cast<int>(kUsers), filtered);
    const auto t = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(f.campaign->get_recommendations(req));
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
  }
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
}
BENCHMARK(BM_RecommendLatency)->ArgNames({"items", "filter"})->Args({50000, 0})->Args({50000, 1})
    ->Args({1000000, 0})->Args({1000000, 1})->Unit(benchmark::kMicrosecond)->MinTime(2.0);

// Requests per second with several threads sharing one campaign.
void BM_RecommendThroughput(benchmark::State& state) {
  Fixture& f = fixture(50000);
  int user = state.thread_index() * 1000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.campaign->get_recommendations(request(f, user++ % static_cast<int>(kUsers), true)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecommendThroughput)->Threads(1)->Threads(2)->UseRealTime()->Unit(benchmark::kMicrosecond)->MinTime(2.0);

// put_events: one event per call, as an event tracker receives them.
void BM_PutEvents(benchmark::State& state) {
  Fixture& f = fixture(50000);
  std::int64_t k = 0;
  for (auto _ : state) {
    tailor::EventRecord e;
    e.user_id = "u" + std::to_string(k % kUsers);
    e.session_id = "s";
    e.item_id = "i" + std::to_string((k * 7919) % 50000);
    e.event_type = "click";
    e.sent_at = 1000 + k++;
    benchmark::DoNotOptimize(f.campaign->put_events({e}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutEvents)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
