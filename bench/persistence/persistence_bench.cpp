// SPDX-License-Identifier: MIT
// Persistence: checkpoint (save) and open times and file sizes for the benchmark-scale data set
// (default 5,000,000 interactions, 100k users, 50k items; TAILOR_BENCH_ROWS scales it) with an ALS
// model of 64 factors; update-log append throughput for each sync policy; durable put_events in
// batches of 100 from 1 to 16 threads (group commit), beside the disk's fdatasync rate.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <random>
#include <tailor/tailor.hpp>

#include "common/synthetic.hpp"

namespace {

namespace fs = std::filesystem;

std::string temp_dir(const char* name) {
  const std::string dir =
      (fs::temp_directory_path() / ("tailor-bench-" + std::to_string(::getpid()) + "-" + name))
          .string();
  fs::remove_all(dir);
  return dir;
}

tailor::DatasetGroup bench_group() {
  tailor::bench::SyntheticSpec spec;
  spec.interactions = tailor::bench::rows_from_env(spec.interactions);
  tailor::DatasetGroup g(tailor::Schema::parse(tailor::bench::kBenchInteractionsSchema,
                                               tailor::DatasetKind::Interactions));
  g.import_csv_text(tailor::DatasetKind::Interactions, tailor::bench::synthetic_csv(spec));
  return g;
}

void BM_StoreCheckpointAndOpen(benchmark::State& state) {
  const std::string dir = temp_dir("snapshot");
  auto store = tailor::Store::create(dir, bench_group());
  // A 64-factor ALS version of the right shape (random factors: the file size is what matters).
  const auto [users, items] = store->group()->read([](const tailor::DatasetGroup& g) {
    return std::make_pair(g.user_ids().size(), g.item_ids().size());
  });
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 0.1f);
  tailor::FactorMatrix uf(users, 64), itf(items, 64);
  for (Eigen::Index i = 0; i < uf.size(); ++i) uf.data()[i] = normal(rng);
  for (Eigen::Index i = 0; i < itf.size(); ++i) itf.data()[i] = normal(rng);
  tailor::SolutionConfig config{"als", "user-personalization", "{}", {}};
  tailor::SolutionVersion version(
      config, tailor::TrainingMode::Full,
      std::make_shared<tailor::AlsModel>("user-personalization", tailor::AlsParams{}, uf, itf),
      std::nullopt, std::nullopt, 0);
  double save = 0, open = 0, save_version = 0, load_version = 0;
  for (auto _ : state) {
    auto t = std::chrono::steady_clock::now();
    store->checkpoint();
    save += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    t = std::chrono::steady_clock::now();
    store->save_version(version);
    save_version += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    t = std::chrono::steady_clock::now();
    // The writer above still holds the directory's writer lock: a reader opens beside it.
    tailor::StoreOptions read_only;
    read_only.access = tailor::StoreAccess::ReadOnly;
    auto reopened = tailor::Store::open(dir, read_only);
    open += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    t = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(reopened->load_version("als"));
    load_version += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["save_s"] = save / n;
  state.counters["open_s"] = open / n;
  state.counters["save_model_s"] = save_version / n;
  state.counters["load_model_s"] = load_version / n;
  state.counters["snapshot_MB"] = static_cast<double>(fs::file_size(dir + "/group.snapshot")) / 1e6;
  state.counters["model_MB"] =
      static_cast<double>(fs::file_size(store->version_files().back())) / 1e6;
  fs::remove_all(dir);
}
BENCHMARK(BM_StoreCheckpointAndOpen)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();

void BM_LogAppend(benchmark::State& state) {
  const std::string dir = temp_dir("log");
  tailor::StoreOptions options;
  options.sync = static_cast<tailor::SyncPolicy>(state.range(0));
  tailor::DatasetGroup g(tailor::Schema::parse(tailor::bench::kBenchInteractionsSchema,
                                               tailor::DatasetKind::Interactions));
  auto store = tailor::Store::create(dir, std::move(g), options);
  std::int64_t k = 0;
  for (auto _ : state) {
    tailor::EventRecord e;
    e.user_id = "u" + std::to_string(k % 1000);
    e.session_id = "s";
    e.item_id = "i" + std::to_string(k % 5000);
    e.event_type = "click";
    e.sent_at = k++;
    benchmark::DoNotOptimize(store->put_events({e}));
  }
  state.SetItemsProcessed(state.iterations());
  store.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_LogAppend)
    ->ArgNames({"sync"})
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// One store shared by every thread count of BM_PutEventsDurable, made once and removed at exit.
struct DurableStore {
  std::string dir = temp_dir("durable");
  std::unique_ptr<tailor::Store> store;
  DurableStore() {
    tailor::StoreOptions options;
    options.sync = tailor::SyncPolicy::EveryCall;
    tailor::DatasetGroup g(tailor::Schema::parse(tailor::bench::kBenchInteractionsSchema,
                                                 tailor::DatasetKind::Interactions));
    store = tailor::Store::create(dir, std::move(g), options);
  }
  ~DurableStore() {
    store.reset();
    fs::remove_all(dir);
  }
};

tailor::Store& durable_store() {
  static DurableStore shared;
  return *shared.store;
}

// Durable put_events (SyncPolicy::EveryCall: a call returns once its events are synced) in
// batches of 100 events, from several threads at once sharing one store: concurrent calls share
// one fdatasync (group commit). items_per_second is events per second over all threads.
void BM_PutEventsDurable(benchmark::State& state) {
  static std::once_flag made;
  std::call_once(made, [] { durable_store(); });
  tailor::Store& store = durable_store();
  constexpr int kBatch = 100;
  const std::string thread = "t" + std::to_string(state.thread_index()) + "-";
  std::vector<tailor::EventRecord> batch(kBatch);
  std::int64_t k = 0;
  for (tailor::EventRecord& e : batch) {
    e.user_id = thread + "u" + std::to_string(k % 1000);
    e.session_id = thread + "s";
    e.item_id = "i" + std::to_string((k * 7919) % 5000);
    e.event_type = "click";
    e.sent_at = 1600000000 + k++;
  }
  std::size_t accepted = 0;
  for (auto _ : state) {
    const tailor::PutReport report = store.put_events(batch);
    accepted += report.accepted;
  }
  if (accepted != static_cast<std::size_t>(state.iterations()) * kBatch)
    state.SkipWithError("put_events rejected events");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_PutEventsDurable)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->Threads(16)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(1.0);

// For context: how many fdatasync calls per second the disk under the temporary directory
// completes, each after appending `bytes` (a batch of 100 events journals about 10 KB).
void BM_Fdatasync(benchmark::State& state) {
  const std::string dir = temp_dir("fdatasync");
  fs::create_directories(dir);
  const std::string path = dir + "/file";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    state.SkipWithError("cannot create a file in the temporary directory");
    return;
  }
  const std::string bytes(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
  fs::remove_all(dir);
}
BENCHMARK(BM_Fdatasync)
    ->ArgNames({"bytes"})
    ->Arg(100)
    ->Arg(10000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
