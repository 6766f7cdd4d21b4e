// SPDX-License-Identifier: MIT
// Hyperparameter search: it never sees the evaluation's test users, samples within the ranges,
// refuses bad configs, is deterministic for a seed, and the version records it.
#include "tailor/solution/hpo.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>

#include "io/json.hpp"
#include "tailor/error.hpp"
#include "tailor/persistence/persistence.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor {
namespace {

// Items 0-9 are "a" items, 10-19 "b" items, 20-59 neutral.
constexpr Index kItems = 60, kUsers = 300;

// A model that ranks the ten items of one side first, whoever the user.
class SideModel : public Model {
 public:
  explicit SideModel(bool b) : b_(b) {}
  const std::string& recipe() const override {
    static const std::string name = "hpo-probe";
    return name;
  }
  Index num_items() const override { return kItems; }
  Index num_users() const override { return kUsers; }
  bool personalized() const override { return true; }
  void score_all(const UserQuery&, std::vector<float>& scores) const override {
    scores.assign(kItems, 0.0f);
    for (Index i = 0; i < 10; ++i) scores[i + (b_ ? 10 : 0)] = 1.0f - 0.01f * static_cast<float>(i);
  }

 private:
  bool b_;
};

// Every training's users, in order, for the leak check.
std::mutex trained_mutex;
std::vector<std::set<Index>> trained_users;

class SideRecipe : public Recipe {
 public:
  explicit SideRecipe(std::string_view params) {
    const detail::Json root = detail::parse_json(params.empty() ? "{}" : params, "hpo-probe");
    for (const auto& [key, value] : root.members()) {
      TAILOR_THROW_IF(key != "side" || !value.is_string() ||
                          (value.as_string() != "a" && value.as_string() != "b"),
                      ErrorCode::InvalidArgument, "hpo-probe: side must be \"a\" or \"b\"");
      side_ = value.as_string();
    }
  }
  const std::string& name() const override {
    static const std::string name = "hpo-probe";
    return name;
  }
  std::string params_json() const override { return "{\"side\":\"" + side_ + "\"}"; }
  std::unique_ptr<Model> train(const TrainingData& data, const TrainContext&) const override {
    std::lock_guard<std::mutex> lock(trained_mutex);
    trained_users.emplace_back(data.users.begin(), data.users.end());
    return std::make_unique<SideModel>(side_ == "b");
  }

 private:
  std::string side_ = "a";
};

void register_probe() {
  static std::once_flag once;
  std::call_once(once, [] {
    RecipeRegistry::add(
        "hpo-probe", [](std::string_view params) { return std::make_unique<SideRecipe>(params); },
        {}, "side  string  a  which ten items lead");
  });
}

// Ten events per user, oldest first: eight neutral items, then two of one side.
EventColumns events_with_newest(const std::vector<char>& newest_b) {
  EventColumns e;
  std::mt19937_64 rng(7);
  for (Index u = 0; u < kUsers; ++u) {
    for (int k = 0; k < 10; ++k) {
      Index item = 20 + static_cast<Index>(rng() % 40);
      if (k >= 8) item = static_cast<Index>(rng() % 10) + (newest_b[u] ? 10 : 0);
      e.users.push_back(u);
      e.items.push_back(item);
      e.timestamps.push_back(1000 + k);
      e.weights.push_back(1);
    }
  }
  return e;
}

TEST(SolutionHpo, TheSearchNeverSeesTheEvaluationsTestUsers) {
  register_probe();
  // Who the evaluation holds out depends only on the event counts and the seed.
  TrainOptions options;
  options.execution.seed = 42;
  options.execution.num_threads = 1;
  EvaluationOptions eval = options.evaluation;
  eval.execution = options.execution;
  const EvaluationSplit probe =
      split_for_evaluation(events_with_newest(std::vector<char>(kUsers, 0)), kUsers, eval);
  std::vector<char> is_test(kUsers, 0);
  for (const TestUser& t : probe.tests) is_test[t.user] = 1;
  ASSERT_GT(probe.tests.size(), 10u);

  // The test users' newest items are "b" items, everyone else's "a" items: validating on test
  // users would choose side b, validating on training users chooses a.
  SolutionConfig config{"probe", "hpo-probe", "{}", {}};
  config.hpo = HpoConfig::from_json(R"({"hpoResourceConfig":{"maxNumberOfTrainingJobs":"6"},
      "algorithmHyperParameterRanges":{"categoricalHyperParameterRanges":[
        {"name":"side","values":["b","a"]}]}})");
  trained_users.clear();
  const SolutionVersion v =
      Solution(config).train(events_with_newest(is_test), kUsers, kItems, options);

