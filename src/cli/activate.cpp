// SPDX-License-Identifier: MIT
// tailor activate: make a kept version of a solution the active one.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "io/json.hpp"

namespace tailor::cli {
namespace {

struct ActivateArgs {
  std::string solution_name, version_id;
};

int run_activate(const Common& common, const ActivateArgs& a) {
  auto store = open_store(common, StoreAccess::ReadWrite);
  store->activate(a.solution_name, a.version_id);
  if (common.json) {
    std::string out = "{\"solution\":";
    tailor::detail::append_json_string(out, a.solution_name);
    out += ",\"active\":";
    tailor::detail::append_json_string(out, a.version_id);
    std::cout << out << "}\n";
  } else {
    std::printf("solution %s: version %s is active\n", a.solution_name.c_str(),
                a.version_id.c_str());
  }
  return 0;
}

}  // namespace

void add_activate(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<ActivateArgs>();
  CLI::App* cmd =
      add_command(app, common, "activate", "make a kept version of a solution the active one");
  cmd->add_option("--solution", a->solution_name, "solution")->required();
  cmd->add_option("--version", a->version_id, "version id (tailor info lists them)")->required();
  commands.push_back({cmd, [&common, a] { return run_activate(common, *a); }});
}

}  // namespace tailor::cli
