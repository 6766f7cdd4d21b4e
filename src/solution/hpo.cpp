// SPDX-License-Identifier: MIT
// Hyperparameter search: random search over the ranges, then successive halving on the share of
// training users each configuration trains on (Jamieson & Talwalkar, "Non-stochastic Best Arm
// Identification and Hyperparameter Optimization", AISTATS 2016; one bracket of Li et al.'s
// Hyperband, JMLR 2018, which also uses data subsets as the resource). Every configuration is
// scored on validation users carved from the training users only.
#include "tailor/solution/hpo.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "detail/parallel.hpp"
#include "io/json.hpp"
#include "solution/hpo_json.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

using detail::Json;
using hpo_detail::format_real;
using hpo_detail::overlay;
using hpo_detail::parse;
using hpo_detail::value_text;

constexpr int kEta = 3;  // successive halving keeps the best third at each rung
// Rungs train on a third and on all of the training users: a ninth of the users favours
// configurations that suit little data (strong regularisation, few factors) too much.
constexpr int kMaxRungs = 2;
// Validation users are drawn with a seed of their own, so that they are not the evaluation's
// test users drawn again from a split that has already removed them.
constexpr std::uint64_t kValidationSeed = 0x9E3779B97F4A7C15ull;

bool logarithmic(HpoScaling s, double min, double max) {
  if (s == HpoScaling::Logarithmic) return true;
  return s == HpoScaling::Auto && min > 0 && max / min > 10;
}

double metric_of(const RankingMetrics& m, const std::string& name) {
  for (const auto& [n, v] : m.named()) {
    if (n == name) return v;
  }
  TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: unknown metric ", name);
}

// Whether every searched hyperparameter of `params` (a recipe's full JSON) lies in its range.
bool within(const HpoConfig& config, const std::string& params) {
  const Json root = parse(params, "hyperparameters");
  auto value = [&](const std::string& name) { return root.find(name); };
  for (const auto& r : config.integer_ranges) {
    const Json* v = value(r.name);
    if (!v || !v->is_number() || v->as_real() < static_cast<double>(r.min) ||
        v->as_real() > static_cast<double>(r.max))
      return false;
  }
  for (const auto& r : config.continuous_ranges) {
    const Json* v = value(r.name);
    if (!v || !v->is_number() || v->as_real() < r.min || v->as_real() > r.max) return false;
  }
  for (const auto& r : config.categorical_ranges) {
    const Json* v = value(r.name);
    if (!v) return false;
    std::string text;
    detail::append_json(text, *v);
    bool found = false;
    for (const auto& c : r.values) found = found || value_text(c) == text;
    if (!found) return false;
  }
  return true;
}
}  // namespace