  ASSERT_TRUE(v.hpo());
  EXPECT_EQ(v.config().params_json, R"({"side":"a"})");
  EXPECT_FALSE(v.config().hpo);
  EXPECT_GT(v.hpo()->best_objective, 0.1);
  std::set<std::string> tried;
  for (const HpoTrial& t : v.hpo()->trials) tried.insert(t.params_json);
  EXPECT_EQ(tried.size(), 2u) << "both sides were tried";
  for (const HpoTrial& t : v.hpo()->trials) {
    if (t.params_json == R"({"side":"b"})") {
      EXPECT_EQ(t.objective, 0);
    }
  }
  // On the test users side a has nothing to find.
  ASSERT_TRUE(v.metrics());
  EXPECT_EQ(v.metrics()->normalized_discounted_cumulative_gain_at_10, 0);

  // Every training but the last (the version's, on everything) left the test users out.
  ASSERT_EQ(trained_users.size(), v.hpo()->trials.size() + 2);
  for (std::size_t k = 0; k + 1 < trained_users.size(); ++k) {
    for (Index u : trained_users[k]) ASSERT_FALSE(is_test[u]) << "training " << k << " user " << u;
  }
  EXPECT_EQ(trained_users.back().size(), static_cast<std::size_t>(kUsers));
}

EventColumns random_events(std::uint64_t seed) {
  EventColumns e;
  std::mt19937_64 rng(seed);
  for (Index u = 0; u < 120; ++u) {
    for (int k = 0; k < 12; ++k) {
      e.users.push_back(u);
      e.items.push_back(static_cast<Index>((u % 7) * 5 + rng() % 12));
      e.timestamps.push_back(k);
      e.weights.push_back(1);
    }
  }
  return e;
}

const char* kAlsSearch = R"({"hpoObjective":{"type":"Maximize","metricName":"precision_at_10"},
    "hpoResourceConfig":{"maxNumberOfTrainingJobs":"13","maxParallelTrainingJobs":"1"},
    "algorithmHyperParameterRanges":{
      "integerHyperParameterRanges":[
        {"name":"factors","minValue":"3","maxValue":"9","scalingType":"Logarithmic"},
        {"name":"iterations","minValue":2,"maxValue":4}],
      "continuousHyperParameterRanges":[
        {"name":"regularization","minValue":0.01,"maxValue":0.5,"scalingType":"Linear"},
        {"name":"alpha","minValue":0.5,"maxValue":80,"scalingType":"Auto"}],
      "categoricalHyperParameterRanges":[{"name":"solver","values":["cholesky"]}]}})";

HpoResult als_search(std::uint64_t seed, int parallel = 1) {
  HpoConfig c = HpoConfig::from_json(kAlsSearch);
  c.max_parallel_jobs = parallel;
  ExecutionOptions execution;
  execution.seed = seed;
  execution.num_threads = 2;
  return search_hyperparameters("user-personalization", R"({"cg_steps":2})", c, random_events(3),
                                120, 50, execution);
}

