// SPDX-License-Identifier: MIT
// Top-K selection over a catalog of scores, with and without an allowed-items mask.
#include <benchmark/benchmark.h>

#include <random>

#include "detail/topk.hpp"

namespace {

void BM_TopK(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::size_t k = static_cast<std::size_t>(state.range(1));
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> scores(n);
  for (float& s : scores) s = normal(rng);
  tailor::Bitmap allowed(n, true);
  for (std::size_t i = 0; i < n; i += 2) allowed.reset(i);
  const bool masked = state.range(2) != 0;
  std::vector<tailor::ScoredItem> out;
  for (auto _ : state) {
    tailor::detail::top_k(scores.data(), n, k, masked ? &allowed : nullptr, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_TopK)
    ->ArgNames({"items", "k", "masked"})
    ->Args({50000, 25, 0})
    ->Args({50000, 25, 1})
    ->Args({1000000, 25, 0})
    ->Args({1000000, 500, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
