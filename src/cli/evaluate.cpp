// SPDX-License-Identifier: MIT
// tailor evaluate: a solution's metrics.
#include "cli/commands.hpp"

namespace tailor::cli {

void add_evaluate(CLI::App& app, Common& common, Commands& commands) {
  auto solution_name = std::make_shared<std::string>();
  CLI::App* cmd = add_command(app, common, "evaluate", "print a solution's metrics");
  add_solution_option(cmd, *solution_name);
  commands.push_back({cmd, [&common, solution_name] {
                        auto store = open_store(common, StoreAccess::ReadOnly);
                        const std::string name = chosen_solution(*store, *solution_name);
                        print_metrics(store->load_version(name), store->active_version(name),
                                      common.json);
                        return 0;
                      }});
}

}  // namespace tailor::cli