TEST(SolutionHpo, EveryTrainingIsWithinTheRangesAndTheBudget) {
  const HpoResult r = als_search(5);
  // 13 trainings allow 10 configurations: rungs of 10 and 3.
  ASSERT_EQ(r.trials.size(), 13u);
  std::set<int> configurations;
  for (const HpoTrial& t : r.trials) {
    configurations.insert(t.configuration);
    const AlsParams p = AlsParams::from_json(t.params_json);
    EXPECT_GE(p.factors, 3);
    EXPECT_LE(p.factors, 9);
    EXPECT_GE(p.iterations, 2);
    EXPECT_LE(p.iterations, 4);
    EXPECT_GE(p.regularization, 0.01f);
    EXPECT_LE(p.regularization, 0.5f);
    EXPECT_GE(p.alpha, 0.5f);
    EXPECT_LE(p.alpha, 80.0f);
    EXPECT_EQ(p.solver, AlsSolver::Cholesky);
    EXPECT_EQ(p.cg_steps, 2) << "the base parameters are kept";
  }
  EXPECT_EQ(configurations.size(), 10u);
  EXPECT_EQ(r.trials[0].rung, 0);
  EXPECT_DOUBLE_EQ(r.trials[0].user_fraction, 1.0 / 3);
  EXPECT_EQ(r.trials[10].rung, 1);
  EXPECT_DOUBLE_EQ(r.trials[10].user_fraction, 1.0);
  // Rung 1 trains the best three of rung 0, and the best of rung 1 is the one chosen.
  std::set<int> best_three, rung_one;
  for (int k = 0; k < 3; ++k) best_three.insert(r.trials[k].configuration);
  for (int k = 10; k < 13; ++k) rung_one.insert(r.trials[k].configuration);
  EXPECT_EQ(best_three, rung_one);
  EXPECT_GE(r.trials[10].objective, r.trials[12].objective);
  EXPECT_EQ(r.best_params_json, r.trials[10].params_json);
  EXPECT_EQ(r.best_objective, r.trials[10].objective);
  EXPECT_GT(r.validation_users, 0u);
}

TEST(SolutionHpo, TheSameSeedSearchesTheSameWay) {
  auto strip = [](const HpoResult& r) {
    std::string out;
    for (const HpoTrial& t : r.trials)
      out += std::to_string(t.configuration) + t.params_json + std::to_string(t.objective) + ";";
    return out;
  };
  const std::string once = strip(als_search(11));
  EXPECT_EQ(once, strip(als_search(11)));
  EXPECT_NE(once, strip(als_search(12)));
}

