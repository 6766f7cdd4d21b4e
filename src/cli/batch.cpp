// SPDX-License-Identifier: MIT
// tailor batch: batch inference, JSON Lines in, JSON Lines out.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"

namespace tailor::cli {
namespace {

struct BatchArgs {
  std::string input, output;
  ServingArgs serving;
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
  BatchReport r = run_batch_inference(*campaign, a.input, a.output, options, [&](std::size_t done) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "batch: %zu lines, %.0f lines/s", done,
                  done / std::max(s, 1e-9));
    progress_line(buffer);
  });
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
  commands.push_back({cmd, [&common, a] { return run_batch(common, *a); }});
}

}  // namespace tailor::cli
