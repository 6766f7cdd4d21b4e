// SPDX-License-Identifier: MIT
// tailor inspect: one user's recent history beside their recommendations, with item metadata,
// scores and reasons, to check recommendations by eye (or --json for tools).
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/items_view.hpp"
#include "io/json.hpp"

namespace tailor::cli {
namespace {

using tailor::detail::append_json_string;

struct InspectArgs {
  std::string user, metadata, solution;
  std::size_t n = 10, history = 10;
};

struct Shown {
  std::vector<HistoryEntry> history;
  std::vector<std::vector<std::string>> history_cells, recommended_cells;
};

void append_metadata(std::string& out, const std::vector<std::string>& columns,
                     const std::vector<std::string>& cells) {
  out += ",\"metadata\":{";
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (c) out += ",";
    append_json_string(out, columns[c]);
    out += ":";
    append_json_string(out, cells[c]);
  }
  out += "}";
}

int run_inspect(const Common& common, const InspectArgs& a) {
  auto store = open_store(common, StoreAccess::ReadOnly);
  const std::vector<std::string> columns =
      a.metadata.empty() ? std::vector<std::string>{} : split_list("--metadata", a.metadata);
  const std::string solution = chosen_solution(*store, a.solution);
  Shown shown = store->group()->read([&](const DatasetGroup& g) {
    check_item_columns(g, columns);
    Shown s;
    s.history = recent_history(g, user_index(g, a.user), a.history);
    for (const HistoryEntry& e : s.history) {
      std::vector<std::string> cells;
      for (const std::string& c : columns) cells.push_back(item_cell(g, e.item, c));
      s.history_cells.push_back(std::move(cells));
    }
    return s;
  });
  Campaign campaign(store->group(), store->load_version(solution));
  RecommendationRequest request;
  request.user_id = a.user;
  request.num_results = a.n;
  request.explain = true;
  const RecommendationResponse response = campaign.get_recommendations(request);
  std::vector<std::string> history_ids;
  store->group()->read([&](const DatasetGroup& g) {
    for (const HistoryEntry& e : shown.history) history_ids.emplace_back(g.item_ids().name(e.item));
    for (const RecommendedItem& r : response.items) {
      std::vector<std::string> cells;
      const Index item = g.item_ids().find(r.item_id);
      for (const std::string& c : columns) cells.push_back(item_cell(g, item, c));
      shown.recommended_cells.push_back(std::move(cells));
    }
    return 0;
  });

  if (common.json) {
    std::string out = "{\"userId\":";
    append_json_string(out, a.user);
    out += ",\"solution\":";
    append_json_string(out, solution);
    out += ",\"history\":[";
    for (std::size_t k = 0; k < shown.history.size(); ++k) {
      if (k) out += ",";
      out += "{\"itemId\":";
      append_json_string(out, history_ids[k]);
      out += ",\"timestamp\":" + std::to_string(shown.history[k].timestamp) + ",\"eventType\":";
      append_json_string(out, shown.history[k].event_type);
      append_metadata(out, columns, shown.history_cells[k]);
      out += "}";
    }
    out += "],\"recommendations\":[";
    for (std::size_t k = 0; k < response.items.size(); ++k) {
      const RecommendedItem& r = response.items[k];
      if (k) out += ",";
      out += "{\"itemId\":";
      append_json_string(out, r.item_id);
      if (r.score) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.6g", *r.score);
        out += std::string(",\"score\":") + buffer;
      }
      append_metadata(out, columns, shown.recommended_cells[k]);
      out += ",\"reason\":[";
      for (std::size_t n = 0; n < r.reason.size(); ++n) {
        if (n) out += ",";
        append_json_string(out, r.reason[n]);
      }
      out += "]}";
    }
    out += "],\"coldStart\":" + std::string(response.cold_start ? "true" : "false") + "}";
    std::cout << out << "\n";
    return 0;
  }

  std::printf("user %s, solution %s\n\nrecent history (newest first):\n", a.user.c_str(),
              solution.c_str());
  std::vector<std::string> header = {"when", "event", "item"};
  header.insert(header.end(), columns.begin(), columns.end());
  std::vector<std::vector<std::string>> rows;
  for (std::size_t k = 0; k < shown.history.size(); ++k) {
    std::vector<std::string> row = {utc_minute(shown.history[k].timestamp),
                                    shown.history[k].event_type, history_ids[k]};
    row.insert(row.end(), shown.history_cells[k].begin(), shown.history_cells[k].end());
    rows.push_back(std::move(row));
  }
  std::cout << text_table(header, rows);

  std::printf("\nrecommendations%s:\n", response.cold_start ? " (cold start: popular items)" : "");
  header = {"#", "item", "score"};
  header.insert(header.end(), columns.begin(), columns.end());
  header.push_back("reason");
  rows.clear();
  for (std::size_t k = 0; k < response.items.size(); ++k) {
    const RecommendedItem& r = response.items[k];
    char score[32] = "-";
    if (r.score) std::snprintf(score, sizeof score, "%.4g", *r.score);
    std::vector<std::string> row = {std::to_string(k + 1), r.item_id, score};
    row.insert(row.end(), shown.recommended_cells[k].begin(), shown.recommended_cells[k].end());
    row.push_back(r.reason.empty() ? "" : r.reason[0]);
    rows.push_back(row);
    // Further reasons on lines of their own, under the first.
    for (std::size_t n = 1; n < r.reason.size(); ++n) {
      std::vector<std::string> more(row.size());
      more.back() = r.reason[n];
      rows.push_back(std::move(more));
    }
  }
  std::cout << text_table(header, rows, 60);
  return 0;
}

}  // namespace

void add_inspect(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* cmd = add_command(app, common, "inspect",
                              "a user's recent history beside their recommendations, with item "
                              "metadata, scores and reasons");
  cmd->add_option("--user", a->user, "user id")->required();
  cmd->add_option("--metadata", a->metadata, "items columns to show (comma-separated)");
  add_solution_option(cmd, a->solution);
  cmd->add_option("-n", a->n, "number of recommendations (default 10)")
      ->check(whole_number(1, CampaignLimits::kMaxNumResults, "a whole number from 1"));
  cmd->add_option("--history", a->history, "number of recent events (default 10)")
      ->check(whole_number(1, 100000, "a whole number from 1"));
  commands.push_back({cmd, [&common, a] { return run_inspect(common, *a); }});
}

}  // namespace tailor::cli
