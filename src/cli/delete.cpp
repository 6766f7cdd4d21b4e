// SPDX-License-Identifier: MIT
// tailor delete-users and delete-items: ids from --ids or a CSV file, gone from the group and
// models.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "io/csv.hpp"

namespace tailor::cli {
namespace {

struct DeleteArgs {
  std::string ids_text, ids_csv;
};

// The values of column `column` of a CSV file (RFC 4180, header row), for deletion jobs.
std::vector<std::string> ids_from_csv(const std::string& path, const char* column) {
  const std::string text = read_text(path);
  std::size_t start = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // UTF-8 byte order mark
  detail::CsvReader reader(text.data() + start, text.data() + text.size(), 1);
  detail::CsvRecord record;
  if (!reader.next(record) || !record.ok) {
    throw Error(ErrorCode::ParseError,
                path + ": expected a header line naming a " + column + " column");
  }
  const auto at = std::find(record.fields.begin(), record.fields.end(), std::string_view(column));
  if (at == record.fields.end()) {
    throw Error(ErrorCode::ParseError, path + ": the header has no " + column + " column");
  }
  const std::size_t k = static_cast<std::size_t>(at - record.fields.begin());
  const std::size_t width = record.fields.size();
  std::vector<std::string> ids;
  while (reader.next(record)) {
    if (!record.ok || record.fields.size() != width || record.fields[k].empty()) {
      const std::string reason = !record.ok ? record.error
                                 : record.fields.size() != width
                                     ? "expected " + std::to_string(width) + " fields"
                                     : std::string("empty ") + column;
      throw Error(ErrorCode::ParseError,
                  path + ", line " + std::to_string(record.line) + ": " + reason);
    }
    ids.emplace_back(record.fields[k]);
  }
  return ids;
}

int run_delete(const Common& common, bool users, const DeleteArgs& a) {
  auto store = open_store(common, StoreAccess::ReadWrite);
  if (a.ids_text.empty() == a.ids_csv.empty()) {
    throw Error(ErrorCode::InvalidArgument, "give the ids to delete with --ids or --csv");
  }
  std::vector<std::string> ids = a.ids_csv.empty()
                                     ? split_list("--ids", a.ids_text)
                                     : ids_from_csv(a.ids_csv, users ? "USER_ID" : "ITEM_ID");
  const DeleteReport r = users ? store->delete_users(ids) : store->delete_items(ids);
  if (common.json) {
    std::cout << "{\"deleted\":" << r.deleted << ",\"unknown\":" << r.unknown
              << ",\"interactionsRemoved\":" << r.interactions << "}\n";
  } else {
    std::printf("%zu %s deleted (%zu interactions removed), %zu unknown ids\n", r.deleted,
                users ? "users" : "items", r.interactions, r.unknown);
  }
  return 0;
}

}  // namespace

void add_delete(CLI::App& app, Common& common, Commands& commands) {
  struct Delete {
    const char* name;
    const char* description;
    const char* csv_help;
    bool users;
  };
  const Delete deletes[] = {
      {"delete-users",
       "delete users, their interactions and their data from the group and its models",
       "CSV file with a USER_ID column", true},
      {"delete-items",
       "delete items, every interaction with them and their data, from the group and models",
       "CSV file with an ITEM_ID column", false}};
  for (const Delete& d : deletes) {
    auto a = std::make_shared<DeleteArgs>();
    CLI::App* cmd = add_command(app, common, d.name, d.description);
    auto* by_list = cmd->add_option("--ids", a->ids_text, "comma-separated ids");
    auto* by_file = cmd->add_option("--csv", a->ids_csv, d.csv_help);
    by_list->excludes(by_file);
    const bool users = d.users;
    commands.push_back({cmd, [&common, users, a] { return run_delete(common, users, *a); }});
  }
}

}  // namespace tailor::cli
