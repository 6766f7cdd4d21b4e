// SPDX-License-Identifier: MIT
// Solutions: event selection, the evaluation run and training.
#include "tailor/solution/solution.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>

#include "detail/text.hpp"
#include "io/json.hpp"
#include "tailor/detail/bits.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {}  // namespace

EventSelection EventSelection::from_json(std::string_view json) {
  using detail::Json;
  const Json root =
      detail::parse_json(json.empty() ? std::string_view("{}") : json, "event selection");
  TAILOR_THROW_IF(!root.is_object(), ErrorCode::InvalidArgument,
                  "event selection: expected a JSON object");
  EventSelection s;
  for (const auto& [key, value] : root.members()) {
    if (key == "eventTypes") {
      TAILOR_THROW_IF(!value.is_array(), ErrorCode::InvalidArgument,
                      "event selection: eventTypes must be an array of strings");
      for (const Json& t : value.items()) {
        TAILOR_THROW_IF(!t.is_string() || t.as_string().empty(), ErrorCode::InvalidArgument,
                        "event selection: eventTypes must hold non-empty strings");
        s.event_types.push_back(t.as_string());
      }
    } else if (key == "eventValueThreshold") {
      TAILOR_THROW_IF(!value.is_number(), ErrorCode::InvalidArgument,
                      "event selection: eventValueThreshold must be a number");
      s.event_value_threshold = static_cast<float>(value.as_real());
    } else if (key == "eventTypeWeights") {
      TAILOR_THROW_IF(!value.is_object(), ErrorCode::InvalidArgument,
                      "event selection: eventTypeWeights must map event types to numbers");
      for (const auto& [type, w] : value.members()) {
        TAILOR_THROW_IF(!w.is_number() || !(w.as_real() >= 0) || !std::isfinite(w.as_real()),
                        ErrorCode::InvalidArgument, "event selection: weight of \"", type,
                        "\" must be a finite number >= 0");
        s.event_type_weights.emplace_back(type, static_cast<float>(w.as_real()));
      }
    } else if (key == "eventValueAsWeight") {
      TAILOR_THROW_IF(!value.is_bool(), ErrorCode::InvalidArgument,
                      "event selection: eventValueAsWeight must be true or false");
      s.event_value_as_weight = value.as_bool();
    } else {
      TAILOR_THROW(
          ErrorCode::InvalidArgument, "event selection: unknown key \"", key,
          "\" (expected eventTypes, eventValueThreshold, eventTypeWeights, eventValueAsWeight)");
    }
  }
  return s;
}

std::string EventSelection::to_json() const {
  // eventValueAsWeight first and always: a stored selection without it predates the setting.
  std::string out = std::string("{\"eventValueAsWeight\":") +
                    (event_value_as_weight ? "true" : "false") + ",\"eventTypes\":[";
  for (std::size_t i = 0; i < event_types.size(); ++i) {
    if (i) out += ",";
    detail::append_json_string(out, event_types[i]);
  }
  out += "]";
  if (event_value_threshold)
    out += ",\"eventValueThreshold\":" + std::to_string(*event_value_threshold);
  out += ",\"eventTypeWeights\":{";
  for (std::size_t i = 0; i < event_type_weights.size(); ++i) {
    if (i) out += ",";
    detail::append_json_string(out, event_type_weights[i].first);
    out += ":" + std::to_string(event_type_weights[i].second);
  }
  return out + "}}";
}

SolutionVersion::SolutionVersion(SolutionConfig config, TrainingMode mode,
                                 std::shared_ptr<const Model> model,
                                 std::optional<RankingMetrics> metrics,
                                 std::optional<RankingMetrics> baseline, double training_seconds,
                                 int training_ranks, std::optional<HpoResult> hpo)
    : config_(std::move(config)),
      mode_(mode),
      model_(std::move(model)),
      metrics_(std::move(metrics)),
      baseline_(std::move(baseline)),
      training_seconds_(training_seconds),
      training_ranks_(training_ranks),
      hpo_(std::move(hpo)) {
  TAILOR_THROW_IF(!model_, ErrorCode::InvalidArgument, "a solution version needs a model");
  TAILOR_THROW_IF(training_ranks_ < 1, ErrorCode::InvalidArgument,
                  "a solution version's training ranks must be at least 1, found ",
                  training_ranks_);
}

SolutionVersion SolutionVersion::with_model(std::shared_ptr<const Model> model) const {
  SolutionVersion copy = *this;
  TAILOR_THROW_IF(!model, ErrorCode::InvalidArgument, "a solution version needs a model");
  copy.model_ = std::move(model);
  return copy;
}

