// SPDX-License-Identifier: MIT
// user-personalization recipe: parameters, training loop, model scoring and fold-in.
#include "tailor/recipes/als.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <utility>

#include "recipes/als/als_kernels.hpp"
#include "recipes/als/bf16_scan.hpp"
#include "recipes/params.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

const std::vector<detail::ParamField<AlsParams>>& als_fields() {
  static const std::vector<detail::ParamField<AlsParams>> fields = {
      {"factors", &AlsParams::factors, 1, 1024, {}, "latent dimensions"},
      {"regularization", &AlsParams::regularization, 0, 1e6, {}, "L2 regularization λ"},
      {"alpha", &AlsParams::alpha, 0, 1e6, {}, "confidence = 1 + alpha * value"},
      {"iterations", &AlsParams::iterations, 1, 1000, {}, "full sweeps over users and items"},
      {"cg_steps", &AlsParams::cg_steps, 1, 1024, {}, "conjugate-gradient steps per row"},
      {"solver", detail::enum_member<&AlsParams::solver>(), 0, 0, {"cg", "cholesky"},
       "least-squares solver"},
      {"init_scale", &AlsParams::init_scale, 0, 10, {}, "standard deviation of initial factors"},
      {"compute_loss", &AlsParams::compute_loss, 0, 0, {}, "report the loss every sweep"},
  };
  return fields;
}

detail::AlsKernelArgs kernel_args(const AlsParams& p, const TrainContext& context) {
  detail::AlsKernelArgs args;
  args.regularization = p.regularization;
  args.alpha = p.alpha;
  args.cg_steps = p.cg_steps;
  args.cholesky = p.solver == AlsSolver::Cholesky;
  args.threads = context.execution.num_threads;
  return args;
}

detail::CsrView user_rows(const TrainingData& d) {
  return {d.user_offsets.data(), d.user_items.data(), d.user_values.data(), d.num_users};
}
detail::CsrView item_rows(const TrainingData& d) {
  return {d.item_offsets.data(), d.item_users.data(), d.item_values.data(), d.num_items};
}

// Fills rows [first, M.rows()) with N(0, scale²) draws from one seeded stream, in row order.
void init_rows(FactorMatrix& M, Index first, float scale, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (Index r = first; r < M.rows(); ++r) {
    for (Eigen::Index c = 0; c < M.cols(); ++c) M(r, c) = scale * normal(rng);
  }
}

}  // namespace

AlsParams AlsParams::from_json(std::string_view json) {
  return detail::params_from_json(json, als_fields(), "user-personalization");
}
std::string AlsParams::to_json() const { return detail::params_to_json(*this, als_fields()); }
void AlsParams::validate() const { detail::validate_params(*this, als_fields(), "user-personalization"); }
std::string AlsParams::describe() { return detail::describe_params(als_fields()); }

AlsModel::AlsModel(std::string recipe, AlsParams params, FactorMatrix users, FactorMatrix items,
                   std::vector<Index> removed_items)
    : recipe_(std::move(recipe)),
      params_(std::move(params)),
      users_(std::move(users)),
      items_(std::move(items)),
      gram_(detail::gram_matrix(items_, params_.regularization)),
      panels_(detail::score_panels(items_)),
      bf16_panels_(detail::bf16_panels(items_)),
      bf16_radii_(detail::bf16_error_radii(bf16_panels_, items_)),
      removed_items_(std::move(removed_items)) {
  TAILOR_THROW_IF(users_.cols() != items_.cols(), ErrorCode::InvalidArgument,
                  "user and item factors differ in width: ", users_.cols(), " vs ", items_.cols());
  std::sort(removed_items_.begin(), removed_items_.end());
  removed_items_.erase(std::unique(removed_items_.begin(), removed_items_.end()),
                       removed_items_.end());
  TAILOR_THROW_IF(!removed_items_.empty() && removed_items_.back() >= num_items(),
                  ErrorCode::InvalidArgument, "removed item ", removed_items_.back(),
                  " is outside the model's ", num_items(), " items");
  for (float r : bf16_radii_) max_bf16_radius_ = std::max(max_bf16_radius_, r);
}

