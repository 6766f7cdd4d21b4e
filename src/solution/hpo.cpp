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
#include "tailor/error.hpp"

namespace tailor {

namespace {

using detail::Json;

constexpr int kEta = 3;  // successive halving keeps the best third at each rung
// Rungs train on a third and on all of the training users: a ninth of the users favours
// configurations that suit little data (strong regularisation, few factors) too much.
constexpr int kMaxRungs = 2;
constexpr int kMaxJobs = 1000;
// Validation users are drawn with a seed of their own, so that they are not the evaluation's
// test users drawn again from a split that has already removed them.
constexpr std::uint64_t kValidationSeed = 0x9E3779B97F4A7C15ull;

Json parse(std::string_view text, const char* what) {
  try {
    return detail::parse_json(text.empty() ? std::string_view("{}") : text, what);
  } catch (const Error& e) {
    throw Error(ErrorCode::InvalidArgument, e.what());
  }
}

// Personalize writes numbers as strings ("16"); both are accepted.
double number(const Json& v, const std::string& what) {
  if (v.is_number()) return v.as_real();
  if (v.is_string() && !v.as_string().empty()) {
    char* end = nullptr;
    const double d = std::strtod(v.as_string().c_str(), &end);
    if (*end == '\0' && std::isfinite(d)) return d;
  }
  TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: ", what, " must be a number");
}

long long whole(const Json& v, const std::string& what) {
  const double d = number(v, what);
  TAILOR_THROW_IF(d != std::floor(d) || std::abs(d) > 1e15, ErrorCode::InvalidArgument,
                  "hpoConfig: ", what, " must be a whole number");
  return static_cast<long long>(d);
}

const char* scaling_name(HpoScaling s) {
  switch (s) {
    case HpoScaling::Linear:
      return "Linear";
    case HpoScaling::Logarithmic:
      return "Logarithmic";
    default:
      return "Auto";
  }
}

HpoScaling scaling_of(const Json& v, const std::string& range) {
  if (v.is_string()) {
    if (v.as_string() == "Auto") return HpoScaling::Auto;
    if (v.as_string() == "Linear") return HpoScaling::Linear;
    if (v.as_string() == "Logarithmic") return HpoScaling::Logarithmic;
  }
  TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: range \"", range,
               "\": scalingType must be Auto, Linear or Logarithmic");
}

// A range's name, bounds and scaling; unknown keys are errors.
template <typename Range, typename Read>
Range numeric_range(const Json& r, const char* list, Read read) {
  TAILOR_THROW_IF(!r.is_object(), ErrorCode::InvalidArgument, "hpoConfig: ", list,
                  " must hold objects");
  Range range;
  const Json* name = r.find("name");
  TAILOR_THROW_IF(!name || !name->is_string() || name->as_string().empty(),
                  ErrorCode::InvalidArgument, "hpoConfig: every entry of ", list,
                  " needs a \"name\"");
  range.name = name->as_string();
  bool has_min = false, has_max = false;
  for (const auto& [key, value] : r.members()) {
    if (key == "name") continue;
    if (key == "minValue") {
      range.min = read(value, "minValue of \"" + range.name + "\"");
      has_min = true;
    } else if (key == "maxValue") {
      range.max = read(value, "maxValue of \"" + range.name + "\"");
      has_max = true;
    } else if (key == "scalingType") {
      range.scaling = scaling_of(value, range.name);
    } else {
      TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: range \"", range.name,
                   "\": unknown key \"", key,
                   "\" (expected name, minValue, maxValue, scalingType)");
    }
  }
  TAILOR_THROW_IF(!has_min || !has_max, ErrorCode::InvalidArgument, "hpoConfig: range \"",
                  range.name, "\" needs minValue and maxValue");
  TAILOR_THROW_IF(!(range.min <= range.max), ErrorCode::InvalidArgument, "hpoConfig: range \"",
                  range.name, "\": minValue ", range.min, " is above maxValue ", range.max);
  TAILOR_THROW_IF(range.scaling == HpoScaling::Logarithmic && !(range.min > 0),
                  ErrorCode::InvalidArgument, "hpoConfig: range \"", range.name,
                  "\": Logarithmic scaling needs minValue > 0");
  return range;
}

const Json& array_of(const Json& v, const char* what) {
  TAILOR_THROW_IF(!v.is_array(), ErrorCode::InvalidArgument, "hpoConfig: ", what,
                  " must be an array");
  return v;
}

