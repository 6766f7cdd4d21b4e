// SPDX-License-Identifier: MIT
// tailor evaluate: a solution's metrics, or its cold-item evaluation (--cold-items).
#include <iostream>

#include "cli/commands.hpp"
#include "tailor/solution/cold_items.hpp"

namespace tailor::cli {

namespace {

struct EvaluateArgs {
  std::string solution_name;
  bool cold_items = false;
  bool cold_random = false;
  std::string genre_field;
};

// Holds out new items, trains the solution's configuration on the rest and prints the figures.
int run_cold_items(const Common& common, const EvaluateArgs& a) {
  auto store = open_store(common, StoreAccess::ReadOnly);
  const std::string name = chosen_solution(*store, a.solution_name);
  const SolutionConfig config = store->load_version(name).config();
  ColdItemOptions options;
  options.random_items = a.cold_random;
  options.genre_field = a.genre_field;
  options.execution = execution_options(common);
  const ColdItemReport report = store->group()->read(
      [&](const DatasetGroup& g) { return evaluate_cold_items(g, config, options); });
  std::cout << (common.json ? report.to_json() + "\n" : report.to_text());
  return 0;
}

}  // namespace

void add_evaluate(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<EvaluateArgs>();
  CLI::App* cmd = add_command(app, common, "evaluate", "print a solution's metrics");
  add_solution_option(cmd, a->solution_name);
  cmd->add_flag("--cold-items", a->cold_items,
                "hold out the newest 10% of items (CREATION_TIMESTAMP) with their interactions, "
                "train the solution's configuration on the rest and measure the held-out items");
  cmd->add_flag("--cold-random", a->cold_random,
                "with --cold-items: hold out a seeded random 10% of items instead");
  cmd->add_option("--genre-field", a->genre_field,
                  "with --cold-items: the categorical items field of the similar-items check");
  commands.push_back({cmd, [&common, a] {
                        if (a->cold_items) return run_cold_items(common, *a);
                        auto store = open_store(common, StoreAccess::ReadOnly);
                        const std::string name = chosen_solution(*store, a->solution_name);
                        print_metrics(store->load_version(name), store->active_version(name),
                                      common.json);
                        return 0;
                      }});
}

}  // namespace tailor::cli