HpoResult search_hyperparameters(std::string_view recipe, std::string_view base_params_json,
                                 const HpoConfig& config, const EventColumns& events,
                                 Index num_users, Index num_items,
                                 const ExecutionOptions& execution, SplitKind validation_split,
                                 const std::function<void(const TrainingProgress&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  TAILOR_THROW_IF(!config.has_ranges(), ErrorCode::InvalidArgument, "hpoConfig for recipe ", recipe,
                  ": no hyperparameter ranges to search");
  config.check_against(recipe);
  const std::string base = RecipeRegistry::create(recipe, base_params_json)->params_json();

  // The validation split, from `events` only.
  EvaluationOptions validation;
  validation.split = validation_split;
  validation.execution = execution;
  validation.execution.seed = execution.seed ^ kValidationSeed;
  const EvaluationSplit split = split_for_evaluation(events, num_users, validation);
  TAILOR_THROW_IF(split.tests.empty(), ErrorCode::InvalidArgument, "hyperparameter search for ",
                  recipe, ": too few users with two or more events to validate on");

  // Random search: the configurations, each value drawn from its range.
  std::mt19937_64 rng(execution.seed);
  int configurations = 1;
  std::vector<int> rung_sizes;
  for (int n = config.max_training_jobs; n >= 1; --n) {
    std::vector<int> sizes{n};
    while (static_cast<int>(sizes.size()) < kMaxRungs && sizes.back() >= kEta)
      sizes.push_back(sizes.back() / kEta);
    if (std::accumulate(sizes.begin(), sizes.end(), 0) <= config.max_training_jobs) {
      configurations = n;
      rung_sizes = sizes;
      break;
    }
  }
  // The starting point is the first configuration when the ranges hold it, so that the search
  // compares its finds with it.
  std::vector<std::string> candidates;
  if (within(config, base)) candidates.push_back(base);
  for (int c = static_cast<int>(candidates.size()); c < configurations; ++c) {
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& r : config.integer_ranges) {
      long long v;
      if (logarithmic(r.scaling, static_cast<double>(r.min), static_cast<double>(r.max))) {
        std::uniform_real_distribution<double> d(std::log(static_cast<double>(r.min)),
                                                 std::log(static_cast<double>(r.max) + 1));
        v = std::clamp(static_cast<long long>(std::floor(std::exp(d(rng)))), r.min, r.max);
      } else {
        v = std::uniform_int_distribution<long long>(r.min, r.max)(rng);
      }
      values.emplace_back(r.name, std::to_string(v));
    }
    for (const auto& r : config.continuous_ranges) {
      double v;
      if (logarithmic(r.scaling, r.min, r.max)) {
        v = std::exp(std::uniform_real_distribution<double>(std::log(r.min), std::log(r.max))(rng));
      } else {
        v = std::uniform_real_distribution<double>(r.min, r.max)(rng);
      }
      // Printed to 6 digits, so clamp what is printed, not the exact draw.
      v = std::clamp(std::stod(format_real(v)), r.min, r.max);
      values.emplace_back(r.name, format_real(v));
    }
    for (const auto& r : config.categorical_ranges) {
      const auto k = std::uniform_int_distribution<std::size_t>(0, r.values.size() - 1)(rng);
      values.emplace_back(r.name, value_text(r.values[k]));
    }
    candidates.push_back(RecipeRegistry::create(recipe, overlay(base, values))->params_json());
  }

  // Training users in a seeded order: rung r trains on the first share of them, so the users of
  // a rung include those of the rungs below it.
  std::vector<char> has_events(num_users, 0);
  for (Index u : split.train.users) has_events[u] = 1;
  std::vector<Index> train_users;
  for (Index u = 0; u < num_users; ++u) {
    if (has_events[u]) train_users.push_back(u);
  }
  std::shuffle(train_users.begin(), train_users.end(), rng);
  std::vector<std::size_t> position(num_users, 0);
  for (std::size_t k = 0; k < train_users.size(); ++k) position[train_users[k]] = k;

  const int rungs = static_cast<int>(rung_sizes.size());
  const int parallel = config.max_parallel_jobs;
  ExecutionOptions job_execution = execution;
  job_execution.num_threads =
      std::max(1, detail::resolve_threads(execution.num_threads) / parallel);
  const int total_jobs = std::accumulate(rung_sizes.begin(), rung_sizes.end(), 0);

  HpoResult result;
  result.config = config;
  result.validation_users = split.tests.size();
  std::vector<int> alive(static_cast<std::size_t>(configurations));
  std::iota(alive.begin(), alive.end(), 0);
  int done = 0;
  std::mutex progress_mutex;
  for (int rung = 0; rung < rungs; ++rung) {
    const double fraction = std::pow(static_cast<double>(kEta), rung - (rungs - 1));
    const auto users_kept =
        static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(train_users.size())));
    EventColumns subset;
    for (std::size_t e = 0; e < split.train.size(); ++e) {
      if (position[split.train.users[e]] >= users_kept) continue;
      subset.users.push_back(split.train.users[e]);
      subset.items.push_back(split.train.items[e]);
      subset.timestamps.push_back(split.train.timestamps[e]);
      subset.weights.push_back(split.train.weights[e]);
    }
    // Users scored with their trained state can only be validated in rungs that train them.
    EvaluationSplit rung_split;
    if (!split.fold_in_test_users && users_kept < train_users.size()) {
      rung_split.fold_in_test_users = false;
      for (const TestUser& t : split.tests) {
        if (position[t.user] < users_kept) rung_split.tests.push_back(t);
      }
    }
    const EvaluationSplit& scored = rung_split.tests.empty() ? split : rung_split;
    std::vector<HpoTrial> trials(alive.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t k = next++; k < alive.size(); k = next++) {
        const auto t0 = std::chrono::steady_clock::now();
        HpoTrial& t = trials[k];
        t.configuration = alive[k];
        t.rung = rung;
        t.user_fraction = fraction;
        t.params_json = candidates[static_cast<std::size_t>(alive[k])];
        TrainContext context;
        context.execution = job_execution;
        // One seed per configuration, the same at every rung.
        context.execution.seed = execution.seed + static_cast<std::uint64_t>(alive[k]);
        EventColumns copy = subset;
        const TrainingData data =
            TrainingData::build(num_users, num_items, std::move(copy.users), std::move(copy.items),
                                std::move(copy.timestamps), std::move(copy.weights));
        const auto model = RecipeRegistry::create(recipe, t.params_json)->train(data, context);
        TAILOR_THROW_IF(!model, ErrorCode::Internal, "recipe ", recipe, " trained no model");
        t.objective =
            metric_of(evaluate(*model, scored, num_items, context.execution), config.metric);
        t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (progress) {
          std::lock_guard<std::mutex> lock(progress_mutex);
          TrainingProgress p;
          p.stage = "hpo";
          p.iteration = ++done;
          p.total = total_jobs;
          p.elapsed_seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          progress(p);
        }
      }
    };
    if (parallel <= 1 || alive.size() <= 1) {
      work();
    } else {
      // Exceptions are caught per worker and the first rethrown after all have joined.
      std::vector<std::thread> workers;
      std::exception_ptr error;
      std::mutex error_mutex;
      for (int w = 0; w < std::min<int>(parallel, static_cast<int>(alive.size())); ++w) {
        workers.emplace_back([&] {
          try {
            work();
          } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            next = alive.size();
          }
        });
      }
      for (auto& w : workers) w.join();
      if (error) std::rethrow_exception(error);
    }
    // Best first (ties: the configuration drawn first); keep the best third for the next rung.
    const double sign = config.maximize ? 1.0 : -1.0;
    std::stable_sort(trials.begin(), trials.end(), [&](const HpoTrial& a, const HpoTrial& b) {
      if (a.objective != b.objective) return sign * a.objective > sign * b.objective;
      return a.configuration < b.configuration;
    });
    result.trials.insert(result.trials.end(), trials.begin(), trials.end());
    if (rung + 1 < rungs) {
      alive.clear();
      for (int k = 0; k < rung_sizes[static_cast<std::size_t>(rung) + 1]; ++k)
        alive.push_back(trials[static_cast<std::size_t>(k)].configuration);
    } else {
      result.best_params_json = trials.front().params_json;
      result.best_objective = trials.front().objective;
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tailor
