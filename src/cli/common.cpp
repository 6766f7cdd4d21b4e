// SPDX-License-Identifier: MIT
#include "cli/common.hpp"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "io/json.hpp"

namespace tailor::cli {

using tailor::detail::append_json_string;

CLI::App* add_command(CLI::App& app, Common& common, const std::string& name,
                      const std::string& description) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("DIR", common.dir, "dataset-group directory")->required();
  cmd->add_flag("--json", common.json, "print JSON");
  cmd->add_option("--threads", common.threads,
                  "cap the threads of this command (0: all cores; at most the core count)")
      ->check(whole_number(0, std::numeric_limits<int>::max(),
                           "a whole number of threads, 0 for all cores"));
  cmd->add_option("--wait", common.wait_seconds,
                  "seconds to wait while another process writes to the group (default 30), then "
                  "fail with status 6")
      ->check(whole_number(0, 86400, "a whole number of seconds from 0 to 86400"));
  return cmd;
}

CLI::Validator whole_number(unsigned long long low, unsigned long long high,
                            const std::string& expected) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        unsigned long long value = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end || value < low || value > high) {
          return "expected " + expected + ", found \"" + text + "\"";
        }
        return std::string();
      },
      "");
}

void add_solution_option(CLI::App* cmd, std::string& solution) {
  cmd->add_option("--solution", solution, "solution (needed when the group has several)");
}

void add_serving_options(CLI::App* cmd, ServingArgs& options, const char* n_help,
                         const char* filter_help) {
  add_solution_option(cmd, options.solution);
  const std::string limit = std::to_string(tailor::CampaignLimits::kMaxNumResults);
  cmd->add_option("-n", options.n, std::string(n_help) + " (1 to " + limit + ")")
      ->check(whole_number(1, tailor::CampaignLimits::kMaxNumResults,
                           "a whole number from 1 to " + limit + " (the limit)"));
  cmd->add_option("--filter", options.filter, filter_help);
  cmd->add_option("--param", options.filter_params, "filter parameter NAME=V1,V2 (repeatable)");
  cmd->add_option("--filter-history", options.filter_history,
                  "the filter considers a user's N most recent interactions per event type "
                  "(default 0: all of them; Personalize considers 100)");
  cmd->add_option("--metadata", options.metadata,
                  "comma-separated items fields returned with each item (metadataColumns)");
}

FilterLimits filter_limits(const ServingArgs& options) {
  tailor::FilterLimits limits;
  if (!options.filter_history.empty()) {
    limits.interactions_per_event_type = parse_count("--filter-history", options.filter_history);
  }
  return limits;
}

std::unique_ptr<tailor::Campaign> campaign_for(tailor::Store& store,
                                               const std::string& solution_name) {
  return std::make_unique<tailor::Campaign>(
      store.group(), store.load_version(chosen_solution(store, solution_name)));
}

std::optional<tailor::Filter> compile_filter(tailor::Store& store, const std::string& expression,
                                             const tailor::FilterLimits& limits) {
  if (expression.empty()) return std::nullopt;
  return store.group()->read([&](const tailor::DatasetGroup& g) {
    return tailor::Filter::compile(expression, g, limits);
  });
}

tailor::FilterValues parse_params(const std::vector<std::string>& params) {
  tailor::FilterValues values;
  for (const std::string& p : params) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw tailor::Error(tailor::ErrorCode::InvalidArgument,
                          "--param expects NAME=V1,V2, found \"" + p + "\"");
    }
    std::vector<std::string> list;
    std::stringstream s(p.substr(eq + 1));
    std::string v;
    while (std::getline(s, v, ',')) list.push_back(v);
    values[p.substr(0, eq)] = list;
  }
  return values;
}

StoreOptions store_options(const Common& common) {
  StoreOptions options;
  options.lock_wait = std::chrono::seconds(common.wait_seconds);
  return options;
}

std::unique_ptr<Store> open_store(const Common& common, StoreAccess access) {
  StoreOptions options = store_options(common);
  options.access = access;
  return Store::open(common.dir, options);
}

ExecutionOptions execution_options(const Common& common, std::uint64_t seed) {
  ExecutionOptions execution;
  execution.num_threads = common.threads;
  execution.seed = seed;
  return execution;
}

namespace {
bool terminal() { return ::isatty(2) == 1; }
}  // namespace

