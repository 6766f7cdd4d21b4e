// SPDX-License-Identifier: MIT
// ALS kernels: one CG sweep over all users, the Gram matrix, fold-in of one user, and the
// serving scan of the whole catalog for one user (float32, bfloat16 and 8-bit).
#include <benchmark/benchmark.h>

#include <random>

#include "common/synthetic.hpp"
#include "recipes/als/als_kernels.hpp"
#include "recipes/als/bf16_scan.hpp"
#include "recipes/als/block_simd.hpp"
#include "recipes/als/int8_scan.hpp"

namespace {

// Seeded synthetic training data (default 1M interactions, 20k users, 10k items;
// TAILOR_BENCH_ROWS scales it).
const tailor::TrainingData& bench_data() {
  static const tailor::TrainingData data = [] {
    tailor::bench::SyntheticSpec spec;
    spec.interactions = tailor::bench::rows_from_env(1000000);
    spec.users = 20000;
    spec.items = 10000;
    return tailor::bench::synthetic_training_data<tailor::TrainingData>(spec);
  }();
  return data;
}

// The 5M set's shape (5M interactions, 100k users, 50k items): factor matrices of 25.6 and 12.8 MB,
// beyond a core's caches, as in the side-by-side benchmark.
const tailor::TrainingData& bench_data_5m() {
  static const tailor::TrainingData data = [] {
    tailor::bench::SyntheticSpec spec;
    spec.interactions = 5000000;
    spec.users = 100000;
    spec.items = 50000;
    return tailor::bench::synthetic_training_data<tailor::TrainingData>(spec);
  }();
  return data;
}

tailor::FactorMatrix random_factors(tailor::Index rows, int f) {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0, 0.01f);
  tailor::FactorMatrix m(rows, f);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = normal(rng);
  }
  return m;
}

