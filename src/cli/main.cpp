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

#include "cli/commands.hpp"
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

  Commands commands;
  add_create(app, common, commands);
  add_import(app, common, commands);
  add_put(app, common, commands);
  add_train(app, common, commands);
  add_evaluate(app, common, commands);

  std::string input, solution_name;
  std::uint64_t seed = 42;

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
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  tailor::FilterLimits filter_limits;
  if (!filter_history.empty()) filter_limits.interactions_per_event_type = parse_count("--filter-history", filter_history);
  tailor::ExecutionOptions execution;
  execution.num_threads = common.threads;
  execution.seed = seed;

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
  // file.
  const bool reads_only = recommend->parsed() || rank->parsed() || batch->parsed() || info->parsed();
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