Solution::Solution(SolutionConfig config)
    : config_(std::move(config)),
      recipe_(RecipeRegistry::create(config_.recipe, config_.params_json)) {
  TAILOR_THROW_IF(config_.name.empty(), ErrorCode::InvalidArgument, "a solution needs a name");
  if (config_.hpo) {
    if (!config_.hpo->has_ranges()) {
      const std::string ranges = recipe_->hpo_ranges_json();
      TAILOR_THROW_IF(ranges.empty(), ErrorCode::InvalidArgument, "solution ", config_.name,
                      ": recipe ", recipe_->name(),
                      " has no default hyperparameter ranges; give algorithmHyperParameterRanges");
      config_.hpo->set_ranges(ranges);
    }
    config_.hpo->check_against(recipe_->name());
  }
}

Solution::Solution(SolutionConfig config, std::shared_ptr<const Recipe> recipe)
    : config_(std::move(config)), recipe_(std::move(recipe)) {
  TAILOR_THROW_IF(!recipe_, ErrorCode::InvalidArgument, "solution ", config_.name,
                  ": no recipe given");
  const std::string registered = RecipeRegistry::create(config_.recipe, "{}")->name();
  TAILOR_THROW_IF(recipe_->name() != registered, ErrorCode::InvalidArgument, "solution ",
                  config_.name, ": recipe ", recipe_->name(), " given for recipe ", registered);
}

void Solution::type_weights(const IdMap& types, std::vector<char>& keep,
                            std::vector<float>& weight) const {
  keep.assign(types.size() + 1, config_.events.event_types.empty() ? 1 : 0);
  weight.assign(types.size() + 1, 1.0f);
  // Every request's history is selected through here: no lower-cased names without a list.
  if (config_.events.event_types.empty() && config_.events.event_type_weights.empty()) return;
  for (Index t = 0; t < types.size(); ++t) {
    const std::string name = detail::to_lower(types.name(t));
    for (const std::string& wanted : config_.events.event_types) {
      if (detail::to_lower(wanted) == name) keep[t] = 1;
    }
    for (const auto& [type, w] : config_.events.event_type_weights) {
      if (detail::to_lower(type) == name) weight[t] = w;
    }
  }
}

namespace {
// Calls emit(row, weight) for each selected row among `rows`.
// EVENT_VALUE selects (threshold); it weighs only when the selection says so.
template <typename Rows, typename Emit>
void for_selected(const Interactions& in, const Rows& rows, const std::vector<char>& keep,
                  const std::vector<float>& weight, const EventSelection& selection, Emit&& emit) {
  const std::size_t no_type = keep.size() - 1;  // slot for events without an event type
  const std::optional<float>& threshold = selection.event_value_threshold;
  for (std::size_t r : rows) {
    const std::uint16_t code = in.event_types()[r];
    const std::size_t t = code == kNoEventType ? no_type : code;
    if (!keep[t]) continue;
    const bool has_value = in.has_event_value(r);
    if (threshold && has_value && in.event_values()[r] < *threshold) continue;
    const float value = selection.event_value_as_weight && has_value ? in.event_values()[r] : 1.0f;
    emit(r, weight[t] * value);
  }
}
}  // namespace

EventColumns Solution::select_events(const DatasetGroup& group) const {
  const Interactions& in = group.interactions();
  std::vector<char> keep;
  std::vector<float> weight;
  type_weights(in.event_type_names(), keep, weight);
  EventColumns out;
  for_selected(in, detail::IndexRange{in.size()}, keep, weight, config_.events,
               [&](std::size_t r, float w) {
                 out.users.push_back(in.users()[r]);
                 out.items.push_back(in.items()[r]);
                 out.timestamps.push_back(in.timestamps()[r]);
                 out.weights.push_back(w);
               });
  return out;
}

void Solution::user_history(const DatasetGroup& group, Index user, std::vector<Index>& items,
                            std::vector<float>& weights) const {
  items.clear();
  weights.clear();
  const Interactions& in = group.interactions();
  std::vector<char> keep;
  std::vector<float> weight;
  type_weights(in.event_type_names(), keep, weight);
  // The user's rows lie anywhere in the columns: ask for the cache lines of the first rows at once,
  // so that their misses overlap instead of coming one row at a time (batch jobs resolve every
  // user's history); a few dozen are as many as the core keeps in flight.
  const auto rows = group.interaction_rows_of(user);
  for (std::size_t k = 0; k < rows.size() && k < 64; ++k) {
    detail::prefetch_read(&in.items()[rows[k]]);
    detail::prefetch_read(&in.event_types()[rows[k]]);
  }
  for_selected(in, rows, keep, weight, config_.events, [&](std::size_t r, float w) {
    items.push_back(in.items()[r]);
    weights.push_back(w);
  });
}

