// SPDX-License-Identifier: MIT
// Hyperparameter search configs (Personalize's hpoConfig) and the record of a search, as JSON.
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
#include "tailor/solution/hpo.hpp"

namespace tailor {

namespace hpo_detail {

using detail::Json;

detail::Json parse(std::string_view text, const char* what) {
  try {
    return detail::parse_json(text.empty() ? std::string_view("{}") : text, what);
  } catch (const Error& e) {
    throw Error(ErrorCode::InvalidArgument, e.what());
  }
}

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

std::string format_real(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

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

}  // namespace hpo_detail

namespace {

using detail::Json;
using hpo_detail::format_real;
using hpo_detail::overlay;
using hpo_detail::parse;
using hpo_detail::value_text;

constexpr int kMaxJobs = 1000;

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

}  // namespace tailor