TEST(SolutionHpo, BadConfigsAreRefusedNamingTheProblem) {
  auto refused = [](const std::string& json, const std::string& words) {
    try {
      Solution({"s", "user-personalization", "{}", {}, HpoConfig::from_json(json)});
      ADD_FAILURE() << "accepted: " << json;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused(R"({"hpoObjective":{"metricName":"ndcg"}})", "unknown metricName \"ndcg\"");
  refused(R"({"hpoObjective":{"type":"Maximise"}})", "Maximize or Minimize");
  refused(R"({"hpoResourceConfig":{"maxNumberOfTrainingJobs":"0"}})", "maxNumberOfTrainingJobs");
  refused(R"({"hpoResourceConfig":{"maxNumberOfTrainingJobs":"4","maxParallelTrainingJobs":"5"}})",
          "maxParallelTrainingJobs");
  refused(R"({"hpoResourceConfig":{"maxNumberOfTrainingJobs":"many"}})",
          "maxNumberOfTrainingJobs must be a number");
  refused(R"({"hpoTimeout":3})", "unknown key \"hpoTimeout\"");
  refused(R"({"algorithmHyperParameterRanges":{"integerHyperParameterRanges":[
      {"name":"factors","minValue":64,"maxValue":8}]}})",
          "minValue 64 is above maxValue 8");
  refused(R"({"algorithmHyperParameterRanges":{"continuousHyperParameterRanges":[
      {"name":"alpha","minValue":0,"maxValue":8,"scalingType":"Logarithmic"}]}})",
          "Logarithmic scaling needs minValue > 0");
  refused(R"({"algorithmHyperParameterRanges":{"continuousHyperParameterRanges":[
      {"name":"alpha","minValue":1,"maxValue":8,"scalingType":"Exponential"}]}})",
          "scalingType must be");
  refused(R"({"algorithmHyperParameterRanges":{"integerHyperParameterRanges":[
      {"name":"factorz","minValue":8,"maxValue":16}]}})",
          "range \"factorz\" does not fit recipe user-personalization");
  refused(R"({"algorithmHyperParameterRanges":{"integerHyperParameterRanges":[
      {"name":"factors","minValue":8,"maxValue":5000}]}})",
          "range \"factors\" does not fit recipe user-personalization (value 5000)");
  refused(R"({"algorithmHyperParameterRanges":{"categoricalHyperParameterRanges":[
      {"name":"solver","values":["cg","qr"]}]}})",
          "range \"solver\" does not fit");
  refused(R"({"algorithmHyperParameterRanges":{"categoricalHyperParameterRanges":[
      {"name":"solver","values":[]}]}})",
          "non-empty \"values\"");
  refused(R"({"algorithmHyperParameterRanges":{"integerHyperParameterRanges":[
      {"name":"factors","minValue":8,"maxValue":16}],"continuousHyperParameterRanges":[
      {"name":"factors","minValue":8,"maxValue":16}]}})",
          "\"factors\" has more than one range");
  refused(R"({"algorithmHyperParameterRanges":{"integerHyperParameterRanges":[
      {"name":"factors","minValue":8.5,"maxValue":16}]}})",
          "must be a whole number");
  refused("[1]", "expected a JSON object");
  refused("{", "hpoConfig");

  // A recipe without default ranges needs them given.
  EXPECT_THROW(Solution({"t", "trending-now", "{}", {}, HpoConfig{}}), Error);
  // UPDATE extends a model; a search trains new ones.
  const SolutionConfig als{"s", "user-personalization", R"({"factors":4,"iterations":2})", {}};
  const SolutionVersion first = Solution(als).train(random_events(1), 120, 50);
  SolutionConfig tuned = als;
  tuned.hpo = HpoConfig{};
  TrainOptions update;
  update.mode = TrainingMode::Update;
  EXPECT_THROW(Solution(tuned).train(random_events(1), 120, 50, update, &first), Error);
}

TEST(SolutionHpo, DefaultRangesAreTheRecipesAndTheVersionKeepsTheSearch) {
  SolutionConfig config{"s", "user-personalization", "{}", {}};
  config.hpo = HpoConfig::from_json(R"({"hpoResourceConfig":{"maxNumberOfTrainingJobs":"2"}})");
  const Solution solution(config);
  ASSERT_TRUE(solution.config().hpo);
  ASSERT_EQ(solution.config().hpo->integer_ranges.size(), 2u);
  EXPECT_EQ(solution.config().hpo->integer_ranges[0].name, "factors");
  EXPECT_EQ(solution.config().hpo->continuous_ranges.size(), 2u);
  // Every built-in recipe's default ranges fit it.
  for (const char* recipe : {"user-personalization", "sims", "popularity-count"}) {
    SolutionConfig c{"s", recipe, "{}", {}, HpoConfig{}};
    EXPECT_NO_THROW(Solution{c}) << recipe;
  }

  TrainOptions options;
  options.execution.num_threads = 1;
  const SolutionVersion v = solution.train(random_events(2), 120, 50, options);
  ASSERT_TRUE(v.hpo());
  EXPECT_EQ(v.hpo()->trials.size(), 2u);
  EXPECT_EQ(v.config().params_json, AlsParams::from_json(v.hpo()->best_params_json).to_json());

  // Saved and loaded, the search comes back with the version.
  const std::string path = ::testing::TempDir() + "hpo_test.version";
  save_version(v, path);
  const SolutionVersion loaded = load_version(path);
  std::remove(path.c_str());
  ASSERT_TRUE(loaded.hpo());
  EXPECT_EQ(loaded.hpo()->to_json(), v.hpo()->to_json());
  EXPECT_FALSE(loaded.config().hpo);
  // The record parses back into the same record.
  EXPECT_EQ(HpoResult::from_json(v.hpo()->to_json()).to_json(), v.hpo()->to_json());
  EXPECT_THROW(HpoResult::from_json("{\"hpoConfig\":{}}"), Error);
}

}  // namespace
}  // namespace tailor
