// SPDX-License-Identifier: MIT
// tailor train: a solution version from the group's events (with metrics unless --no-metrics).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>
#include <tuple>

#include "cli/commands.hpp"
#include "cli/mpi.hpp"
#ifdef TAILOR_WITH_MPI
#include "tailor/distributed/als.hpp"
#endif

namespace tailor::cli {
namespace {

struct TrainArgs {
  std::string recipe, solution_name, params = "{}";
  std::uint64_t seed = 42;
  bool no_metrics = false;
  std::string mode = "full", event_types, event_value_threshold, event_weights;
  bool event_value_as_weight = false;
  bool mpi = false;
  bool hpo = false;
  std::string hpo_config;   // a file holding an hpoConfig
  CLI::App* cmd = nullptr;  // to tell whether --params was given
};

bool events_given(const TrainArgs& a) {
  return !a.event_types.empty() || !a.event_value_threshold.empty() || !a.event_weights.empty() ||
         a.event_value_as_weight;
}

EventSelection event_selection(const TrainArgs& a) {
  EventSelection events;
  if (!a.event_types.empty()) events.event_types = split_list("--event-types", a.event_types);
  if (!a.event_value_threshold.empty()) {
    events.event_value_threshold =
        parse_float("--event-value-threshold", a.event_value_threshold, false);
  }
  if (!a.event_weights.empty()) {
    for (const std::string& pair : split_list("--event-weights", a.event_weights)) {
      const auto eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw bad_option("--event-weights", "TYPE=W,TYPE=W", a.event_weights);
      }
      events.event_type_weights.emplace_back(
          pair.substr(0, eq), parse_float("--event-weights", pair.substr(eq + 1), true));
    }
  }
  events.event_value_as_weight = a.event_value_as_weight;
  return events;
}

// UPDATE extends the solution's stored version, with its settings unless given here.
std::optional<SolutionVersion> previous_version(Store& store, SolutionConfig& config,
                                                const TrainArgs& a) {
  std::optional<SolutionVersion> previous;
  try {
    previous = store.load_version(config.name);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::NotFound) throw;
    throw Error(ErrorCode::NotFound, "--mode update needs a trained version of solution " +
                                         config.name + ": " + e.what());
  }
  if (a.cmd->count("--params") == 0) config.params_json = previous->config().params_json;
  if (!events_given(a)) config.events = previous->config().events;
  return previous;
}

// Progress on the terminal: stage, steps per second and the time left.
std::function<void(const TrainingProgress&)> training_progress(const std::string& recipe) {
  const auto start = std::chrono::steady_clock::now();
  return [recipe, start](const TrainingProgress& p) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = p.iteration / std::max(p.elapsed_seconds, 1e-9);
    const double eta = rate > 0 ? (p.total - p.iteration) / rate : 0;
    char buffer[128];
    std::snprintf(buffer, sizeof buffer,
                  "training %s: %s %d/%d, %.1f steps/s, ETA %.1f s (%.1f s so far)", recipe.c_str(),
                  p.stage.c_str(), p.iteration, p.total, rate, eta, elapsed);
    progress_line(buffer);
  };
}

// The solution to train: under MPI (mpirun, or --mpi) user-personalization trains across the
// ranks, every rank running this command; `ranks` gets their number.
Solution make_solution(const SolutionConfig& config, bool mpi_flag, int& ranks) {
  ranks = 1;
#ifdef TAILOR_WITH_MPI
  if (use_mpi(mpi_flag)) {
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    auto recipe = RecipeRegistry::create(config.recipe, config.params_json);
    const auto* als = dynamic_cast<const AlsRecipe*>(recipe.get());
    TAILOR_THROW_IF(!als || recipe->name() != "user-personalization", ErrorCode::InvalidArgument,
                    "training over MPI supports recipe user-personalization only, not ",
                    config.recipe);
    return Solution(config, std::make_shared<distributed::DistributedAlsRecipe>(
                                MPI_COMM_WORLD, als->params(), recipe->name()));
  }
#else
  TAILOR_THROW_IF(mpi_flag, ErrorCode::InvalidArgument,
                  "--mpi: this tailor was built without MPI (TAILOR_WITH_MPI)");
#endif
  return Solution(config);
}