SolutionVersion Solution::train(const DatasetGroup& group, const TrainOptions& options,
                                const SolutionVersion* previous) const {
  if (options.item_features) {
    return train(select_events(group), group.user_ids().size(), group.item_ids().size(), options,
                 previous);
  }
  TrainOptions with_features = options;
  with_features.item_features = ItemFeatureTable::build(group.items(), group.item_ids().size());
  return train(select_events(group), group.user_ids().size(), group.item_ids().size(),
               with_features, previous);
}

std::unique_ptr<Model> Solution::checked(std::unique_ptr<Model> model) const {
  // A recipe registered by a program is held to what serving and persistence rely on.
  TAILOR_THROW_IF(!model, ErrorCode::Internal, "solution ", config_.name, ": recipe ",
                  recipe_->name(), " trained no model");
  TAILOR_THROW_IF(model->recipe() != recipe_->name(), ErrorCode::Internal, "solution ",
                  config_.name, ": recipe ", recipe_->name(),
                  " trained a model that names recipe \"", model->recipe(),
                  "\" (its versions would load through that recipe's loader)");
  return model;
}

SolutionVersion Solution::train(EventColumns events, Index users, Index items,
                                const TrainOptions& options,
                                const SolutionVersion* previous) const {
  const auto start = std::chrono::steady_clock::now();
  TAILOR_THROW_IF(options.mode == TrainingMode::Update && !previous, ErrorCode::InvalidArgument,
                  "solution ", config_.name,
                  ": UPDATE training needs the previous solution version");
  TAILOR_THROW_IF(
      options.mode == TrainingMode::Update && previous->config().recipe != config_.recipe,
      ErrorCode::InvalidArgument, "solution ", config_.name, ": UPDATE needs a version of recipe ",
      config_.recipe, ", the previous version is of recipe ", previous->config().recipe);
  TAILOR_THROW_IF(options.mode == TrainingMode::Update && !recipe_->supports_update(),
                  ErrorCode::InvalidArgument, "solution ", config_.name, ": recipe ",
                  recipe_->name(), " has no UPDATE training mode");
  TAILOR_THROW_IF(events.size() == 0, ErrorCode::InvalidArgument, "solution ", config_.name,
                  ": no interactions left to train on after the event selection");
  TAILOR_THROW_IF(options.mode == TrainingMode::Update && config_.hpo, ErrorCode::InvalidArgument,
                  "solution ", config_.name,
                  ": a hyperparameter search trains a new model; use FULL training");
  TrainContext context;
  context.execution = options.execution;
  context.progress = options.progress;

  // The recipe that trains: this solution's, or the one with the configuration the search chose
  // (the version records it, and no search, as its config).
  std::shared_ptr<const Recipe> recipe = recipe_;
  SolutionConfig config = config_;
  std::optional<HpoResult> hpo;
  auto search = [&](const EventColumns& searched) {
    hpo = search_hyperparameters(recipe_->name(), config_.params_json, *config_.hpo, searched,
                                 users, items, options.execution, options.evaluation.split,
                                 options.progress);
    recipe = RecipeRegistry::create(recipe_->name(), hpo->best_params_json);
    config.params_json = recipe->params_json();
    config.hpo.reset();
  };

  std::optional<RankingMetrics> metrics, baseline;
  if (options.compute_metrics) {
    EvaluationOptions eval = options.evaluation;
    eval.execution = options.execution;
    EvaluationSplit split = split_for_evaluation(events, users, eval);
    // The search sees the training side of the split only: never a test user's held-out events.
    if (config_.hpo) search(split.train);
    TrainingData train = TrainingData::build(
        users, items, std::move(split.train.users), std::move(split.train.items),
        std::move(split.train.timestamps), std::move(split.train.weights));
    train.item_features = options.item_features;
    metrics = evaluate(*checked(recipe->train(train, context)), split, items, options.execution);
    baseline = evaluate(*RecipeRegistry::baseline()->train(train, context), split, items,
                        options.execution);
  }

  if (config_.hpo && !hpo) search(events);
  TrainingData all =
      TrainingData::build(users, items, std::move(events.users), std::move(events.items),
                          std::move(events.timestamps), std::move(events.weights));
  all.item_features = options.item_features;
  std::shared_ptr<const Model> model = checked(
      options.mode == TrainingMode::Update ? recipe->update(*previous->model(), all, context)
                                           : recipe->train(all, context));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return SolutionVersion(std::move(config), options.mode, std::move(model), std::move(metrics),
                         std::move(baseline), seconds, 1, std::move(hpo));
}

}  // namespace tailor
