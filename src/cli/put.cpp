// SPDX-License-Identifier: MIT
// tailor put-events, put-users and put-items: records as JSON Lines, each line read on its own.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"

namespace tailor::cli {
namespace {

// One JSON object per line; calls fn(line number, object).
template <typename Fn>
void for_each_json_line(const std::string& path, Fn&& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, "cannot read " + path);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    fn(number, line);
  }
}

void print_put_report(const PutReport& r, std::size_t lines, bool json) {
  if (json) {
    std::string out = "{\"accepted\":" + std::to_string(r.accepted) +
                      ",\"rejected\":" + std::to_string(r.rejected) + ",\"errors\":";
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

int run_put(const Common& common, DatasetKind kind, const std::string& input) {
  auto store = open_store(common, StoreAccess::ReadWrite);
  // Each line is read on its own: a bad one is rejected with its reason and the rest go on.
  std::vector<EventRecord> events;
  std::vector<EntityRecord> entities;
  std::vector<std::size_t> line_of_record;  // file line of each accepted record
  std::vector<RowError> unreadable;
  std::size_t lines = 0;
  for_each_json_line(input, [&](std::size_t number, const std::string& line) {
    ++lines;
    try {
      if (kind == DatasetKind::Interactions) {
        events.push_back(parse_event_json(line));
      } else {
        entities.push_back(parse_entity_json(line, kind));
      }
      line_of_record.push_back(number);
    } catch (const RecordError& e) {
      unreadable.push_back({number, e.field(), e.what()});
    }
  });
  PutReport r = kind == DatasetKind::Interactions ? store->put_events(events)
                : kind == DatasetKind::Users      ? store->put_users(entities)
                                                  : store->put_items(entities);
  // The report numbers the records of the call; the user wants the lines of the file.
  for (RowError& e : r.errors) e.line = line_of_record.at(e.line - 1);
  r.errors.insert(r.errors.end(), unreadable.begin(), unreadable.end());
  std::stable_sort(r.errors.begin(), r.errors.end(),
                   [](const RowError& a, const RowError& b) { return a.line < b.line; });
  r.rejected += unreadable.size();
  print_put_report(r, lines, common.json);
  return 0;
}

}  // namespace

void add_put(CLI::App& app, Common& common, Commands& commands) {
  struct Put {
    const char* name;
    const char* description;
    DatasetKind kind;
  };
  const Put puts[] = {
      {"put-events", "send events (one Personalize event per JSON line)",
       DatasetKind::Interactions},
      {"put-users", "upsert users ({\"userId\",\"properties\"} per line)", DatasetKind::Users},
      {"put-items", "upsert items ({\"itemId\",\"properties\"} per line)", DatasetKind::Items}};
  for (const Put& put : puts) {
    auto input = std::make_shared<std::string>();
    CLI::App* cmd = add_command(app, common, put.name, put.description);
    cmd->add_option("--input", *input, "JSON Lines file")->required();
    const DatasetKind kind = put.kind;
    commands.push_back({cmd, [&common, kind, input] { return run_put(common, kind, *input); }});
  }
}

}  // namespace tailor::cli
