// SPDX-License-Identifier: MIT
// Campaign serving: single-request latency percentiles (one thread) for 50,000 and 1,000,000
// items, with and without a filter, seen items excluded; requests per second on 2 threads;
// put_events throughput; request latency on the benchmark-scale group (5,000,000 interactions,
// TAILOR_BENCH_ROWS scales it) while a second file of that size is imported into it. The model is
// an ALS model with random factors (64), so the figures are those of serving, not of training.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <tailor/tailor.hpp>
#include <thread>

#include "common/synthetic.hpp"

namespace {

constexpr tailor::Index kUsers = 10000;

struct Fixture {
  std::shared_ptr<tailor::LiveDatasetGroup> group;
  std::unique_ptr<tailor::Campaign> campaign;
  std::optional<tailor::Filter> filter;
};

Fixture& fixture(tailor::Index items) {
  static std::map<tailor::Index, Fixture> cache;
  Fixture& f = cache[items];
  if (f.campaign) return f;
  tailor::DatasetGroup g(tailor::Schema::parse(R"({"type":"record","name":"Interactions","fields":[
        {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
        {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}]})",
                                               tailor::DatasetKind::Interactions),
                         std::nullopt,
                         tailor::Schema::parse(R"({"type":"record","name":"Items","fields":[
        {"name":"ITEM_ID","type":"string"},{"name":"GENRE","type":"string","categorical":true}]})",
                                               tailor::DatasetKind::Items));
  std::mt19937 rng(7);
  std::string csv = "ITEM_ID,GENRE\n";
  for (tailor::Index i = 0; i < items; ++i)
    csv += "i" + std::to_string(i) + ",g" + std::to_string(rng() % 20) + "\n";
  g.import_csv_text(tailor::DatasetKind::Items, csv);
  csv = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  for (tailor::Index u = 0; u < kUsers; ++u) {
    for (int k = 0; k < 50; ++k)
      csv += "u" + std::to_string(u) + ",i" + std::to_string(rng() % items) + ",1,read\n";
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
  tailor::SolutionVersion version(solution.config(), tailor::TrainingMode::Full, model,
                                  std::nullopt, std::nullopt, 0);
  f.group = std::make_shared<tailor::LiveDatasetGroup>(std::move(g));
  f.campaign = std::make_unique<tailor::Campaign>(f.group, solution, std::move(version));
  f.filter = f.group->read([](const tailor::DatasetGroup& d) {
    return tailor::Filter::compile(
        R"(INCLUDE ItemID WHERE Items.GENRE IN ($G) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))",
        d);
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
    r.filter.reset();
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
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
  }
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
}
BENCHMARK(BM_RecommendLatency)
    ->ArgNames({"items", "filter"})
    ->Args({50000, 0})
    ->Args({50000, 1})
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0);

// Requests per second with several threads sharing one campaign.
void BM_RecommendThroughput(benchmark::State& state) {
  Fixture& f = fixture(50000);
  int user = state.thread_index() * 1000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        f.campaign->get_recommendations(request(f, user++ % static_cast<int>(kUsers), true)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecommendThroughput)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0);

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

// A campaign on the benchmark-scale group, and a second file of the same size to import.
struct ImportFixture {
  std::shared_ptr<tailor::LiveDatasetGroup> group;
  std::unique_ptr<tailor::Campaign> campaign;
  std::string second_csv;
  tailor::Index users = 0;
};

ImportFixture& import_fixture() {
  static ImportFixture f = [] {
    ImportFixture out;
    tailor::bench::SyntheticSpec spec;
    spec.interactions = tailor::bench::rows_from_env(spec.interactions);
    tailor::DatasetGroup g(tailor::Schema::parse(tailor::bench::kBenchInteractionsSchema,
                                                 tailor::DatasetKind::Interactions));
    g.import_csv_text(tailor::DatasetKind::Interactions, tailor::bench::synthetic_csv(spec));
    spec.seed = 43;
    out.second_csv = tailor::bench::synthetic_csv(spec);
    out.users = static_cast<tailor::Index>(g.user_ids().size());
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0, 0.1f);
    tailor::FactorMatrix users(out.users, 64),
        items(static_cast<tailor::Index>(g.item_ids().size()), 64);
    for (Eigen::Index i = 0; i < users.size(); ++i) users.data()[i] = normal(rng);
    for (Eigen::Index i = 0; i < items.size(); ++i) items.data()[i] = normal(rng);
    auto model = std::make_shared<tailor::AlsModel>("user-personalization", tailor::AlsParams{},
                                                    std::move(users), std::move(items));
    tailor::Solution solution({"als", "user-personalization", "{}", {}});
    tailor::SolutionVersion version(solution.config(), tailor::TrainingMode::Full, model,
                                    std::nullopt, std::nullopt, 0);
    out.group = std::make_shared<tailor::LiveDatasetGroup>(std::move(g));
    out.campaign = std::make_unique<tailor::Campaign>(out.group, solution, std::move(version));
    return out;
  }();
  return f;
}

// Single requests from one thread while another thread imports the second
// file: mode 0 imports nothing (requests for 3 s, the baseline), 1 a FULL import, 2 an
// INCREMENTAL one (the runs share the group, so the INCREMENTAL import adds to the FULL one's
// rows). The import does what LiveDatasetGroup::import_csv_text does, in its two steps so that
// the commit can be timed: it stages the file without any lock (staging reads only the schema,
// so a group of the same schema stages it) and commits it in LiveDatasetGroup::rewrite, under
// the exclusive lock. Requests are counted from the import's start to its end.
void BM_RecommendDuringImport(benchmark::State& state) {
  ImportFixture& f = import_fixture();
  const int mode = static_cast<int>(state.range(0));
  std::vector<double> micros;
  double stage_s = 0, commit_s = 0, import_s = 0;
  for (auto _ : state) {
    std::atomic<bool> done{false};
    std::thread importer([&] {
      const auto start = std::chrono::steady_clock::now();
      if (mode == 0) {
        std::this_thread::sleep_for(std::chrono::seconds(3));
      } else {
        tailor::ImportOptions options;
        options.mode = mode == 1 ? tailor::ImportMode::Full : tailor::ImportMode::Incremental;
        options.execution.num_threads = 1;  // the other core serves the requests
        const tailor::DatasetGroup twin(tailor::Schema::parse(
            tailor::bench::kBenchInteractionsSchema, tailor::DatasetKind::Interactions));
        tailor::StagedImport staged =
            twin.stage_csv_text(tailor::DatasetKind::Interactions, f.second_csv, options);
        stage_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        f.group->rewrite([&](tailor::DatasetGroup& g) {
          const auto t = std::chrono::steady_clock::now();
          tailor::ImportReport report = g.commit(std::move(staged));
          commit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
          return report;
        });
      }
      import_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      done = true;
    });
    int user = 0;
    while (!done) {
      tailor::RecommendationRequest req;
      req.user_id = std::to_string(user++ % static_cast<int>(f.users));
      req.num_results = 10;
      const auto t = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(f.campaign->get_recommendations(req));
      micros.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
    }
    importer.join();
  }
  std::sort(micros.begin(), micros.end());
  state.counters["requests"] = static_cast<double>(micros.size());
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  state.counters["max_us"] = micros.back();
  state.counters["import_s"] = import_s;
  state.counters["stage_s"] = stage_s;
  state.counters["commit_s"] = commit_s;
}
BENCHMARK(BM_RecommendDuringImport)
    ->ArgNames({"import"})
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
