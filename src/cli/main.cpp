// SPDX-License-Identifier: MIT
// The `tailor` command line: every step of the journey on a dataset-group directory (a Store).
// Catches everything; errors go to stderr with a non-zero exit status.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "cli/common.hpp"
#include "io/csv.hpp"
#include "io/json.hpp"
#include "tailor/tailor.hpp"

using namespace tailor::cli;

namespace {

using tailor::detail::append_json_string;

// Exit statuses by error kind.
int exit_code(tailor::ErrorCode code) {
  switch (code) {
    case tailor::ErrorCode::InvalidArgument: return 2;
    case tailor::ErrorCode::NotFound: return 3;
    case tailor::ErrorCode::ParseError:
    case tailor::ErrorCode::SchemaMismatch: return 4;
    case tailor::ErrorCode::Io: return 5;
    case tailor::ErrorCode::Busy: return 6;
    default: return 1;
  }
}

// The values of column `column` of a CSV file (RFC 4180, header row), for deletion jobs.
std::vector<std::string> ids_from_csv(const std::string& path, const char* column) {
  const std::string text = read_text(path);
  std::size_t start = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // UTF-8 byte order mark
  tailor::detail::CsvReader reader(text.data() + start, text.data() + text.size(), 1);
  tailor::detail::CsvRecord record;
  if (!reader.next(record) || !record.ok) {
    throw tailor::Error(tailor::ErrorCode::ParseError, path + ": expected a header line naming a " + column + " column");
  }
  const auto at = std::find(record.fields.begin(), record.fields.end(), std::string_view(column));
  if (at == record.fields.end()) {
    throw tailor::Error(tailor::ErrorCode::ParseError, path + ": the header has no " + column + " column");
  }
  const std::size_t k = static_cast<std::size_t>(at - record.fields.begin());
  const std::size_t width = record.fields.size();
  std::vector<std::string> ids;
  while (reader.next(record)) {
    if (!record.ok || record.fields.size() != width || record.fields[k].empty()) {
      throw tailor::Error(tailor::ErrorCode::ParseError,
                          path + ", line " + std::to_string(record.line) + ": " +
                              (record.ok ? (record.fields.size() != width ? "expected " + std::to_string(width) + " fields"
                                                                             : std::string("empty ") + column)
                                         : record.error));
    }
    ids.emplace_back(record.fields[k]);
  }
  return ids;
}

std::string utc_time(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

// info's "solutions": [{"name","recipe","active","versions":[{"id","createdAt","trainingMode",
// "metrics"}]}], versions oldest first; the recipe is the active version's.
std::string solutions_json(const tailor::Store& store) {
  std::string out = "[";
  for (const auto& name : store.solutions()) {
    const auto versions = store.versions(name);
    const std::string active = store.active_version(name);
    std::string recipe;
    for (const auto& v : versions) {
      if (v.id == active) recipe = v.recipe;
    }
    if (out.size() > 1) out += ",";
    out += "{\"name\":";
    append_json_string(out, name);
    out += ",\"recipe\":";
    append_json_string(out, recipe);
    out += ",\"active\":";
    append_json_string(out, active);
    out += ",\"versions\":[";
    for (std::size_t k = 0; k < versions.size(); ++k) {
      if (k) out += ",";
      out += "{\"id\":";
      append_json_string(out, versions[k].id);
      out += ",\"createdAt\":" + std::to_string(versions[k].created_at) + ",\"trainingMode\":\"" +
             training_mode_name(versions[k].mode) + "\",\"metrics\":" +
             metrics_json(versions[k].metrics) + "}";
    }
    out += "]}";
  }
  return out + "]";
}

void print_solutions(const tailor::Store& store) {
  const auto names = store.solutions();
  std::printf("solutions:%s\n", names.empty() ? " (none)" : "");
  for (const auto& name : names) {
    const std::string active = store.active_version(name);
    std::printf("  %s\n", name.c_str());
    for (const auto& v : store.versions(name)) {
      std::printf("    %s  %s  %-24s %-6s ", v.id == active ? "*" : " ", v.id.c_str(),
                  v.recipe.c_str(), training_mode_name(v.mode).c_str());
      std::printf("%s  ", utc_time(v.created_at).c_str());
      if (v.metrics) {
        std::printf("ndcg@10 %.4f\n", v.metrics->normalized_discounted_cumulative_gain_at_10);
      } else {
        std::printf("no metrics\n");
      }
    }
  }
  if (!names.empty()) std::printf("  (* the active version)\n");
}

void print_response(const tailor::RecommendationResponse& r, bool json, const char* list_name) {
  if (json) {
    std::string out = std::string("{\"") + list_name + "\":[";
    for (std::size_t k = 0; k < r.items.size(); ++k) {
      if (k) out += ",";
      out += "{\"itemId\":";
      append_json_string(out, r.items[k].item_id);
      if (r.items[k].score) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.6g", *r.items[k].score);
        out += std::string(",\"score\":") + buffer;
      }
      if (!r.items[k].promotion_name.empty()) {
        out += ",\"promotionName\":";
        append_json_string(out, r.items[k].promotion_name);
      }
      out += "}";
    }
    out += "],\"recommendationId\":";
    append_json_string(out, r.recommendation_id);
    std::cout << out << "}\n";
    return;
  }
  if (r.cold_start) std::cout << "(unknown user: popular items)\n";
  for (std::size_t k = 0; k < r.items.size(); ++k) {
    std::printf("%3zu. %-24s", k + 1, r.items[k].item_id.c_str());
    if (r.items[k].score) std::printf(" %.6f", *r.items[k].score);
    else std::printf(" %s", "(no score)");
    std::printf("\n");
  }
  std::printf("recommendation id %s\n", r.recommendation_id.c_str());
}

// One JSON object per line; calls fn(line number, object).
template <typename Fn>
void for_each_json_line(const std::string& path, Fn&& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw tailor::Error(tailor::ErrorCode::Io, "cannot read " + path);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    fn(number, line);
  }
}