void BM_AlsCgSolve(benchmark::State& state) {
  const tailor::TrainingData& d = bench_data();
  const int f = static_cast<int>(state.range(0));
  tailor::FactorMatrix Y = random_factors(d.num_items, f);
  tailor::FactorMatrix X = random_factors(d.num_users, f);
  tailor::detail::AlsKernelArgs args;
  args.threads = static_cast<int>(state.range(1));
  for (auto _ : state) {
    tailor::detail::als_solve_rows(
        X, Y, {d.user_offsets.data(), d.user_items.data(), d.user_values.data(), d.num_users}, 0,
        args);
    benchmark::DoNotOptimize(X.data());
  }
  // One CG step costs 4f flops per interaction (dot + axpy) and 2f² per row (Gram product);
  // a sweep is the initial residual plus cg_steps steps.
  const double flops =
      (args.cg_steps + 1.0) * (4.0 * f * static_cast<double>(d.nnz()) + 2.0 * f * f * d.num_users);
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.num_users));
}
BENCHMARK(BM_AlsCgSolve)
    ->ArgNames({"factors", "threads"})
    ->Args({64, 1})
    ->Args({64, 2})
    ->Args({32, 2})
    ->Args({128, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One whole ALS iteration as training runs it: users against items, then items against users
// (factors 64, 1 or 2 threads, the 1M set or the 5M one); the figure behind "seconds per
// iteration".
void BM_AlsIteration(benchmark::State& state) {
  const tailor::TrainingData& d = state.range(1) ? bench_data_5m() : bench_data();
  tailor::FactorMatrix Y = random_factors(d.num_items, 64);
  tailor::FactorMatrix X = random_factors(d.num_users, 64);
  tailor::detail::AlsKernelArgs args;
  args.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    tailor::detail::als_solve_rows(
        X, Y, {d.user_offsets.data(), d.user_items.data(), d.user_values.data(), d.num_users}, 0,
        args);
    tailor::detail::als_solve_rows(
        Y, X, {d.item_offsets.data(), d.item_users.data(), d.item_values.data(), d.num_items}, 0,
        args);
    benchmark::DoNotOptimize(X.data());
  }
}
BENCHMARK(BM_AlsIteration)
    ->ArgNames({"threads", "5M"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_GramMatrix(benchmark::State& state) {
  tailor::FactorMatrix Y = random_factors(50000, static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(tailor::detail::gram_matrix(Y, 0.05f));
}
BENCHMARK(BM_GramMatrix)->ArgNames({"factors"})->Arg(64)->Unit(benchmark::kMillisecond);

void BM_AlsFoldIn(benchmark::State& state) {
  const int f = 64;
  tailor::FactorMatrix Y = random_factors(50000, f);
  Eigen::MatrixXf G = tailor::detail::gram_matrix(Y, 0.05f);
  std::vector<tailor::Index> items;
  std::vector<float> values;
  for (int k = 0; k < state.range(0); ++k) {
    items.push_back(static_cast<tailor::Index>(k * 97 % 50000));
    values.push_back(1.0f);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        tailor::detail::als_fold_in(Y, G, items.data(), values.data(), items.size(), 1.0f));
  }
}
BENCHMARK(BM_AlsFoldIn)->ArgNames({"history"})->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace

// One user's scores for the whole catalog (factors 64), the way a request scans it: float32
// (score_all) or the compact copy the target scans fastest, 8-bit or bfloat16, with an error
// bound (the scorer's approximate_scores). Different users
// take turns, as requests do, and the items are scanned from wherever the previous request left
// them.
void BM_ScoreCatalog(benchmark::State& state) {
  const tailor::Index items = static_cast<tailor::Index>(state.range(0));
  const bool approximate = state.range(1) != 0;
  const tailor::AlsModel model("user-personalization", tailor::AlsParams{},
                               random_factors(1000, 64), random_factors(items, 64));
  std::vector<float> scores;
  tailor::Index user = 0;
  for (auto _ : state) {
    tailor::UserQuery q;
    q.user = user++ % 1000;
    if (approximate) {
      benchmark::DoNotOptimize(model.scorer(q)->approximate_scores(scores));
    } else {
      model.score_all(q, scores);
    }
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * items);
}
BENCHMARK(BM_ScoreCatalog)
    ->ArgNames({"items", "approximate"})
    ->Args({50000, 0})
    ->Args({50000, 1})
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Unit(benchmark::kMicrosecond);

// Batch scoring's matrix product alone: a block of 512 users against a 50k-item catalog (factors
// 64), as recommend_all() runs it: chunks of 512 items, groups of 64 users a call. Reports the
// multiply-adds' rate (2 flops each) in flops per second.
void BM_ScoreBlock(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const tailor::Index items = 50000, chunk = 512;
  const std::size_t users = 512, group = 64;
  const tailor::FactorMatrix U = random_factors(static_cast<tailor::Index>(users), f);
  const tailor::detail::ScorePanels panels = tailor::detail::score_panels(random_factors(items, f));
  std::vector<float> out(group * chunk);
  for (auto _ : state) {
    for (tailor::Index c0 = 0; c0 < items; c0 += chunk) {
      const std::size_t panel_count = (std::min(chunk, items - c0) + 15) / 16;
      for (std::size_t g = 0; g < users; g += group) {
        tailor::detail::score_panels_block(panels, f, U.data() + g * f, group, c0 / 16, panel_count,
                                           out.data(), chunk);
        benchmark::DoNotOptimize(out.data());
      }
    }
  }
  state.counters["flops"] = benchmark::Counter(
      2.0 * f * static_cast<double>(users) * items * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ScoreBlock)
    ->ArgNames({"factors"})
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Unit(benchmark::kMillisecond);

// The same product on 8-bit panels (BlockSimd::score_block_int8), as recommend_all() runs it where
// batch_int8() chooses it: chunks of 2,048 items, groups of 16 users a call. The flops counter
// counts each byte product as a multiply-add, so the two benchmarks' rates compare directly.
void BM_ScoreBlockInt8(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  const tailor::Index items = 50000, chunk = 2048;
  const std::size_t users = 512, group = 16;
  const std::size_t quads = (static_cast<std::size_t>(f) + 3) / 4;
  const std::size_t words = tailor::detail::int8_user_words(quads);
  tailor::detail::Int8Panels panels = tailor::detail::int8_panels(random_factors(items, f));
  tailor::detail::bias_int8_words(panels.words);
  const tailor::FactorMatrix U = random_factors(static_cast<tailor::Index>(users), f);
  std::vector<std::uint32_t> quantised(users * words);
  const tailor::detail::BlockSimd& kernels = tailor::detail::block_simd();
  for (std::size_t j = 0; j < users; ++j) {
    tailor::detail::int8_block_user(U.row(static_cast<Eigen::Index>(j)).data(), f,
                                    kernels.int8_user_largest, quantised.data() + j * words);
  }
  std::vector<float> out(group * chunk);
  for (auto _ : state) {
    for (tailor::Index c0 = 0; c0 < items; c0 += chunk) {
      const std::size_t first = static_cast<std::size_t>(c0) / 16;
      const std::size_t panel_count = (std::min(chunk, items - c0) + 15) / 16;
      for (std::size_t g = 0; g < users; g += group) {
        kernels.score_block_int8(
            panels.words.data() + first * quads * 16, panels.scales.data() + first * 16, quads,
            quantised.data() + g * words, group, panel_count, out.data(), chunk);
        benchmark::DoNotOptimize(out.data());
      }
    }
  }
  state.counters["flops"] = benchmark::Counter(
      2.0 * f * static_cast<double>(users) * items * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.SetLabel(kernels.fast_int8 ? "fast" : "portable");
}
BENCHMARK(BM_ScoreBlockInt8)->ArgNames({"factors"})->Arg(64)->Unit(benchmark::kMillisecond);

// The scan kernels alone, for one user at a time over 50,000 items × 64 factors: float32,
// bfloat16 and 8-bit panels under the target in force (TAILOR_CPU_TARGET lowers it). What
// choosing the serving scan per target (als_simd.cpp) is measured by.
void BM_ScanKernel(benchmark::State& state) {
  const tailor::Index items = static_cast<tailor::Index>(state.range(0));
  const int f = 64;
  const tailor::FactorMatrix Y = random_factors(items, f), U = random_factors(1000, f);
  const tailor::detail::ScorePanels panels = tailor::detail::score_panels(Y);
  const tailor::detail::Bf16Panels bf16 = tailor::detail::bf16_panels(Y);
  const tailor::detail::Int8Panels int8 = tailor::detail::int8_panels(Y);
  std::vector<float> scores(static_cast<std::size_t>(items));
  Eigen::Index user = 0;
  for (auto _ : state) {
    const float* u = U.row(user++ % 1000).data();
    switch (state.range(1)) {
      case 0:
        tailor::detail::score_panels(panels.data(), u, f, scores.size(), scores.data());
        break;
      case 1:
        benchmark::DoNotOptimize(
            tailor::detail::score_bf16_panels(bf16, u, f, scores.size(), scores.data()));
        break;
      default:
        benchmark::DoNotOptimize(
            tailor::detail::score_int8_panels(int8, u, f, scores.size(), scores.data()));
        break;
    }
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * items);
}
BENCHMARK(BM_ScanKernel)
    ->ArgNames({"items", "kind"})  // kind: 0 float32, 1 bfloat16, 2 8-bit
    ->Args({50000, 0})
    ->Args({50000, 1})
    ->Args({50000, 2})
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Args({1000000, 2})
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
