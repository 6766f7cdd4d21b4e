// SPDX-License-Identifier: MIT
// Tuning benchmark: NDCG@10 of a recipe with its default hyperparameters and with the ones a
// hyperparameter search chose, on one test split, and the search's time.
//
//   tailor_tune INTERACTIONS.csv [--recipe NAME] [--params JSON] [--hpo-config FILE]
//               [--test-start TS | --split latest|held-out] [--threads N] [--seed N]
//
// --test-start TS: a published split, rows with TIMESTAMP >= TS are the test set (each test
// user's training items are their input and are never recommended). The published sets' rows
// carry synthetic timestamps in file order (item-id order within a user), no time: the driver
// gives each user's training rows a seeded random order, so that the search's validation holds
// out a random tenth of them rather than the highest item ids. Otherwise the evaluation
// split of --split (default latest: every user's newest 10%). The search sees the training
// rows only and validates on users carved from them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tailor/tailor.hpp>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The published split: training rows before `test_start`; a test user's truth is their test
// items not among their training items.
tailor::EvaluationSplit published_split(const tailor::EventColumns& events, tailor::Index users,
                                        std::int64_t test_start, std::uint64_t seed) {
  tailor::EvaluationSplit split;
  split.fold_in_test_users = false;
  std::vector<std::vector<tailor::Index>> input(users), truth(users);
  for (std::size_t e = 0; e < events.size(); ++e) {
    if (events.timestamps[e] < test_start) {
      split.train.users.push_back(events.users[e]);
      split.train.items.push_back(events.items[e]);
      split.train.timestamps.push_back(events.timestamps[e]);
      split.train.weights.push_back(events.weights[e]);
      input[events.users[e]].push_back(events.items[e]);
    } else {
      truth[events.users[e]].push_back(events.items[e]);
    }
  }
  // A random order of each user's training rows (see the top of this file).
  std::mt19937_64 rng(seed);
  std::shuffle(split.train.timestamps.begin(), split.train.timestamps.end(), rng);
  for (tailor::Index u = 0; u < users; ++u) {
    tailor::TestUser t;
    t.user = u;
    t.input = input[u];
    t.input_weights.assign(t.input.size(), 1.0f);
    std::vector<tailor::Index> seen = input[u];
    std::sort(seen.begin(), seen.end());
    for (tailor::Index i : truth[u]) {
      if (!std::binary_search(seen.begin(), seen.end(), i)) t.truth.push_back(i);
    }
    std::sort(t.truth.begin(), t.truth.end());
    t.truth.erase(std::unique(t.truth.begin(), t.truth.end()), t.truth.end());
    if (!t.truth.empty()) split.tests.push_back(std::move(t));
  }
  return split;
}