void progress_line(const std::string& text) {
  if (terminal()) std::fprintf(stderr, "\r\033[K%s", text.c_str());
}
void progress_done() {
  if (terminal()) std::fprintf(stderr, "\r\033[K");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw tailor::Error(tailor::ErrorCode::Io, "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

tailor::Error bad_option(const std::string& option, const char* expected,
                         const std::string& found) {
  return tailor::Error(tailor::ErrorCode::InvalidArgument,
                       option + " expects " + expected + ", found \"" + found + "\"");
}
std::size_t parse_count(const std::string& option, const std::string& text) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    throw bad_option(option, "a whole number >= 0", text);
  }
  return static_cast<std::size_t>(std::stoull(text));
}
float parse_float(const std::string& option, const std::string& text, bool non_negative) {
  char* end = nullptr;
  const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  const bool ok = !text.empty() && end == text.c_str() + text.size() && std::isfinite(v) &&
                  std::fabs(v) <= std::numeric_limits<float>::max() && !(non_negative && v < 0);
  if (!ok)
    throw bad_option(option, non_negative ? "a finite number >= 0" : "a finite number", text);
  return static_cast<float>(v);
}
std::vector<std::string> split_list(const std::string& option, const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string v;
  while (std::getline(s, v, ',')) {
    if (v.empty()) throw bad_option(option, "a comma-separated list without empty entries", text);
    out.push_back(v);
  }
  if (out.empty() || text.back() == ',') {
    throw bad_option(option, "a comma-separated list without empty entries", text);
  }
  return out;
}

std::string chosen_solution(const tailor::Store& store, const std::string& requested) {
  if (!requested.empty()) return requested;
  const auto names = store.solutions();
  if (names.empty()) {
    throw tailor::Error(tailor::ErrorCode::NotFound,
                        "no trained solution in " + store.directory() + " (run tailor train)");
  }
  if (names.size() > 1) {
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
    throw tailor::Error(tailor::ErrorCode::InvalidArgument,
                        store.directory() + " has " + std::to_string(names.size()) +
                            " solutions (" + list + "): choose one with --solution NAME");
  }
  return names[0];
}

std::string training_mode_name(tailor::TrainingMode mode) {
  return mode == tailor::TrainingMode::Update ? "UPDATE" : "FULL";
}

std::string metrics_json(const std::optional<tailor::RankingMetrics>& metrics) {
  return metrics ? metrics->to_json() : "null";
}

void print_metrics(const tailor::SolutionVersion& v, const std::string& id, bool json) {
  if (json) {
    std::cout << "{\"solution\":";
    std::string name;
    append_json_string(name, v.config().name);
    name += ",\"version\":";
    append_json_string(name, id);
    std::cout << name << ",\"trainingMode\":\"" << training_mode_name(v.mode())
              << "\",\"eventSelection\":" << v.config().events.to_json()
              << ",\"metrics\":" << metrics_json(v.metrics())
              << ",\"baseline\":" << metrics_json(v.baseline_metrics());
    if (v.hpo()) std::cout << ",\"hpo\":" << v.hpo()->to_json();
    std::cout << "}\n";
    return;
  }
  std::printf("solution %s (recipe %s), version %s, trained in %.2f s\n", v.config().name.c_str(),
              v.config().recipe.c_str(), id.c_str(), v.training_seconds());
  if (v.hpo()) {
    std::printf(
        "  hyperparameter search: %zu trainings in %.1f s, best %s %.4f on %zu validation "
        "users\n  chosen: %s\n",
        v.hpo()->trials.size(), v.hpo()->seconds, v.hpo()->config.metric.c_str(),
        v.hpo()->best_objective, v.hpo()->validation_users, v.config().params_json.c_str());
  }
  if (!v.metrics()) {
    std::printf("  no metrics (trained with --no-metrics)\n");
    return;
  }
  const auto a = v.metrics()->named(), b = v.baseline_metrics()->named();
  const std::string baseline = tailor::RecipeRegistry::baseline()->name();
  for (std::size_t k = 0; k < a.size(); ++k) {
    std::printf("  %-45s %.4f   (%s %.4f)\n", a[k].first.c_str(), a[k].second, baseline.c_str(),
                b[k].second);
  }
}

void append_json_errors(std::string& out, const std::vector<tailor::RowError>& errors,
                        const char* place_key) {
  out += "[";
  for (std::size_t k = 0; k < errors.size(); ++k) {
    if (k) out += ",";
    out += "{\"line\":" + std::to_string(errors[k].line) + ",\"" + place_key + "\":";
    append_json_string(out, errors[k].column);
    out += ",\"reason\":";
    append_json_string(out, errors[k].reason);
    out += "}";
  }
  out += "]";
}

}  // namespace tailor::cli
