// SPDX-License-Identifier: MIT
// What the commands of the `tailor` command line share: the options every command takes, opening
// the group, option values parsed with the option's name in the error, progress lines and JSON.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tailor/tailor.hpp"

namespace tailor::cli {

/// The options every command takes.
struct Common {
  std::string dir;
  bool json = false;
  int threads = 0;
  int wait_seconds = 30;
};

/// A declared subcommand and what runs it once it is the one parsed; run returns the exit status.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

/// Declares a subcommand taking the common options (bound to `common`), which come first in its
/// help.
CLI::App* add_command(CLI::App& app, Common& common, const std::string& name,
                      const std::string& description);

/// A whole number from `low` to `high`, checked on the text: CLI11 alone would wrap "-1" into an
/// unsigned option and name its range in floating point.
CLI::Validator whole_number(unsigned long long low, unsigned long long high,
                            const std::string& expected);

/// --solution with the help of the commands that pick one when the group has only one.
void add_solution_option(CLI::App* cmd, std::string& solution);

/// What recommend and batch share: the solution, how many results and the filter.
struct ServingArgs {
  std::string solution;
  std::size_t n = 25;
  std::string filter;
  std::vector<std::string> filter_params;
  std::string filter_history;
  std::string metadata;  ///< --metadata COL,COL: items fields returned with each item
};
/// --solution, -n, --filter, --param and --filter-history, with the help texts that differ (-n's
/// range, from CampaignLimits, is added to `n_help`).
void add_serving_options(CLI::App* cmd, ServingArgs& options, const char* n_help,
                         const char* filter_help);
/// --filter-history as FilterLimits; parsed before the group is opened.
FilterLimits filter_limits(const ServingArgs& options);
/// The chosen solution's active version, served.
std::unique_ptr<Campaign> campaign_for(Store& store, const std::string& solution_name);
/// The compiled --filter, none without one.
std::optional<Filter> compile_filter(Store& store, const std::string& expression,
                                     const FilterLimits& limits);
/// --param NAME=V1,V2 (repeatable).
FilterValues parse_params(const std::vector<std::string>& params);

/// The group's StoreOptions: how long to wait for another writer.
StoreOptions store_options(const Common& common);
/// Opens the group; commands that only read open it read-only, so they never wait for a writer.
std::unique_ptr<Store> open_store(const Common& common, StoreAccess access);
/// The threads of the command and the seed of every random choice.
ExecutionOptions execution_options(const Common& common, std::uint64_t seed = 42);

/// A one-line progress display on stderr when it is a terminal; silent in pipes.
void progress_line(const std::string& text);
void progress_done();

/// The whole file; Io error when it cannot be read.
std::string read_text(const std::string& path);

/// Option values parsed here rather than by CLI11, so that a bad one exits 2 naming the option.
Error bad_option(const std::string& option, const char* expected, const std::string& found);
std::size_t parse_count(const std::string& option, const std::string& text);
float parse_float(const std::string& option, const std::string& text, bool non_negative);
std::vector<std::string> split_list(const std::string& option, const std::string& text);

/// The solution a command uses: the one named, else the group's only one. Several and none named
/// is an error listing them: picking one silently could serve the wrong model.
std::string chosen_solution(const Store& store, const std::string& requested);

std::string training_mode_name(TrainingMode mode);

/// Metrics as JSON; null when absent.
std::string metrics_json(const std::optional<RankingMetrics>& metrics);
/// A version's metrics next to the baseline's; `id` is the version's id in the store.
void print_metrics(const SolutionVersion& v, const std::string& id, bool json);

/// A report's errors as a JSON array of {"line", <place_key>, "reason"} objects (imports name the
/// place "column", put commands "field").
void append_json_errors(std::string& out, const std::vector<RowError>& errors,
                        const char* place_key);

}  // namespace tailor::cli
