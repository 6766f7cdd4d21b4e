// SPDX-License-Identifier: MIT
// item-kNN: neighbour accumulation over the whole catalog, 1 and 2 threads.
#include <benchmark/benchmark.h>

#include "common/synthetic.hpp"
#include "recipes/item_knn/item_knn_kernels.hpp"
#include "tailor/recipes/training_data.hpp"

namespace {

void BM_ItemNeighbors(benchmark::State& state) {
  static const tailor::TrainingData d = [] {
    tailor::bench::SyntheticSpec spec;
    spec.interactions = tailor::bench::rows_from_env(1000000);
    spec.users = 20000;
    spec.items = 10000;
    return tailor::bench::synthetic_training_data<tailor::TrainingData>(spec);
  }();
  tailor::detail::KnnKernelArgs args;
  args.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto lists = tailor::detail::item_neighbors(
        {d.item_offsets.data(), d.item_users.data(), d.item_values.data(), d.num_items},
        {d.user_offsets.data(), d.user_items.data(), d.user_values.data(), d.num_users}, args);
    benchmark::DoNotOptimize(lists.items.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.num_items));
}
BENCHMARK(BM_ItemNeighbors)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