tailor::RankingMetrics train_and_evaluate(const std::string& recipe, const std::string& params,
                                          const tailor::EvaluationSplit& split, tailor::Index users,
                                          tailor::Index items,
                                          const tailor::ExecutionOptions& execution,
                                          double& seconds) {
  const auto t = std::chrono::steady_clock::now();
  tailor::EventColumns train = split.train;
  const tailor::TrainingData data =
      tailor::TrainingData::build(users, items, std::move(train.users), std::move(train.items),
                                  std::move(train.timestamps), std::move(train.weights));
  tailor::TrainContext context;
  context.execution = execution;
  const auto model = tailor::RecipeRegistry::create(recipe, params)->train(data, context);
  seconds = seconds_since(t);
  return tailor::evaluate(*model, split, items, execution);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0]
              << " INTERACTIONS.csv [--recipe NAME] [--params JSON] [--hpo-config FILE]"
                 " [--test-start TS | --split latest|held-out] [--threads N] [--seed N]\n";
    return 2;
  }
  std::string recipe = "user-personalization", params = "{}", hpo_file;
  std::int64_t test_start = -1;
  tailor::EvaluationOptions evaluation;
  evaluation.split = tailor::SplitKind::LatestPerUser;
  tailor::ExecutionOptions execution;
  for (int a = 2; a < argc; ++a) {
    const std::string arg = argv[a];
    auto value = [&]() -> std::string {
      if (a + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++a];
    };
    if (arg == "--recipe") {
      recipe = value();
    } else if (arg == "--params") {
      params = value();
    } else if (arg == "--hpo-config") {
      hpo_file = value();
    } else if (arg == "--test-start") {
      test_start = std::stoll(value());
    } else if (arg == "--split") {
      evaluation.split = value() == "held-out" ? tailor::SplitKind::HeldOutUsers
                                               : tailor::SplitKind::LatestPerUser;
    } else if (arg == "--threads") {
      execution.num_threads = std::stoi(value());
    } else if (arg == "--seed") {
      execution.seed = std::stoull(value());
    } else {
      throw std::runtime_error("unknown option " + arg);
    }
  }
  tailor::HpoConfig hpo;
  if (!hpo_file.empty()) {
    std::ifstream in(hpo_file);
    std::stringstream text;
    text << in.rdbuf();
    hpo = tailor::HpoConfig::from_json(text.str());
  }
  if (!hpo.has_ranges()) hpo.set_ranges(tailor::RecipeRegistry::create(recipe)->hpo_ranges_json());

  const char* schema = R"({"type":"record","name":"Interactions","fields":[
    {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
    {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":["null","string"]},
    {"name":"EVENT_VALUE","type":["null","float"]}]})";
  tailor::DatasetGroup group(tailor::Schema::parse(schema, tailor::DatasetKind::Interactions));
  const tailor::ImportReport report =
      group.import_csv(tailor::DatasetKind::Interactions, argv[1], tailor::ImportOptions{});
  if (!report.ok()) throw std::runtime_error(report.summary());
  const tailor::Index users = group.user_ids().size(), items = group.item_ids().size();
  const tailor::EventColumns events =
      tailor::Solution({recipe, recipe, params, {}}).select_events(group);
  evaluation.execution = execution;
  const tailor::EvaluationSplit split =
      test_start >= 0 ? published_split(events, users, test_start, execution.seed)
                      : tailor::split_for_evaluation(events, users, evaluation);
  std::printf("%zu events, %u users, %u items; %zu training events, %zu test users\n",
              events.size(), users, items, split.train.size(), split.tests.size());

  double seconds = 0;
  const tailor::RankingMetrics defaults =
      train_and_evaluate(recipe, params, split, users, items, execution, seconds);
  std::printf("defaults %s: ndcg@10 %.4f, precision@10 %.4f (trained in %.1f s)\n",
              tailor::RecipeRegistry::create(recipe, params)->params_json().c_str(),
              defaults.normalized_discounted_cumulative_gain_at_10, defaults.precision_at_10,
              seconds);

  const tailor::HpoResult result =
      tailor::search_hyperparameters(recipe, params, hpo, split.train, users, items, execution,
                                     split.fold_in_test_users ? tailor::SplitKind::HeldOutUsers
                                                              : tailor::SplitKind::LatestPerUser);
  std::printf("search: %zu trainings in %.1f s, %zu validation users, best validation %s %.4f\n",
              result.trials.size(), result.seconds, result.validation_users, hpo.metric.c_str(),
              result.best_objective);
  const tailor::RankingMetrics tuned =
      train_and_evaluate(recipe, result.best_params_json, split, users, items, execution, seconds);
  std::printf("tuned %s: ndcg@10 %.4f, precision@10 %.4f (trained in %.1f s)\n",
              result.best_params_json.c_str(), tuned.normalized_discounted_cumulative_gain_at_10,
              tuned.precision_at_10, seconds);
  const tailor::RankingMetrics popular =
      train_and_evaluate("popularity-count", "{}", split, users, items, execution, seconds);
  std::printf("popularity-count: ndcg@10 %.4f\n",
              popular.normalized_discounted_cumulative_gain_at_10);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