int run_train(const Common& common, TrainArgs a) {
  // train reads, and takes the writer lock only to save its version: events keep arriving during a
  // long training.
  auto store = open_store(common, StoreAccess::ReadOnly);
  TrainOptions options;
  if (a.mode == "full") {
    options.mode = TrainingMode::Full;
  } else if (a.mode == "update") {
    options.mode = TrainingMode::Update;
  } else {
    throw bad_option("--mode", "full or update", a.mode);
  }
  const EventSelection events = event_selection(a);
  if (!a.params.empty() && a.params[0] == '@') a.params = read_text(a.params.substr(1));
  SolutionConfig config{a.solution_name.empty() ? a.recipe : a.solution_name, a.recipe, a.params,
                        events};
  if (a.hpo || !a.hpo_config.empty()) {
    config.hpo = a.hpo_config.empty() ? HpoConfig{} : HpoConfig::from_json(read_text(a.hpo_config));
  }
  std::optional<SolutionVersion> previous;
  if (options.mode == TrainingMode::Update) previous = previous_version(*store, config, a);
  int ranks = 1;
  Solution solution = make_solution(config, a.mpi, ranks);
  // The search trains its candidates in one process: it would not use the other ranks.
  TAILOR_THROW_IF(ranks > 1 && config.hpo, ErrorCode::InvalidArgument,
                  "--hpo: a hyperparameter search runs in one process; run it without mpirun");
  // Under MPI every rank trains; rank 0 alone reports and saves the version.
  const bool root = mpi_rank() == 0;
  options.compute_metrics = !a.no_metrics;
  options.execution = execution_options(common, a.seed);
  if (root) options.progress = training_progress(a.recipe);
  // Copy the events under the read lock, then train without holding it.
  auto [selected, users, item_count] = store->group()->read([&](const DatasetGroup& g) {
    options.item_features = ItemFeatureTable::build(g.items(), g.item_ids().size());
    return std::make_tuple(solution.select_events(g), g.user_ids().size(), g.item_ids().size());
  });
  SolutionVersion v = solution.train(std::move(selected), users, item_count, options,
                                     previous ? &*previous : nullptr);
  if (root) progress_done();
  store.reset();  // the read-only view is done with: one copy of the group in memory at a time
  if (!root) return 0;
  if (ranks > 1) {
    v = SolutionVersion(v.config(), v.mode(), v.model(), v.metrics(), v.baseline_metrics(),
                        v.training_seconds(), ranks, v.hpo());
  }
  const std::string id = open_store(common, StoreAccess::ReadWrite)->save_version(v);
  print_metrics(v, id, common.json);
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = add_command(app, common, "train",
                              "train a solution version (with metrics unless --no-metrics)");
  a->cmd = cmd;
  std::string recipes_help = "recipe:";
  for (const auto& n : RecipeRegistry::names()) recipes_help += " " + n;
  cmd->add_option("--recipe", a->recipe, recipes_help)->required();
  cmd->add_option("--solution", a->solution_name, "solution name (default: the recipe's name)");
  cmd->add_option("--params", a->params, "hyperparameters as JSON, or @file");
  cmd->add_option("--seed", a->seed, "seed for every random choice")
      ->check(
          whole_number(0, std::numeric_limits<std::uint64_t>::max(), "a whole number, 0 or more"));
  cmd->add_flag("--no-metrics", a->no_metrics, "train on all data without the evaluation split");
  cmd->add_option("--mode", a->mode,
                  "full (a new model) or update (extend the solution's stored version with new "
                  "users and items; --params and the event options default to that version's)");
  cmd->add_option("--event-types", a->event_types,
                  "train on these event types only (comma-separated)");
  cmd->add_option("--event-value-threshold", a->event_value_threshold,
                  "drop events whose EVENT_VALUE is below this");
  cmd->add_option("--event-weights", a->event_weights,
                  "weight per event type: TYPE=W,TYPE=W (others weigh 1)");
  cmd->add_flag("--event-value-as-weight", a->event_value_as_weight,
                "weigh each event by its EVENT_VALUE too");
  cmd->add_flag("--mpi", a->mpi,
                "train user-personalization across MPI ranks (automatic under mpirun with more "
                "than one rank); rank 0 saves the version");
  cmd->add_flag("--hpo", a->hpo,
                "search the hyperparameters first (the recipe's default ranges, 16 trainings) on "
                "validation users from the training side of the evaluation split");
  cmd->add_option("--hpo-config", a->hpo_config,
                  "search as this file's Personalize hpoConfig says (objective, "
                  "hpoResourceConfig, algorithmHyperParameterRanges; implies --hpo)");
  commands.push_back({cmd, [&common, a] { return run_train(common, *a); }});
}

}  // namespace tailor::cli