void print_put_report(const tailor::PutReport& r, std::size_t lines, bool json) {
  if (json) {
    std::string out = "{\"accepted\":" + std::to_string(r.accepted) + ",\"rejected\":" + std::to_string(r.rejected) +
                      ",\"errors\":";
    append_json_errors(out, r.errors, "field");
    std::cout << out << "}\n";
    return;
  }
  std::printf("%zu lines: %zu accepted, %zu rejected\n", lines, r.accepted, r.rejected);
  for (const auto& e : r.errors) {
    if (e.column.empty()) {  // the record as a whole, e.g. malformed JSON
      std::printf("  line %zu: %s\n", e.line, e.reason.c_str());
    } else {
      std::printf("  line %zu, %s: %s\n", e.line, e.column.c_str(), e.reason.c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"tailor: an embedded recommender engine. Each command works on a dataset-group directory."};
  app.require_subcommand(1);
  Common common;
  auto add_common = [&](CLI::App* cmd) {
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
  };

  auto* create = app.add_subcommand("create", "create a dataset group from schema files");
  std::string interactions_schema, users_schema, items_schema;
  add_common(create);
  create->add_option("--interactions-schema", interactions_schema, "Interactions schema (Avro JSON)")->required();
  create->add_option("--users-schema", users_schema, "Users schema");
  create->add_option("--items-schema", items_schema, "Items schema");

  auto* import = app.add_subcommand("import", "bulk-import a CSV file into a dataset");
  std::string dataset, csv, mode = "full";
  bool skip_invalid = false, allow_empty = false;
  add_common(import);
  import->add_option("--dataset", dataset, "interactions, users or items")->required();
  import->add_option("--csv", csv, "CSV file (header row naming schema fields)")->required();
  import->add_option("--mode", mode, "full (replace) or incremental (append/upsert)");
  import->add_flag("--skip-invalid", skip_invalid, "import the good rows and report the bad ones");
  import->add_flag("--allow-empty", allow_empty,
                   "let a FULL import of a header-only file empty the dataset");

  std::string input;
  auto* put_events = app.add_subcommand("put-events", "send events (one Personalize event per JSON line)");
  add_common(put_events);
  put_events->add_option("--input", input, "JSON Lines file")->required();
  auto* put_users = app.add_subcommand("put-users", "upsert users ({\"userId\",\"properties\"} per line)");
  add_common(put_users);
  put_users->add_option("--input", input, "JSON Lines file")->required();
  auto* put_items = app.add_subcommand("put-items", "upsert items ({\"itemId\",\"properties\"} per line)");
  add_common(put_items);
  put_items->add_option("--input", input, "JSON Lines file")->required();

  auto* train = app.add_subcommand("train", "train a solution version (with metrics unless --no-metrics)");
  std::string recipe, solution_name, params = "{}";
  std::uint64_t seed = 42;
  bool no_metrics = false;
  add_common(train);
  std::string recipes_help = "recipe:";
  for (const auto& n : tailor::RecipeRegistry::names()) recipes_help += " " + n;
  train->add_option("--recipe", recipe, recipes_help)->required();
  train->add_option("--solution", solution_name, "solution name (default: the recipe's name)");
  train->add_option("--params", params, "hyperparameters as JSON, or @file");
  train->add_option("--seed", seed, "seed for every random choice")
      ->check(
          whole_number(0, std::numeric_limits<std::uint64_t>::max(), "a whole number, 0 or more"));
  train->add_flag("--no-metrics", no_metrics, "train on all data without the evaluation split");
  std::string train_mode = "full", event_types, event_value_threshold, event_weights;
  bool event_value_as_weight = false;
  train->add_option("--mode", train_mode,
                    "full (a new model) or update (extend the solution's stored version with new users and items; "
                    "--params and the event options default to that version's)");
  train->add_option("--event-types", event_types, "train on these event types only (comma-separated)");
  train->add_option("--event-value-threshold", event_value_threshold, "drop events whose EVENT_VALUE is below this");
  train->add_option("--event-weights", event_weights, "weight per event type: TYPE=W,TYPE=W (others weigh 1)");
  train->add_flag("--event-value-as-weight", event_value_as_weight, "weigh each event by its EVENT_VALUE too");

  auto* evaluate = app.add_subcommand("evaluate", "print a solution's metrics");
  add_common(evaluate);
  evaluate->add_option("--solution", solution_name, "solution (needed when the group has several)");

  auto* recommend = app.add_subcommand("recommend", "recommendations for a user, or similar items for an item");
  std::string user, item, filter;
  std::size_t n = 25;
  std::vector<std::string> filter_params;
  add_common(recommend);
  recommend->add_option("--user", user, "user id");
  recommend->add_option("--item", item, "item id (similar items; recipe sims)");
  recommend->add_option("--solution", solution_name,
                        "solution (needed when the group has several)");
  recommend->add_option("-n", n, "number of results (1 to 500)")
      ->check(whole_number(1, 500, "a whole number from 1 to 500 (the limit)"));
  recommend->add_option("--filter", filter, "filter expression");
  recommend->add_option("--param", filter_params, "filter parameter NAME=V1,V2 (repeatable)");
  std::string filter_history;
  const char* filter_history_help = "the filter considers a user's N most recent interactions per event type "
                                    "(default 0: all of them; Personalize considers 100)";
  recommend->add_option("--filter-history", filter_history, filter_history_help);

  auto* rank = app.add_subcommand("rank", "rank a list of items for a user");
  std::string items;
  add_common(rank);
  rank->add_option("--user", user, "user id")->required();
  rank->add_option("--items", items, "comma-separated item ids")->required();
  rank->add_option("--solution", solution_name, "solution (needed when the group has several)");

  auto* batch = app.add_subcommand("batch", "batch inference: JSON Lines in, JSON Lines out");
  std::string output;
  add_common(batch);
  batch->add_option("--input", input, "JSON Lines input")->required();
  batch->add_option("--output", output, "JSON Lines output")->required();
  batch->add_option("--solution", solution_name, "solution (needed when the group has several)");
  batch->add_option("-n", n, "number of results per line (1 to 500)")
      ->check(whole_number(1, 500, "a whole number from 1 to 500 (the limit)"));
  batch->add_option("--filter", filter, "filter expression for every line");
  batch->add_option("--param", filter_params, "filter parameter NAME=V1,V2 (repeatable)");
  batch->add_option("--filter-history", filter_history, filter_history_help);

  auto* info = app.add_subcommand("info", "datasets and solutions of a dataset group");
  add_common(info);

  auto* activate =
      app.add_subcommand("activate", "make a kept version of a solution the active one");
  std::string version_id;
  add_common(activate);
  activate->add_option("--solution", solution_name, "solution")->required();
  activate->add_option("--version", version_id, "version id (tailor info lists them)")->required();

  auto* repair = app.add_subcommand(
      "repair", "salvage a group whose update log is damaged (the damaged log is kept as a copy)");
  add_common(repair);

  std::string ids_text, ids_csv;
  auto* delete_users = app.add_subcommand(
      "delete-users", "delete users, their interactions and their data from the group and its models");
  add_common(delete_users);
  auto* delete_items = app.add_subcommand(
      "delete-items", "delete items, every interaction with them and their data, from the group and models");
  add_common(delete_items);
  for (CLI::App* cmd : {delete_users, delete_items}) {
    auto* by_list = cmd->add_option("--ids", ids_text, "comma-separated ids");
    auto* by_file = cmd->add_option("--csv", ids_csv,
                                    cmd == delete_users ? "CSV file with a USER_ID column" : "CSV file with an ITEM_ID column");
    by_list->excludes(by_file);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a "parse error" with status 0 (its text goes to stdout); every real one is an
    // invalid argument: its message goes to stderr and the status is 2, like any other.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "tailor: " << e.what() << " (see --help)\n";
    return 2;
  }
  tailor::FilterLimits filter_limits;
  if (!filter_history.empty()) filter_limits.interactions_per_event_type = parse_count("--filter-history", filter_history);
  tailor::ExecutionOptions execution;
  execution.num_threads = common.threads;
  execution.seed = seed;

  if (create->parsed()) {
    using tailor::DatasetKind;
    std::optional<tailor::Schema> us, is;
    if (!users_schema.empty()) us = tailor::Schema::load(users_schema, DatasetKind::Users);
    if (!items_schema.empty()) is = tailor::Schema::load(items_schema, DatasetKind::Items);
    tailor::Store::create(common.dir,
                          tailor::DatasetGroup(tailor::Schema::load(interactions_schema, DatasetKind::Interactions), us, is));
    if (common.json) std::cout << "{\"created\":true}\n";
    else std::cout << "created dataset group " << common.dir << "\n";
    return 0;
  }

  tailor::StoreOptions store_options;
  store_options.lock_wait = std::chrono::seconds(common.wait_seconds);
  if (repair->parsed()) {
    const tailor::RepairReport r = tailor::Store::repair(common.dir, store_options);
    if (common.json) {
      std::string out = "{\"changed\":" + std::string(r.changed() ? "true" : "false") +
                        ",\"recordsReplayed\":" + std::to_string(r.records_replayed) +
                        ",\"bytesSkipped\":" + std::to_string(r.bytes_skipped) +
                        ",\"logReplaced\":" + (r.log_replaced ? "true" : "false") + ",\"damagedCopy\":";
      append_json_string(out, r.damaged_copy);
      std::cout << out << "}\n";
    } else if (!r.changed()) {
      std::printf("%s is intact: nothing to repair\n", common.dir.c_str());
    } else {
      std::printf("repaired %s: %zu log records replayed, %zu damaged bytes skipped%s\n", common.dir.c_str(),
                  r.records_replayed, r.bytes_skipped, r.log_replaced ? ", log started afresh" : "");
      if (!r.damaged_copy.empty()) std::printf("the damaged log is kept as %s\n", r.damaged_copy.c_str());
    }
    return 0;
  }
  // Commands that only read open the group read-only: they never wait for a writer, nor change a
  // file. train reads too, and takes the writer lock only to save its version: events keep
  // arriving during a long training.
  const bool reads_only = recommend->parsed() || rank->parsed() || batch->parsed() || info->parsed() ||
                          evaluate->parsed() || train->parsed();
  if (reads_only) store_options.access = tailor::StoreAccess::ReadOnly;
  auto store = tailor::Store::open(common.dir, store_options);

  if (delete_users->parsed() || delete_items->parsed()) {
    const bool users = delete_users->parsed();
    if (ids_text.empty() == ids_csv.empty()) {
      throw tailor::Error(tailor::ErrorCode::InvalidArgument, "give the ids to delete with --ids or --csv");
    }
    std::vector<std::string> ids = ids_csv.empty() ? split_list("--ids", ids_text)
                                                   : ids_from_csv(ids_csv, users ? "USER_ID" : "ITEM_ID");
    const tailor::DeleteReport r = users ? store->delete_users(ids) : store->delete_items(ids);
    if (common.json) {
      std::cout << "{\"deleted\":" << r.deleted << ",\"unknown\":" << r.unknown
                << ",\"interactionsRemoved\":" << r.interactions << "}\n";
    } else {
      std::printf("%zu %s deleted (%zu interactions removed), %zu unknown ids\n", r.deleted,
                  users ? "users" : "items", r.interactions, r.unknown);
    }
    return 0;
  }

  if (import->parsed()) {
    tailor::ImportOptions options;
    if (mode == "full") options.mode = tailor::ImportMode::Full;
    else if (mode == "incremental") options.mode = tailor::ImportMode::Incremental;
    else throw tailor::Error(tailor::ErrorCode::InvalidArgument, "--mode must be full or incremental, found " + mode);
    options.policy = skip_invalid ? tailor::ImportPolicy::SkipInvalid : tailor::ImportPolicy::AllOrNothing;
    options.allow_empty = allow_empty;
    options.execution = execution;
    progress_line("importing " + csv + " ...");
    const auto start = std::chrono::steady_clock::now();
    tailor::ImportReport r = store->import_csv(tailor::parse_dataset_kind(dataset), csv, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress_done();
    if (common.json) {
      std::string out = "{\"rowsRead\":" + std::to_string(r.rows_read) + ",\"rowsImported\":" +
                        std::to_string(r.rows_imported) + ",\"rowsRejected\":" + std::to_string(r.rows_rejected) +
                        ",\"rowsDiscarded\":" + std::to_string(r.rows_discarded) + ",\"applied\":" +
                        (r.applied ? "true" : "false") + ",\"errorsTotal\":" + std::to_string(r.errors_total) +
                        ",\"errors\":";
      append_json_errors(out, r.errors, "column");
      std::cout << out << "}\n";
    } else {
      std::cout << r.summary() << "\n";
      std::printf("%.2f s\n", seconds);
    }
    return r.applied ? 0 : 1;
  }

  if (put_events->parsed() || put_users->parsed() || put_items->parsed()) {
    // Each line is read on its own: a bad one is rejected with its reason and the rest go on.
    const tailor::DatasetKind kind = put_events->parsed() ? tailor::DatasetKind::Interactions
                                     : put_users->parsed() ? tailor::DatasetKind::Users
                                                           : tailor::DatasetKind::Items;
    std::vector<tailor::EventRecord> events;
    std::vector<tailor::EntityRecord> entities;
    std::vector<std::size_t> line_of_record;  // file line of each accepted record
    std::vector<tailor::RowError> unreadable;
    std::size_t lines = 0;
    for_each_json_line(input, [&](std::size_t number, const std::string& line) {
      ++lines;
      try {
        if (kind == tailor::DatasetKind::Interactions) {
          events.push_back(tailor::parse_event_json(line));
        } else {
          entities.push_back(tailor::parse_entity_json(line, kind));
        }
        line_of_record.push_back(number);
      } catch (const tailor::RecordError& e) {
        unreadable.push_back({number, e.field(), e.what()});
      }
    });
    tailor::PutReport r = kind == tailor::DatasetKind::Interactions ? store->put_events(events)
                          : kind == tailor::DatasetKind::Users      ? store->put_users(entities)
                                                                    : store->put_items(entities);
    // The report numbers the records of the call; the user wants the lines of the file.
    for (tailor::RowError& e : r.errors) e.line = line_of_record.at(e.line - 1);
    r.errors.insert(r.errors.end(), unreadable.begin(), unreadable.end());
    std::stable_sort(
        r.errors.begin(), r.errors.end(),
        [](const tailor::RowError& a, const tailor::RowError& b) { return a.line < b.line; });
    r.rejected += unreadable.size();
    print_put_report(r, lines, common.json);
    return 0;
  }

  if (train->parsed()) {
    tailor::TrainOptions options;
    if (train_mode == "full") options.mode = tailor::TrainingMode::Full;
    else if (train_mode == "update") options.mode = tailor::TrainingMode::Update;
    else throw bad_option("--mode", "full or update", train_mode);
    tailor::EventSelection events;
    if (!event_types.empty()) events.event_types = split_list("--event-types", event_types);
    if (!event_value_threshold.empty()) {
      events.event_value_threshold = parse_float("--event-value-threshold", event_value_threshold, false);
    }
    if (!event_weights.empty()) {
      for (const std::string& pair : split_list("--event-weights", event_weights)) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) throw bad_option("--event-weights", "TYPE=W,TYPE=W", event_weights);
        events.event_type_weights.emplace_back(pair.substr(0, eq),
                                               parse_float("--event-weights", pair.substr(eq + 1), true));
      }
    }
    events.event_value_as_weight = event_value_as_weight;
    const bool events_given = !event_types.empty() || !event_value_threshold.empty() || !event_weights.empty() ||
                              event_value_as_weight;
    if (!params.empty() && params[0] == '@') params = read_text(params.substr(1));
    tailor::SolutionConfig config{solution_name.empty() ? recipe : solution_name, recipe, params, events};
    // UPDATE extends the solution's stored version, with its settings unless given here.
    std::optional<tailor::SolutionVersion> previous;
    if (options.mode == tailor::TrainingMode::Update) {
      try {
        previous = store->load_version(config.name);
      } catch (const tailor::Error& e) {
        if (e.code() != tailor::ErrorCode::NotFound) throw;
        throw tailor::Error(tailor::ErrorCode::NotFound,
                            "--mode update needs a trained version of solution " + config.name + ": " + e.what());
      }
      if (train->count("--params") == 0) config.params_json = previous->config().params_json;
      if (!events_given) config.events = previous->config().events;
    }
    tailor::Solution solution(config);
    options.compute_metrics = !no_metrics;
    options.execution = execution;
    const auto start = std::chrono::steady_clock::now();
    options.progress = [&](const tailor::TrainingProgress& p) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = p.iteration / std::max(p.elapsed_seconds, 1e-9);
      const double eta = rate > 0 ? (p.total - p.iteration) / rate : 0;
      char buffer[128];
      std::snprintf(buffer, sizeof buffer, "training %s: %s %d/%d, %.1f steps/s, ETA %.1f s (%.1f s so far)",
                    recipe.c_str(), p.stage.c_str(), p.iteration, p.total, rate, eta, elapsed);
      progress_line(buffer);
    };
    // Copy the events under the read lock, then train without holding it.
    auto [selected, users, item_count] = store->group()->read([&](const tailor::DatasetGroup& g) {
      return std::make_tuple(solution.select_events(g), g.user_ids().size(), g.item_ids().size());
    });
    tailor::SolutionVersion v =
        solution.train(std::move(selected), users, item_count, options, previous ? &*previous : nullptr);
    progress_done();
    store.reset();  // the read-only view is done with: one copy of the group in memory at a time
    tailor::StoreOptions write_options = store_options;
    write_options.access = tailor::StoreAccess::ReadWrite;
    const std::string id = tailor::Store::open(common.dir, write_options)->save_version(v);
    print_metrics(v, id, common.json);
    return 0;
  }

  if (evaluate->parsed()) {
    const std::string name = chosen_solution(*store, solution_name);
    print_metrics(store->load_version(name), store->active_version(name), common.json);
    return 0;
  }

  if (recommend->parsed()) {
    if (user.empty() == item.empty()) throw tailor::Error(tailor::ErrorCode::InvalidArgument, "give --user or --item");
    auto campaign = campaign_for(*store, solution_name);
    tailor::RecommendationRequest r;
    r.user_id = user;
    r.item_id = item;
    r.num_results = n;
    r.filter = compile_filter(*store, filter, filter_limits);
    r.filter_values = parse_params(filter_params);
    print_response(campaign->get_recommendations(r), common.json, "itemList");
    return 0;
  }

  if (rank->parsed()) {
    tailor::RankingRequest r;
    r.user_id = user;
    r.input_list = split_list("--items", items);
    auto campaign = campaign_for(*store, solution_name);
    print_response(campaign->get_personalized_ranking(r), common.json, "personalizedRanking");
    return 0;
  }

  if (batch->parsed()) {
    auto campaign = campaign_for(*store, solution_name);
    tailor::BatchOptions options;
    options.num_results = n;
    options.filter = compile_filter(*store, filter, filter_limits);
    options.filter_values = parse_params(filter_params);
    options.execution = execution;
    const auto start = std::chrono::steady_clock::now();
    tailor::BatchReport r = tailor::run_batch_inference(*campaign, input, output, options, [&](std::size_t done) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      char buffer[96];
      std::snprintf(buffer, sizeof buffer, "batch: %zu lines, %.0f lines/s", done, done / std::max(s, 1e-9));
      progress_line(buffer);
    });
    progress_done();
    if (common.json) {
      std::cout << "{\"linesRead\":" << r.lines_read << ",\"succeeded\":" << r.succeeded << ",\"failed\":" << r.failed
                << ",\"seconds\":" << r.seconds << "}\n";
    } else {
      std::printf("%zu lines read, %zu succeeded, %zu failed, %.2f s (%.0f lines/s)\n", r.lines_read, r.succeeded,
                  r.failed, r.seconds, r.lines_read / std::max(r.seconds, 1e-9));
    }
    return 0;
  }

  if (info->parsed()) {
    auto counts = store->group()->read([](const tailor::DatasetGroup& g) {
      return std::make_tuple(g.rows(tailor::DatasetKind::Interactions), g.rows(tailor::DatasetKind::Users),
                             g.rows(tailor::DatasetKind::Items),
                             g.user_ids().size() - g.user_ids().erased_count(),  // deleted ids are gone
                             g.item_ids().size() - g.item_ids().erased_count());
    });
    if (common.json) {
      std::string out =
          "{\"datasets\":{\"interactions\":{\"rows\":" + std::to_string(std::get<0>(counts)) +
          "},\"users\":{\"rows\":" + std::to_string(std::get<1>(counts)) +
          "},\"items\":{\"rows\":" + std::to_string(std::get<2>(counts)) + "}},\"solutions\":";
      std::cout << out << solutions_json(*store) << "}\n";
    } else {
      std::printf("interactions: %zu rows\nusers: %zu rows (%zu user ids)\nitems: %zu rows (%zu item ids)\n",
                  std::get<0>(counts), std::get<1>(counts), static_cast<std::size_t>(std::get<3>(counts)),
                  std::get<2>(counts), static_cast<std::size_t>(std::get<4>(counts)));
      print_solutions(*store);
    }
    return 0;
  }

  if (activate->parsed()) {
    store->activate(solution_name, version_id);
    if (common.json) {
      std::string out = "{\"solution\":";
      append_json_string(out, solution_name);
      out += ",\"active\":";
      append_json_string(out, version_id);
      std::cout << out << "}\n";
    } else {
      std::printf("solution %s: version %s is active\n", solution_name.c_str(), version_id.c_str());
    }
    return 0;
  }
  return 0;
} catch (const tailor::Error& e) {
  std::cerr << "tailor: " << e.what() << "\n";
  return exit_code(e.code());
} catch (const std::exception& e) {
  std::cerr << "tailor: " << e.what() << "\n";
  return 1;
}