Eigen::VectorXf AlsModel::fold_in(Span<Index> history, Span<float> weights) const {
  // Sum repeated items, as training does, and skip items the model has not seen.
  std::vector<std::pair<Index, float>> entries;
  entries.reserve(history.size());
  for (std::size_t k = 0; k < history.size(); ++k) {
    if (history[k] < num_items()) entries.emplace_back(history[k], weights.empty() ? 1.0f : weights[k]);
  }
  std::sort(entries.begin(), entries.end());
  std::vector<Index> items;
  std::vector<float> values;
  for (const auto& [item, w] : entries) {
    if (!items.empty() && items.back() == item) {
      values.back() += w;
    } else {
      items.push_back(item);
      values.push_back(w);
    }
  }
  if (items.empty()) return Eigen::VectorXf::Zero(items_.cols());
  return detail::als_fold_in(items_, gram_, items.data(), values.data(), items.size(), params_.alpha);
}

Eigen::VectorXf AlsModel::user_vector(const UserQuery& query) const {
  if (query.user < num_users() && !query.refresh) return users_.row(query.user).transpose();
  return fold_in(query.history, query.weights);
}

void AlsModel::mask_removed(float* scores, Index first, std::size_t n) const {
  auto it = std::lower_bound(removed_items_.begin(), removed_items_.end(), first);
  for (; it != removed_items_.end() && *it - first < n; ++it) {
    scores[*it - first] = -std::numeric_limits<float>::infinity();
  }
}

std::shared_ptr<const Model> AlsModel::without(Span<Index> users, Span<Index> items) const {
  FactorMatrix user_factors = users_;
  FactorMatrix item_factors = items_;
  for (Index u : users) {
    if (u < num_users()) user_factors.row(u).setZero();
  }
  std::vector<Index> removed = removed_items_;
  for (Index i : items) {
    if (i >= num_items()) continue;
    item_factors.row(i).setZero();
    removed.push_back(i);
  }
  // The constructor derives the Gram matrix, the panels, their bfloat16 copy and its radii from
  // the zeroed item factors, so no copy keeps the old rows.
  return std::make_shared<AlsModel>(recipe_, params_, std::move(user_factors),
                                    std::move(item_factors), std::move(removed));
}

// One user's vector, and the model's scans with it.
class AlsModel::Scorer : public UserScorer {
 public:
  Scorer(const AlsModel& model, Eigen::VectorXf u) : model_(model), u_(std::move(u)) {}

  void score_all(std::vector<float>& scores) const override {
    scores.resize(static_cast<std::size_t>(model_.items_.rows()));
    detail::score_panels(model_.panels_.data(), u_.data(), width(), scores.size(), scores.data());
    model_.mask_removed(scores.data(), 0, scores.size());
  }

  void score(Span<Index> items, std::vector<float>& scores) const override {
    for (Index i : items) {
      TAILOR_THROW_IF(i >= model_.num_items(), ErrorCode::NotFound, "item index ", i,
                      " is unknown to the model");
    }
    scores.resize(items.size());
    detail::score_rows(model_.items_, items.data(), items.size(), u_.data(), scores.data());
    if (model_.removed_items_.empty()) return;
    for (std::size_t k = 0; k < items.size(); ++k) model_.mask_removed(&scores[k], items[k], 1);
  }

  ScoreBound approximate_scores(std::vector<float>& scores) const override {
    scores.resize(static_cast<std::size_t>(model_.items_.rows()));
    const float scale = detail::score_bf16_panels(model_.bf16_panels_, u_.data(), width(),
                                                  scores.size(), scores.data());
    if (scale > 0) {
      model_.mask_removed(scores.data(), 0, scores.size());
      return {scale, model_.bf16_radii_.data(), model_.max_bf16_radius_};
    }
    // Unsupported factors, or u = 0 (every score exactly 0 either way): the float32 scan.
    score_all(scores);
    return {};
  }

 private:
  int width() const { return static_cast<int>(model_.items_.cols()); }

  const AlsModel& model_;
  Eigen::VectorXf u_;
};

std::unique_ptr<UserScorer> AlsModel::scorer(const UserQuery& query) const {
  return std::make_unique<Scorer>(*this, user_vector(query));
}

void AlsModel::score_all(const UserQuery& query, std::vector<float>& scores) const {
  Scorer(*this, user_vector(query)).score_all(scores);
}

void AlsModel::score(const UserQuery& query, Span<Index> items, std::vector<float>& scores) const {
  Scorer(*this, user_vector(query)).score(items, scores);
}

void AlsModel::user_state(const UserQuery& query, float* state) const {
  Eigen::Map<Eigen::VectorXf>(state, items_.cols()) = user_vector(query);
}

Index AlsModel::chunk_alignment() const { return static_cast<Index>(detail::kScorePanel); }