// A categorical value as the JSON text it stands for: numbers and true/false as themselves,
// anything else as a string.
std::string value_text(const std::string& value) {
  try {
    const Json v = detail::parse_json(value, "value");
    if (v.is_number() || v.is_bool()) return value;
  } catch (const Error&) {
  }
  std::string out;
  detail::append_json_string(out, value);
  return out;
}

bool logarithmic(HpoScaling s, double min, double max) {
  if (s == HpoScaling::Logarithmic) return true;
  return s == HpoScaling::Auto && min > 0 && max / min > 10;
}

std::string format_real(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

// `base` (a flat JSON object) with `values` (name, JSON text) put in place or added.
std::string overlay(const std::string& base,
                    const std::vector<std::pair<std::string, std::string>>& values) {
  const Json root = parse(base, "hyperparameters");
  TAILOR_THROW_IF(!root.is_object(), ErrorCode::InvalidArgument,
                  "hyperparameters: expected a JSON object");
  std::string out = "{";
  auto add = [&](const std::string& key, const std::string& text) {
    if (out.size() > 1) out += ",";
    detail::append_json_string(out, key);
    out += ":" + text;
  };
  for (const auto& [key, value] : root.members()) {
    const auto at = std::find_if(values.begin(), values.end(),
                                 [&, &k = key](const auto& v) { return v.first == k; });
    if (at != values.end()) continue;
    std::string text;
    detail::append_json(text, value);
    add(key, text);
  }
  for (const auto& [key, text] : values) add(key, text);
  return out + "}";
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

void HpoConfig::set_ranges(std::string_view ranges_json) {
  const Json root = parse(ranges_json, "algorithmHyperParameterRanges");
  TAILOR_THROW_IF(!root.is_object(), ErrorCode::InvalidArgument,
                  "hpoConfig: algorithmHyperParameterRanges must be an object");
  integer_ranges.clear();
  continuous_ranges.clear();
  categorical_ranges.clear();
  for (const auto& [key, value] : root.members()) {
    if (key == "integerHyperParameterRanges") {
      for (const Json& r : array_of(value, key.c_str()).items()) {
        integer_ranges.push_back(
            numeric_range<HpoIntegerRange>(r, "integerHyperParameterRanges", whole));
      }
    } else if (key == "continuousHyperParameterRanges") {
      for (const Json& r : array_of(value, key.c_str()).items()) {
        continuous_ranges.push_back(
            numeric_range<HpoContinuousRange>(r, "continuousHyperParameterRanges", number));
      }
    } else if (key == "categoricalHyperParameterRanges") {
      for (const Json& r : array_of(value, key.c_str()).items()) {
        TAILOR_THROW_IF(!r.is_object(), ErrorCode::InvalidArgument,
                        "hpoConfig: categoricalHyperParameterRanges must hold objects");
        HpoCategoricalRange range;
        const Json* name = r.find("name");
        const Json* values = r.find("values");
        TAILOR_THROW_IF(!name || !name->is_string() || name->as_string().empty(),
                        ErrorCode::InvalidArgument,
                        "hpoConfig: every categorical range needs a \"name\"");
        range.name = name->as_string();
        TAILOR_THROW_IF(
            r.members().size() != 2 || !values || !values->is_array() || values->items().empty(),
            ErrorCode::InvalidArgument, "hpoConfig: categorical range \"", range.name,
            "\" needs exactly \"name\" and a non-empty \"values\" array");
        for (const Json& v : values->items()) {
          std::string text;
          if (v.is_string()) {
            text = v.as_string();
          } else if (v.is_number() || v.is_bool()) {
            detail::append_json(text, v);
          } else {
            TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: categorical range \"", range.name,
                         "\": values must be strings, numbers or booleans");
          }
          range.values.push_back(text);
        }
        categorical_ranges.push_back(std::move(range));
      }
    } else {
      TAILOR_THROW(ErrorCode::InvalidArgument,
                   "hpoConfig: algorithmHyperParameterRanges: unknown key \"", key,
                   "\" (expected integerHyperParameterRanges, continuousHyperParameterRanges, "
                   "categoricalHyperParameterRanges)");
    }
  }
  // A name searched twice would have one range silently override the other.
  std::vector<std::string> names;
  for (const auto& r : integer_ranges) names.push_back(r.name);
  for (const auto& r : continuous_ranges) names.push_back(r.name);
  for (const auto& r : categorical_ranges) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  const auto twice = std::adjacent_find(names.begin(), names.end());
  TAILOR_THROW_IF(twice != names.end(), ErrorCode::InvalidArgument, "hpoConfig: \"", *twice,
                  "\" has more than one range");
}

HpoConfig HpoConfig::from_json(std::string_view json) {
  Json root = parse(json, "hpoConfig");
  TAILOR_THROW_IF(!root.is_object(), ErrorCode::InvalidArgument,
                  "hpoConfig: expected a JSON object");
  if (const Json* inner = root.find("hpoConfig")) {
    TAILOR_THROW_IF(root.members().size() != 1 || !inner->is_object(), ErrorCode::InvalidArgument,
                    "hpoConfig: a solution config here holds only an \"hpoConfig\" object");
    root = *inner;
  }
  HpoConfig c;
  for (const auto& [key, value] : root.members()) {
    if (key == "hpoObjective") {
      TAILOR_THROW_IF(!value.is_object(), ErrorCode::InvalidArgument,
                      "hpoConfig: hpoObjective must be an object");
      for (const auto& [k, v] : value.members()) {
        if (k == "type") {
          TAILOR_THROW_IF(
              !v.is_string() || (v.as_string() != "Maximize" && v.as_string() != "Minimize"),
              ErrorCode::InvalidArgument,
              "hpoConfig: hpoObjective.type must be Maximize or Minimize");
          c.maximize = v.as_string() == "Maximize";
        } else if (k == "metricName") {
          TAILOR_THROW_IF(!v.is_string(), ErrorCode::InvalidArgument,
                          "hpoConfig: hpoObjective.metricName must be a string");
          c.metric = v.as_string();
        } else {
          TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: hpoObjective: unknown key \"", k,
                       "\" (expected type, metricName)");
        }
      }
    } else if (key == "hpoResourceConfig") {
      TAILOR_THROW_IF(!value.is_object(), ErrorCode::InvalidArgument,
                      "hpoConfig: hpoResourceConfig must be an object");
      for (const auto& [k, v] : value.members()) {
        if (k == "maxNumberOfTrainingJobs") {
          c.max_training_jobs = static_cast<int>(
              std::clamp<long long>(whole(v, "maxNumberOfTrainingJobs"), -1, kMaxJobs + 1));
        } else if (k == "maxParallelTrainingJobs") {
          c.max_parallel_jobs = static_cast<int>(
              std::clamp<long long>(whole(v, "maxParallelTrainingJobs"), -1, kMaxJobs + 1));
        } else {
          TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: hpoResourceConfig: unknown key \"",
                       k, "\" (expected maxNumberOfTrainingJobs, maxParallelTrainingJobs)");
        }
      }
    } else if (key == "algorithmHyperParameterRanges") {
      std::string text;
      detail::append_json(text, value);
      c.set_ranges(text);
    } else {
      TAILOR_THROW(ErrorCode::InvalidArgument, "hpoConfig: unknown key \"", key,
                   "\" (expected hpoObjective, hpoResourceConfig, algorithmHyperParameterRanges)");
    }
  }
  TAILOR_THROW_IF(c.max_training_jobs < 1 || c.max_training_jobs > kMaxJobs,
                  ErrorCode::InvalidArgument, "hpoConfig: maxNumberOfTrainingJobs must be 1 to ",
                  kMaxJobs);
  TAILOR_THROW_IF(c.max_parallel_jobs < 1 || c.max_parallel_jobs > c.max_training_jobs,
                  ErrorCode::InvalidArgument,
                  "hpoConfig: maxParallelTrainingJobs must be 1 to maxNumberOfTrainingJobs");
  bool known = false;
  std::string names;
  for (const auto& [name, v] : RankingMetrics{}.named()) {
    known = known || name == c.metric;
    names += (names.empty() ? "" : ", ") + name;
  }
  TAILOR_THROW_IF(!known, ErrorCode::InvalidArgument, "hpoConfig: unknown metricName \"", c.metric,
                  "\" (expected one of ", names, ")");
  return c;
}

