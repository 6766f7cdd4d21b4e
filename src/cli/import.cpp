// SPDX-License-Identifier: MIT
// tailor import: bulk-import a CSV file into a dataset.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"

namespace tailor::cli {
namespace {

struct ImportArgs {
  std::string dataset, csv, mode = "full";
  bool skip_invalid = false, allow_empty = false;
};

void print_import_report(const ImportReport& r, double seconds, bool json) {
  if (json) {
    std::string out = "{\"rowsRead\":" + std::to_string(r.rows_read) +
                      ",\"rowsImported\":" + std::to_string(r.rows_imported) +
                      ",\"rowsRejected\":" + std::to_string(r.rows_rejected) +
                      ",\"rowsDiscarded\":" + std::to_string(r.rows_discarded) +
                      ",\"applied\":" + (r.applied ? "true" : "false") +
                      ",\"errorsTotal\":" + std::to_string(r.errors_total) + ",\"errors\":";
    append_json_errors(out, r.errors, "column");
    std::cout << out << "}\n";
  } else {
    std::cout << r.summary() << "\n";
    std::printf("%.2f s\n", seconds);
  }
}

int run_import(const Common& common, const ImportArgs& a) {
  auto store = open_store(common, StoreAccess::ReadWrite);
  ImportOptions options;
  if (a.mode == "full") {
    options.mode = ImportMode::Full;
  } else if (a.mode == "incremental") {
    options.mode = ImportMode::Incremental;
  } else {
    throw Error(ErrorCode::InvalidArgument, "--mode must be full or incremental, found " + a.mode);
  }
  options.policy = a.skip_invalid ? ImportPolicy::SkipInvalid : ImportPolicy::AllOrNothing;
  options.allow_empty = a.allow_empty;
  options.execution = execution_options(common);
  progress_line("importing " + a.csv + " ...");
  const auto start = std::chrono::steady_clock::now();
  ImportReport r = store->import_csv(parse_dataset_kind(a.dataset), a.csv, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress_done();
  print_import_report(r, seconds, common.json);
  return r.applied ? 0 : 1;
}

}  // namespace

void add_import(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<ImportArgs>();
  CLI::App* cmd = add_command(app, common, "import", "bulk-import a CSV file into a dataset");
  cmd->add_option("--dataset", a->dataset, "interactions, users or items")->required();
  cmd->add_option("--csv", a->csv, "CSV file (header row naming schema fields)")->required();
  cmd->add_option("--mode", a->mode, "full (replace) or incremental (append/upsert)");
  cmd->add_flag("--skip-invalid", a->skip_invalid, "import the good rows and report the bad ones");
  cmd->add_flag("--allow-empty", a->allow_empty,
                "let a FULL import of a header-only file empty the dataset");
  commands.push_back({cmd, [&common, a] { return run_import(common, *a); }});
}

}  // namespace tailor::cli