void AlsModel::score_block(const float* users, std::size_t users_count, Index first, Index count,
                           float* out, std::size_t out_stride) const {
  const Index panel = static_cast<Index>(detail::kScorePanel);
  TAILOR_THROW_IF(first % panel != 0 || first + count > num_items(), ErrorCode::InvalidArgument,
                  "score_block: items [", first, ", ", first + count,
                  ") must start at a multiple of ", panel, " and lie within the model's ",
                  num_items(), " items");
  const std::size_t panels =
      (static_cast<std::size_t>(count) + detail::kScorePanel - 1) / detail::kScorePanel;
  TAILOR_THROW_IF(out_stride < panels * detail::kScorePanel, ErrorCode::InvalidArgument,
                  "score_block: a row stride of ", out_stride, " is shorter than ",
                  panels * detail::kScorePanel);
  detail::score_panels_block(panels_, static_cast<int>(items_.cols()), users, users_count,
                             first / panel, panels, out, out_stride);
  for (std::size_t j = 0; j < users_count && !removed_items_.empty(); ++j) {
    mask_removed(out + j * out_stride, first, count);
  }
}

AlsRecipe::AlsRecipe(AlsParams params, std::string name)
    : params_(std::move(params)), name_(std::move(name)) {
  params_.validate();
}

std::unique_ptr<Model> AlsRecipe::train(const TrainingData& data, const TrainContext& context) const {
  TAILOR_THROW_IF(data.nnz() == 0, ErrorCode::InvalidArgument,
                  name_, ": no interactions to train on");
  const auto start = std::chrono::steady_clock::now();
  std::mt19937_64 rng(context.execution.seed);
  FactorMatrix items(data.num_items, params_.factors);
  FactorMatrix users(data.num_users, params_.factors);
  init_rows(items, 0, params_.init_scale, rng);
  init_rows(users, 0, params_.init_scale, rng);
  const detail::AlsKernelArgs args = kernel_args(params_, context);
  for (int it = 1; it <= params_.iterations; ++it) {
    detail::als_solve_rows(users, items, user_rows(data), 0, args);
    detail::als_solve_rows(items, users, item_rows(data), 0, args);
    if (context.progress || params_.compute_loss) {
      TrainingProgress p;
      p.stage = "als";
      p.iteration = it;
      p.total = params_.iterations;
      if (params_.compute_loss) {
        p.loss = detail::als_loss(users, items, user_rows(data), params_.regularization,
                                  params_.alpha, args.threads);
      }
      p.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (context.progress) context.progress(p);
    }
  }
  return std::make_unique<AlsModel>(name_, params_, std::move(users), std::move(items));
}

std::unique_ptr<Model> AlsRecipe::update(const Model& previous, const TrainingData& data,
                                         const TrainContext& context) const {
  const auto* old = dynamic_cast<const AlsModel*>(&previous);
  TAILOR_THROW_IF(!old, ErrorCode::InvalidArgument, name_,
                  ": UPDATE needs a model trained by an ALS recipe, found ", previous.recipe());
  TAILOR_THROW_IF(old->params().factors != params_.factors, ErrorCode::InvalidArgument, name_,
                  ": UPDATE cannot change factors (", old->params().factors, " -> ",
                  params_.factors, ")");
  TAILOR_THROW_IF(data.num_users < old->num_users() || data.num_items < old->num_items(),
                  ErrorCode::InvalidArgument, name_, ": UPDATE data has fewer users or items than the model");
  const Index old_users = old->num_users(), old_items = old->num_items();
  std::mt19937_64 rng(context.execution.seed);
  FactorMatrix items(data.num_items, params_.factors);
  FactorMatrix users(data.num_users, params_.factors);
  items.topRows(old_items) = old->item_factors();
  users.topRows(old_users) = old->user_factors();
  init_rows(items, old_items, params_.init_scale, rng);
  init_rows(users, old_users, params_.init_scale, rng);
  // New items against the existing users, then new users against all items, then the new items
  // once more now that the new users have factors. Existing rows stay as trained.
  detail::AlsKernelArgs args = kernel_args(params_, context);
  args.cholesky = true;  // one exact solve per new row: there is no earlier solution to warm-start
  detail::als_solve_rows(items, users, item_rows(data), old_items, args);
  detail::als_solve_rows(users, items, user_rows(data), old_users, args);
  detail::als_solve_rows(items, users, item_rows(data), old_items, args);
  // Items deleted from the previous model stay deleted (their factors stay zero).
  return std::make_unique<AlsModel>(name_, params_, std::move(users), std::move(items),
                                    old->removed_items());
}

}  // namespace tailor