std::string HpoConfig::to_json() const {
  std::string out = std::string("{\"hpoObjective\":{\"type\":\"") +
                    (maximize ? "Maximize" : "Minimize") + "\",\"metricName\":";
  detail::append_json_string(out, metric);
  out += "},\"hpoResourceConfig\":{\"maxNumberOfTrainingJobs\":\"" +
         std::to_string(max_training_jobs) + "\",\"maxParallelTrainingJobs\":\"" +
         std::to_string(max_parallel_jobs) +
         "\"},\"algorithmHyperParameterRanges\":{\"integerHyperParameterRanges\":[";
  auto name = [&](const std::string& n) {
    out += "{\"name\":";
    detail::append_json_string(out, n);
  };
  for (std::size_t k = 0; k < integer_ranges.size(); ++k) {
    const auto& r = integer_ranges[k];
    out += k ? "," : "";
    name(r.name);
    out += ",\"minValue\":" + std::to_string(r.min) + ",\"maxValue\":" + std::to_string(r.max) +
           ",\"scalingType\":\"" + scaling_name(r.scaling) + "\"}";
  }
  out += "],\"continuousHyperParameterRanges\":[";
  for (std::size_t k = 0; k < continuous_ranges.size(); ++k) {
    const auto& r = continuous_ranges[k];
    out += k ? "," : "";
    name(r.name);
    out += ",\"minValue\":" + format_real(r.min) + ",\"maxValue\":" + format_real(r.max) +
           ",\"scalingType\":\"" + scaling_name(r.scaling) + "\"}";
  }
  out += "],\"categoricalHyperParameterRanges\":[";
  for (std::size_t k = 0; k < categorical_ranges.size(); ++k) {
    out += k ? "," : "";
    name(categorical_ranges[k].name);
    out += ",\"values\":[";
    for (std::size_t v = 0; v < categorical_ranges[k].values.size(); ++v) {
      out += v ? "," : "";
      detail::append_json_string(out, categorical_ranges[k].values[v]);
    }
    out += "]}";
  }
  return out + "]}}";
}

