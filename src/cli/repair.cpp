// SPDX-License-Identifier: MIT
// tailor repair: salvage a group whose update log is damaged.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "io/json.hpp"

namespace tailor::cli {
namespace {

int run_repair(const Common& common) {
  const RepairReport r = Store::repair(common.dir, store_options(common));
  if (common.json) {
    std::string out = "{\"changed\":" + std::string(r.changed() ? "true" : "false") +
                      ",\"recordsReplayed\":" + std::to_string(r.records_replayed) +
                      ",\"bytesSkipped\":" + std::to_string(r.bytes_skipped) +
                      ",\"logReplaced\":" + (r.log_replaced ? "true" : "false") +
                      ",\"damagedCopy\":";
    tailor::detail::append_json_string(out, r.damaged_copy);
    std::cout << out << "}\n";
  } else if (!r.changed()) {
    std::printf("%s is intact: nothing to repair\n", common.dir.c_str());
  } else {
    std::printf("repaired %s: %zu log records replayed, %zu damaged bytes skipped%s\n",
                common.dir.c_str(), r.records_replayed, r.bytes_skipped,
                r.log_replaced ? ", log started afresh" : "");
    if (!r.damaged_copy.empty())
      std::printf("the damaged log is kept as %s\n", r.damaged_copy.c_str());
  }
  return 0;
}

}  // namespace

void add_repair(CLI::App& app, Common& common, Commands& commands) {
  CLI::App* cmd = add_command(
      app, common, "repair",
      "salvage a group whose update log is damaged (the damaged log is kept as a copy)");
  commands.push_back({cmd, [&common] { return run_repair(common); }});
}

}  // namespace tailor::cli
