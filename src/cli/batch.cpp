// SPDX-License-Identifier: MIT
// tailor batch: batch inference, JSON Lines in, JSON Lines out.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/mpi.hpp"
#ifdef TAILOR_WITH_MPI
#include "tailor/distributed/batch.hpp"
#endif

namespace tailor::cli {
namespace {

struct BatchArgs {
  std::string input, output;
  ServingArgs serving;
  bool mpi = false;
};

int run_batch(const Common& common, const BatchArgs& a) {
  const FilterLimits limits = filter_limits(a.serving);
  auto store = open_store(common, StoreAccess::ReadOnly);
  auto campaign = campaign_for(*store, a.serving.solution);
  BatchOptions options;
  options.num_results = a.serving.n;
  options.filter = compile_filter(*store, a.serving.filter, limits);
  options.filter_values = parse_params(a.serving.filter_params);
  options.execution = execution_options(common);
  if (!a.serving.metadata.empty()) {
    options.metadata_columns = split_list("--metadata", a.serving.metadata);
    // A job-wide option: a bad column is refused before the job, not on every line.
    store->group()->read([&](const DatasetGroup& g) {
      for (const std::string& c : options.metadata_columns) {
        TAILOR_THROW_IF(!g.items() || !g.items()->column(c), ErrorCode::InvalidArgument,
                        "--metadata: \"", c, "\" is not a field of the items dataset");
      }
      return 0;
    });
  }
  const auto start = std::chrono::steady_clock::now();
  const bool root = mpi_rank() == 0;
  auto progress = [&](std::size_t done) {
    if (!root) return;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "batch: %zu lines, %.0f lines/s", done,
                  done / std::max(s, 1e-9));
    progress_line(buffer);
  };
  BatchReport r;
#ifdef TAILOR_WITH_MPI
  if (use_mpi(a.mpi)) {
    // Every rank answers a share; rank 0 reads the input and writes the output.
    r = distributed::run_batch_inference(MPI_COMM_WORLD, *campaign, a.input, a.output, options,
                                         progress);
  } else {
    r = run_batch_inference(*campaign, a.input, a.output, options, progress);
  }
#else
  TAILOR_THROW_IF(a.mpi, ErrorCode::InvalidArgument,
                  "--mpi: this tailor was built without MPI (TAILOR_WITH_MPI)");
  r = run_batch_inference(*campaign, a.input, a.output, options, progress);
#endif
  if (!root) return 0;
  progress_done();
  if (common.json) {
    std::cout << "{\"linesRead\":" << r.lines_read << ",\"succeeded\":" << r.succeeded
              << ",\"failed\":" << r.failed << ",\"seconds\":" << r.seconds << "}\n";
  } else {
    std::printf("%zu lines read, %zu succeeded, %zu failed, %.2f s (%.0f lines/s)\n", r.lines_read,
                r.succeeded, r.failed, r.seconds, r.lines_read / std::max(r.seconds, 1e-9));
  }
  return 0;
}

}  // namespace

void add_batch(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<BatchArgs>();
  CLI::App* cmd =
      add_command(app, common, "batch", "batch inference: JSON Lines in, JSON Lines out");
  cmd->add_option("--input", a->input, "JSON Lines input")->required();
  cmd->add_option("--output", a->output, "JSON Lines output")->required();
  add_serving_options(cmd, a->serving, "number of results per line",
                      "filter expression for every line");
  cmd->add_flag("--mpi", a->mpi,
                "answer the lines across MPI ranks (automatic under mpirun with more than one "
                "rank); rank 0 reads the input and writes the output");
  commands.push_back({cmd, [&common, a] { return run_batch(common, *a); }});
}

}  // namespace tailor::cli