void HpoConfig::check_against(std::string_view recipe) const {
  auto accepts = [&](const std::string& name, const std::string& text) {
    try {
      RecipeRegistry::create(recipe, overlay("{}", {{name, text}}));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::NotFound) throw;
      throw Error(ErrorCode::InvalidArgument, "hpoConfig: range \"" + name +
                                                  "\" does not fit recipe " + std::string(recipe) +
                                                  " (value " + text + "): " + e.what());
    }
  };
  for (const auto& r : integer_ranges) {
    accepts(r.name, std::to_string(r.min));
    accepts(r.name, std::to_string(r.max));
  }
  for (const auto& r : continuous_ranges) {
    accepts(r.name, format_real(r.min));
    accepts(r.name, format_real(r.max));
  }
  for (const auto& r : categorical_ranges) {
    for (const auto& v : r.values) accepts(r.name, value_text(v));
  }
}

std::string HpoResult::to_json() const {
  std::string out = "{\"hpoConfig\":" + config.to_json() + ",\"bestHyperParameters\":" +
                    (best_params_json.empty() ? "{}" : best_params_json) +
                    ",\"bestObjective\":" + format_real(best_objective) +
                    ",\"validationUsers\":" + std::to_string(validation_users) +
                    ",\"seconds\":" + format_real(seconds) + ",\"trainingJobs\":[";
  for (std::size_t k = 0; k < trials.size(); ++k) {
    const HpoTrial& t = trials[k];
    out += (k ? "," : "") + std::string("{\"configuration\":") + std::to_string(t.configuration) +
           ",\"rung\":" + std::to_string(t.rung) +
           ",\"userFraction\":" + format_real(t.user_fraction) +
           ",\"hyperParameters\":" + t.params_json + ",\"objective\":" + format_real(t.objective) +
           ",\"seconds\":" + format_real(t.seconds) + "}";
  }
  return out + "]}";
}

HpoResult HpoResult::from_json(std::string_view json) {
  try {
    const Json root = detail::parse_json(json, "hpo result");
    HpoResult r;
    auto need = [&](const Json& o, const char* key) -> const Json& {
      const Json* v = o.find(key);
      TAILOR_THROW_IF(!v, ErrorCode::ParseError, "hpo result: missing \"", key, "\"");
      return *v;
    };
    auto text = [](const Json& v) {
      std::string out;
      detail::append_json(out, v);
      return out;
    };
    r.config = HpoConfig::from_json(text(need(root, "hpoConfig")));
    r.best_params_json = text(need(root, "bestHyperParameters"));
    r.best_objective = need(root, "bestObjective").as_real();
    r.validation_users = static_cast<std::size_t>(need(root, "validationUsers").as_real());
    r.seconds = need(root, "seconds").as_real();
    for (const Json& t : need(root, "trainingJobs").items()) {
      HpoTrial trial;
      trial.configuration = static_cast<int>(need(t, "configuration").as_real());
      trial.rung = static_cast<int>(need(t, "rung").as_real());
      trial.user_fraction = need(t, "userFraction").as_real();
      trial.params_json = text(need(t, "hyperParameters"));
      trial.objective = need(t, "objective").as_real();
      trial.seconds = need(t, "seconds").as_real();
      r.trials.push_back(std::move(trial));
    }
    return r;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::ParseError) throw;
    throw Error(ErrorCode::ParseError, std::string("hpo result: ") + e.what());
  }
}

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
