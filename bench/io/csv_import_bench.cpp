// SPDX-License-Identifier: MIT
// CSV bulk import of a benchmark-scale interactions file (default 5,000,000 rows, 100k users,
// 50k items; TAILOR_BENCH_ROWS overrides), id interning included, 1 and 2 threads: straight into a
// DatasetGroup, and through the write path of a served group (LiveDatasetGroup: staged without a
// lock, then committed under the exclusive lock).
#include <benchmark/benchmark.h>

#include <tailor/tailor.hpp>

#include "common/synthetic.hpp"

namespace {

const std::string& bench_csv() {
  static const std::string csv = [] {
    tailor::bench::SyntheticSpec spec;
    spec.interactions = tailor::bench::rows_from_env(spec.interactions);
    return tailor::bench::synthetic_csv(spec);
  }();
  return csv;
}

void BM_ImportInteractionsCsv(benchmark::State& state) {
  const std::string& csv = bench_csv();
  const auto schema = tailor::Schema::parse(tailor::bench::kBenchInteractionsSchema,
                                            tailor::DatasetKind::Interactions);
  tailor::ImportOptions options;
  options.execution.num_threads = static_cast<int>(state.range(0));
  std::size_t rows = 0, bytes = 0;
  for (auto _ : state) {
    tailor::DatasetGroup group(schema);
    tailor::ImportReport report =
        group.import_csv_text(tailor::DatasetKind::Interactions, csv, options);
    if (!report.ok()) state.SkipWithError(report.summary().c_str());
    rows = report.rows_imported;
    bytes = group.memory_bytes();
    benchmark::DoNotOptimize(group);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * csv.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
  // Raw typed column bytes: user, item (4 each), timestamp (8), event type (2), value (4).
  state.counters["bytes_per_row"] = static_cast<double>(bytes) / static_cast<double>(rows);
  state.counters["memory_vs_raw_columns"] = static_cast<double>(bytes) / (22.0 * rows);
}
BENCHMARK(BM_ImportInteractionsCsv)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_LiveImportInteractionsCsv(benchmark::State& state) {
  const std::string& csv = bench_csv();
  const auto schema = tailor::Schema::parse(tailor::bench::kBenchInteractionsSchema,
                                            tailor::DatasetKind::Interactions);
  tailor::ImportOptions options;
  options.execution.num_threads = static_cast<int>(state.range(0));
  std::size_t rows = 0;
  for (auto _ : state) {
    tailor::LiveDatasetGroup group{tailor::DatasetGroup(schema)};
    tailor::ImportReport report =
        group.import_csv_text(tailor::DatasetKind::Interactions, csv, options);
    if (!report.ok()) state.SkipWithError(report.summary().c_str());
    rows = report.rows_imported;
    benchmark::DoNotOptimize(group);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * csv.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_LiveImportInteractionsCsv)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
