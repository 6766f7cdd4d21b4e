// SPDX-License-Identifier: MIT
// user-personalization recipe: parameters, training loop, model scoring and fold-in.
#include "tailor/recipes/als.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <utility>

#include "detail/huge_pages.hpp"
#include "recipes/als/als_explain.hpp"
#include "recipes/als/als_kernels.hpp"
#include "recipes/als/bf16_scan.hpp"
#include "recipes/als/block_simd.hpp"
#include "recipes/als/int8_scan.hpp"
#include "recipes/als/ordered_catalog.hpp"
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
      {"solver",
       detail::enum_member<&AlsParams::solver>(),
       0,
       0,
       {"cg", "cholesky"},
       "least-squares solver"},
      {"init_scale", &AlsParams::init_scale, 0, 10, {}, "standard deviation of initial factors"},
      {"compute_loss", &AlsParams::compute_loss, 0, 0, {}, "report the loss every sweep"},
      {"item_metadata",
       &AlsParams::item_metadata,
       0,
       0,
       {},
       "map item metadata to factors (cold items)"},
      {"metadata_regularization",
       &AlsParams::metadata_regularization,
       1e-6,
       1e6,
       {},
       "ridge λ of the metadata mapping"},
      {"exploration_weight",
       &AlsParams::exploration_weight,
       0,
       1,
       {},
       "share of slots exploring new items"},
      {"exploration_item_age_cut_off",
       &AlsParams::exploration_item_age_cut_off,
       0,
       36500,
       {},
       "days within which an item counts as new"},
      {"recency_half_life",
       &AlsParams::recency_half_life,
       0,
       36500,
       {},
       "days per halving of an old item's share (0: off)"},
  };
  return fields;
}

detail::CsrView user_rows(const TrainingData& d) {
  return {d.user_offsets.data(), d.user_items.data(), d.user_values.data(), d.num_users};
}
detail::CsrView item_rows(const TrainingData& d) {
  return {d.item_offsets.data(), d.item_users.data(), d.item_values.data(), d.num_items};
}

}  // namespace

namespace detail {

void init_rows(FactorMatrix& M, Index first, float scale, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (Index r = first; r < M.rows(); ++r) {
    for (Eigen::Index c = 0; c < M.cols(); ++c) M(r, c) = scale * normal(rng);
  }
}

}  // namespace detail

// The attribute-to-feature mapping (Gantner et al., ICDM 2010): a ridge regression from item
// metadata features to the factors just fitted, learnt on the items with interactions. Items
// without interactions but with features get Wᵀf in place of their (zero) factors; known items
// keep their own (their factors were solved against no data, near zero). Null when the recipe is
// told not to, or there are no features.
std::shared_ptr<const AttributeMapping> AlsRecipe::map_metadata(const TrainingData& data,
                                                                FactorMatrix& items) const {
  const AlsParams& p = params_;
  if (!p.item_metadata || !data.item_features) return nullptr;
  const ItemFeatureTable& table = *data.item_features;
  const Index n = std::min<Index>(data.num_items, static_cast<Index>(table.rows.size()));
  std::vector<SparseFeatures> rows(table.rows.begin(), table.rows.begin() + n);
  std::vector<char> known(n, 0);
  std::size_t fitted = 0;
  for (Index i = 0; i < n; ++i) {
    known[i] = data.item_offsets[i] != data.item_offsets[i + 1] && !rows[i].empty();
    fitted += known[i];
  }
  if (fitted == 0) return nullptr;
  auto mapping = std::make_shared<const AttributeMapping>(AttributeMapping::fit(
      table.featurizer, rows, items.topRows(n), known, p.metadata_regularization));
  for (Index i = 0; i < n; ++i) {
    if (data.item_offsets[i] == data.item_offsets[i + 1] && !rows[i].empty())
      items.row(i) = mapping->project(rows[i]).transpose();
  }
  return mapping;
}

AlsParams AlsParams::from_json(std::string_view json) {
  return detail::params_from_json(json, als_fields(), "user-personalization");
}
std::string AlsParams::to_json() const { return detail::params_to_json(*this, als_fields()); }
void AlsParams::validate() const {
  detail::validate_params(*this, als_fields(), "user-personalization");
}
std::string AlsParams::describe() { return detail::describe_params(als_fields()); }

struct AlsModel::Impl {
  Impl(std::string recipe_name, AlsParams als_params, FactorMatrix user_factors,
       FactorMatrix item_factors, std::vector<Index> removed);
  // Sets the scores of removed items in [first, first + n) to -infinity.
  void mask_removed(float* scores, Index first, std::size_t n) const;

  std::string recipe;
  AlsParams params;
  FactorMatrix users;
  FactorMatrix items;
  Eigen::MatrixXf gram;  // YᵀY + λI, for fold-in
  // The item factors again, in panels of detail::kScorePanel items: factor k of the panel's
  // items is contiguous, so scoring the catalog is a sum of scaled vectors with no horizontal
  // sums (the layout serving reads on every request).
  // On huge pages: the scan reads all of it on every request (see detail::allocate_large).
  std::vector<float, detail::LargeAllocator<float>> panels;
  // The panels again in a compact copy, for the scorer's approximate_scores(): 8-bit
  // (detail::int8_panels) or bfloat16 (detail::bf16_panels), whichever scans faster on the
  // target in force when the model is made (detail::serving_scan); only that one is built. Each
  // item's error radius (detail::int8_error_radii, detail::bf16_error_radii) for the copy built.
  // Either scan runs on every target, so a model stays valid when the target changes.
  detail::Int8Panels int8_panels;
  detail::Bf16Panels bf16_panels;
  std::vector<float> radii;
  float max_radius = 0;
  std::vector<Index> removed_items;  // ascending, no repeats
  std::shared_ptr<const AttributeMapping> metadata;

  // Batch jobs' 8-bit copy of the item factors, its bytes biased by 128 (bias_int8_words), and
  // its radii (BlockScorer::approximate_block), made by the first batch job that ranks on it:
  // serving may scan another copy, and most models never see a batch job.
  struct Int8Copy {
    detail::Int8Panels panels;
    std::vector<float> radii;
    float max_radius = 0;
  };
  const Int8Copy& batch_int8() const {
    std::call_once(batch_int8_once, [&] {
      batch_int8_copy.panels = detail::int8_panels(items);
      batch_int8_copy.radii = detail::int8_error_radii(batch_int8_copy.panels, items);
      detail::bias_int8_words(batch_int8_copy.panels.words);
      for (float r : batch_int8_copy.radii)
        batch_int8_copy.max_radius = std::max(batch_int8_copy.max_radius, r);
    });
    return batch_int8_copy;
  }
  mutable std::once_flag batch_int8_once;
  mutable Int8Copy batch_int8_copy;

  // Batch jobs' catalog in decreasing order of norm (ordered_catalog()), made on first use.
  const detail::OrderedCatalog& ordered() const {
    std::call_once(ordered_once, [&] {
      ordered_copy = std::make_unique<detail::OrderedCatalog>(items, removed_items,
                                                              detail::kOrderedCatalogStep);
    });
    return *ordered_copy;
  }
  mutable std::once_flag ordered_once;
  mutable std::unique_ptr<detail::OrderedCatalog> ordered_copy;
};

AlsModel::Impl::Impl(std::string recipe_name, AlsParams als_params, FactorMatrix user_factors,
                     FactorMatrix item_factors, std::vector<Index> removed)
    : recipe(std::move(recipe_name)),
      params(std::move(als_params)),
      users(std::move(user_factors)),
      items(std::move(item_factors)),
      gram(detail::gram_matrix(items, params.regularization)),
      panels(detail::score_panels(items)),
      removed_items(std::move(removed)) {
  TAILOR_THROW_IF(users.cols() != items.cols(), ErrorCode::InvalidArgument,
                  "user and item factors differ in width: ", users.cols(), " vs ", items.cols());
  std::sort(removed_items.begin(), removed_items.end());
  removed_items.erase(std::unique(removed_items.begin(), removed_items.end()), removed_items.end());
  TAILOR_THROW_IF(!removed_items.empty() && removed_items.back() >= items.rows(),
                  ErrorCode::InvalidArgument, "removed item ", removed_items.back(),
                  " is outside the model's ", items.rows(), " items");
  if (detail::serving_scan(detail::cpu_target()) == detail::ServingScan::kInt8) {
    int8_panels = detail::int8_panels(items);
    radii = detail::int8_error_radii(int8_panels, items);
  } else {
    bf16_panels = detail::bf16_panels(items);
    radii = detail::bf16_error_radii(bf16_panels, items);
  }
  for (float r : radii) max_radius = std::max(max_radius, r);
}

AlsModel::AlsModel(std::string recipe, AlsParams params, FactorMatrix users, FactorMatrix items,
                   std::vector<Index> removed_items,
                   std::shared_ptr<const AttributeMapping> metadata)
    : impl_([&] {
        auto impl = std::make_unique<Impl>(std::move(recipe), std::move(params), std::move(users),
                                           std::move(items), std::move(removed_items));
        TAILOR_THROW_IF(metadata && metadata->weights.cols() != impl->items.cols(),
                        ErrorCode::InvalidArgument, "the metadata mapping has ",
                        metadata->weights.cols(), " columns for ", impl->items.cols(), " factors");
        impl->metadata = std::move(metadata);
        return std::unique_ptr<const Impl>(std::move(impl));
      }()) {}

AlsModel::~AlsModel() = default;

const std::string& AlsModel::recipe() const { return impl_->recipe; }
Index AlsModel::num_items() const { return static_cast<Index>(impl_->items.rows()); }
Index AlsModel::num_users() const { return static_cast<Index>(impl_->users.rows()); }
const AlsParams& AlsModel::params() const { return impl_->params; }
const FactorMatrix& AlsModel::user_factors() const { return impl_->users; }
const FactorMatrix& AlsModel::item_factors() const { return impl_->items; }
const std::vector<Index>& AlsModel::removed_items() const { return impl_->removed_items; }
const std::shared_ptr<const AttributeMapping>& AlsModel::metadata() const {
  return impl_->metadata;
}
std::size_t AlsModel::state_size() const { return static_cast<std::size_t>(impl_->items.cols()); }

ServingSettings AlsModel::serving_settings() const {
  ServingSettings s;
  s.recency_half_life = impl_->params.recency_half_life;
  s.exploration_weight = impl_->params.exploration_weight;
  s.exploration_item_age_cut_off = impl_->params.exploration_item_age_cut_off;
  return s;
}
std::size_t AlsModel::dimensions() const { return static_cast<std::size_t>(impl_->items.cols()); }
const float* AlsModel::item_vector(Index item) const { return impl_->items.row(item).data(); }
void AlsModel::user_vector(const UserQuery& query, float* out) const { user_state(query, out); }
const AttributeMapping* AlsModel::attribute_mapping() const { return impl_->metadata.get(); }

Eigen::VectorXf AlsModel::fold_in(Span<Index> history, Span<float> weights) const {
  // Sum repeated items, as training does, and skip items the model has not seen.
  std::vector<std::pair<Index, float>> entries;
  entries.reserve(history.size());
  for (std::size_t k = 0; k < history.size(); ++k) {
    if (history[k] < num_items())
      entries.emplace_back(history[k], weights.empty() ? 1.0f : weights[k]);
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
  if (items.empty()) return Eigen::VectorXf::Zero(impl_->items.cols());
  return detail::als_fold_in(impl_->items, impl_->gram, items.data(), values.data(), items.size(),
                             impl_->params.alpha);
}

Eigen::VectorXf AlsModel::user_vector(const UserQuery& query) const {
  if (query.user < num_users() && !query.refresh) return impl_->users.row(query.user).transpose();
  return fold_in(query.history, query.weights);
}

void AlsModel::explain(const UserQuery& query, Span<Index> items, std::size_t k,
                       std::vector<std::vector<ScoredItem>>& out) const {
  detail::als_explain(impl_->items, impl_->gram, impl_->params.alpha, query, items, k, out);
}

void AlsModel::Impl::mask_removed(float* scores, Index first, std::size_t n) const {
  auto it = std::lower_bound(removed_items.begin(), removed_items.end(), first);
  for (; it != removed_items.end() && *it - first < n; ++it) {
    scores[*it - first] = -std::numeric_limits<float>::infinity();
  }
}

std::shared_ptr<const Model> AlsModel::without(Span<Index> users, Span<Index> items) const {
  FactorMatrix user_factors = impl_->users;
  FactorMatrix item_factors = impl_->items;
  for (Index u : users) {
    if (u < num_users()) user_factors.row(u).setZero();
  }
  std::vector<Index> removed = impl_->removed_items;
  for (Index i : items) {
    if (i >= num_items()) continue;
    item_factors.row(i).setZero();
    removed.push_back(i);
  }
  // The constructor derives the Gram matrix, the panels, their compact copy and its radii from
  // the zeroed item factors, so no copy keeps the old rows.
  return std::make_shared<AlsModel>(impl_->recipe, impl_->params, std::move(user_factors),
                                    std::move(item_factors), std::move(removed), impl_->metadata);
}

void AlsModel::save(ModelArchive& archive) const {
  const FactorMatrix& users = impl_->users;
  const FactorMatrix& items = impl_->items;
  archive.put_text("params", impl_->params.to_json());
  archive.put_integers(
      "shape", {static_cast<std::uint64_t>(users.rows()), static_cast<std::uint64_t>(items.rows()),
                static_cast<std::uint64_t>(items.cols())});
  archive.put_floats("user_factors", std::vector<float>(users.data(), users.data() + users.size()));
  archive.put_floats("item_factors", std::vector<float>(items.data(), items.data() + items.size()));
  archive.put_indices("removed_items", impl_->removed_items);
  if (impl_->metadata) impl_->metadata->save(archive, "metadata.");
}

std::unique_ptr<AlsModel> AlsModel::load(std::string recipe, const ModelArchive& archive) {
  const std::vector<std::uint64_t>& shape = archive.integers("shape");
  TAILOR_THROW_IF(shape.size() != 3, ErrorCode::ParseError, "ALS model: a shape of ", shape.size(),
                  " numbers, expected 3");
  const std::uint64_t user_rows = shape[0], item_rows = shape[1], factors = shape[2];
  const std::vector<float>& users = archive.floats("user_factors");
  const std::vector<float>& items = archive.floats("item_factors");
  // Divided, not multiplied: a row count near 2^64 / factors would wrap around.
  TAILOR_THROW_IF(factors == 0 || factors > 1024 || users.size() % factors != 0 ||
                      users.size() / factors != user_rows || items.size() % factors != 0 ||
                      items.size() / factors != item_rows,
                  ErrorCode::ParseError, "ALS model: the factor matrices do not match their shape");
  const auto f = static_cast<Eigen::Index>(factors);
  FactorMatrix user_factors =
      Eigen::Map<const FactorMatrix>(users.data(), static_cast<Eigen::Index>(user_rows), f);
  FactorMatrix item_factors =
      Eigen::Map<const FactorMatrix>(items.data(), static_cast<Eigen::Index>(item_rows), f);
  std::vector<Index> removed;
  if (archive.has("removed_items")) removed = archive.indices("removed_items");
  std::shared_ptr<const AttributeMapping> metadata;
  if (archive.has("metadata.weights")) {
    metadata = std::make_shared<const AttributeMapping>(
        AttributeMapping::load(archive, "metadata.", static_cast<std::size_t>(factors)));
  }
  try {
    return std::make_unique<AlsModel>(
        std::move(recipe), AlsParams::from_json(archive.text("params")), std::move(user_factors),
        std::move(item_factors), std::move(removed), std::move(metadata));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::ParseError) throw;
    TAILOR_THROW(ErrorCode::ParseError, "ALS model: ", e.what());
  }
}

// One user's vector, and the model's scans with it.
class AlsModel::Scorer : public UserScorer {
 public:
  Scorer(const AlsModel& model, Eigen::VectorXf u) : model_(model), u_(std::move(u)) {}

  void score_all(std::vector<float>& scores) const override {
    scores.resize(static_cast<std::size_t>(model_.impl_->items.rows()));
    detail::score_panels(model_.impl_->panels.data(), u_.data(), width(), scores.size(),
                         scores.data());
    model_.impl_->mask_removed(scores.data(), 0, scores.size());
  }

  void score(Span<Index> items, std::vector<float>& scores) const override {
    for (Index i : items) {
      TAILOR_THROW_IF(i >= model_.num_items(), ErrorCode::NotFound, "item index ", i,
                      " is unknown to the model");
    }
    scores.resize(items.size());
    detail::score_rows(model_.impl_->items, items.data(), items.size(), u_.data(), scores.data());
    if (model_.impl_->removed_items.empty()) return;
    for (std::size_t k = 0; k < items.size(); ++k)
      model_.impl_->mask_removed(&scores[k], items[k], 1);
  }

  ScoreBound approximate_scores(std::vector<float>& scores) const override {
    scores.resize(static_cast<std::size_t>(model_.impl_->items.rows()));
    const Impl& m = *model_.impl_;
    const float scale = m.int8_panels.empty()
                            ? detail::score_bf16_panels(m.bf16_panels, u_.data(), width(),
                                                        scores.size(), scores.data())
                            : detail::score_int8_panels(m.int8_panels, u_.data(), width(),
                                                        scores.size(), scores.data());
    if (scale > 0) {
      m.mask_removed(scores.data(), 0, scores.size());
      return {scale, m.radii.data(), m.max_radius};
    }
    // Unsupported factors, or u = 0 or out of range: the float32 scan.
    score_all(scores);
    return {};
  }

 private:
  int width() const { return static_cast<int>(model_.impl_->items.cols()); }

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
  Eigen::Map<Eigen::VectorXf>(state, impl_->items.cols()) = user_vector(query);
}

Index AlsModel::chunk_alignment() const { return static_cast<Index>(detail::kScorePanel); }

namespace {
// The panels holding items [first, first + count) for the block call `what`, which must start on
// a panel and lie within the model's `num_items`, with rows of `out_stride` covering them whole.
std::size_t block_panels(const char* what, Index first, Index count, Index num_items,
                         std::size_t out_stride) {
  const Index panel = static_cast<Index>(detail::kScorePanel);
  TAILOR_THROW_IF(first % panel != 0 || first + count > num_items, ErrorCode::InvalidArgument, what,
                  ": items [", first, ", ", first + count, ") must start at a multiple of ", panel,
                  " and lie within the model's ", num_items, " items");
  const std::size_t panels =
      (static_cast<std::size_t>(count) + detail::kScorePanel - 1) / detail::kScorePanel;
  TAILOR_THROW_IF(out_stride < panels * detail::kScorePanel, ErrorCode::InvalidArgument, what,
                  ": a row stride of ", out_stride, " is shorter than ",
                  panels * detail::kScorePanel);
  return panels;
}
}  // namespace

void AlsModel::score_block(const float* users, std::size_t users_count, Index first, Index count,
                           float* out, std::size_t out_stride) const {
  const Index panel = static_cast<Index>(detail::kScorePanel);
  const std::size_t panels = block_panels("score_block", first, count, num_items(), out_stride);
  detail::score_panels_block(impl_->panels, static_cast<int>(impl_->items.cols()), users,
                             users_count, first / panel, panels, out, out_stride);
  for (std::size_t j = 0; j < users_count && !impl_->removed_items.empty(); ++j) {
    impl_->mask_removed(out + j * out_stride, first, count);
  }
}

void AlsModel::score_items(const float* user, Span<Index> items, float* out) const {
  for (Index i : items) {
    TAILOR_THROW_IF(i >= num_items(), ErrorCode::NotFound, "item index ", i,
                    " is unknown to the model");
  }
  // The catalogue scan's sums (score_rows), which score_block() gives bitwise.
  detail::score_rows(impl_->items, items.data(), items.size(), user, out);
  if (impl_->removed_items.empty()) return;
  for (std::size_t k = 0; k < items.size(); ++k) impl_->mask_removed(&out[k], items[k], 1);
}

std::size_t AlsModel::approximate_state_size() const {
  if (!detail::batch_int8(detail::cpu_target())) return 0;
  const std::size_t quads = (static_cast<std::size_t>(impl_->items.cols()) + 3) / 4;
  return detail::int8_user_words(quads);
}

ScoreBound AlsModel::approximate_state(const float* user, float* approximate) const {
  // The ordered catalog's radii by item where it exists (batch jobs then score no other copy).
  const detail::OrderedCatalog* catalog = ordered_catalog();
  const float* radii = nullptr;
  float max_radius = 0;
  if (catalog) {
    radii = catalog->item_radii().data();
    max_radius = catalog->max_item_radius();
  } else {
    const Impl::Int8Copy& copy = impl_->batch_int8();
    if (copy.panels.empty()) return {};
    radii = copy.radii.data();
    max_radius = copy.max_radius;
  }
  const int f = static_cast<int>(impl_->items.cols());
  const std::size_t quads = (static_cast<std::size_t>(f) + 3) / 4;
  std::vector<std::uint32_t> words(detail::int8_user_words(quads));
  const float scale =
      detail::int8_block_user(user, f, detail::block_simd().int8_user_largest, words.data());
  if (!(scale > 0)) return {};
  std::memcpy(approximate, words.data(), words.size() * sizeof(std::uint32_t));
  return {scale, radii, max_radius};
}

void AlsModel::approximate_block(const float* approximate_states, std::size_t users_count,
                                 Index first, Index count, float* out,
                                 std::size_t out_stride) const {
  const std::size_t panels =
      block_panels("approximate_block", first, count, num_items(), out_stride);
  const Impl::Int8Copy& copy = impl_->batch_int8();
  TAILOR_THROW_IF(copy.panels.empty(), ErrorCode::InvalidArgument,
                  "approximate_block: the model's factors have no 8-bit copy");
  const std::size_t quads = (static_cast<std::size_t>(impl_->items.cols()) + 3) / 4;
  const std::size_t first_panel = static_cast<std::size_t>(first) / detail::kScorePanel;
  // The states are opaque floats holding the quantised users' words (approximate_state()).
  thread_local std::vector<std::uint32_t> users;
  users.resize(users_count * detail::int8_user_words(quads));
  std::memcpy(users.data(), approximate_states, users.size() * sizeof(std::uint32_t));
  detail::score_int8_block(copy.panels, quads, users.data(), users_count, first_panel, panels, out,
                           out_stride);
  for (std::size_t j = 0; j < users_count && !impl_->removed_items.empty(); ++j) {
    impl_->mask_removed(out + j * out_stride, first, count);
  }
}

const detail::OrderedCatalog* AlsModel::ordered_catalog() const {
  if (approximate_state_size() == 0) return nullptr;
  const detail::OrderedCatalog& catalog = impl_->ordered();
  return catalog.empty() ? nullptr : &catalog;
}

AlsRecipe::AlsRecipe(AlsParams params, std::string name)
    : params_(std::move(params)), name_(std::move(name)) {
  params_.validate();
}

std::unique_ptr<Model> AlsRecipe::train(const TrainingData& data,
                                        const TrainContext& context) const {
  TAILOR_THROW_IF(data.nnz() == 0, ErrorCode::InvalidArgument, name_,
                  ": no interactions to train on");
  const auto start = std::chrono::steady_clock::now();
  std::mt19937_64 rng(context.execution.seed);
  FactorMatrix items(data.num_items, params_.factors);
  FactorMatrix users(data.num_users, params_.factors);
  detail::init_rows(items, 0, params_.init_scale, rng);
  detail::init_rows(users, 0, params_.init_scale, rng);
  const detail::AlsKernelArgs args =
      detail::AlsKernelArgs::of(params_, context.execution.num_threads);

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
      p.elapsed_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (context.progress) context.progress(p);
    }
  }
  std::shared_ptr<const AttributeMapping> metadata = map_metadata(data, items);
  return std::make_unique<AlsModel>(name_, params_, std::move(users), std::move(items),
                                    std::vector<Index>{}, std::move(metadata));
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
                  ErrorCode::InvalidArgument, name_,
                  ": UPDATE data has fewer users or items than the model");
  const Index old_users = old->num_users(), old_items = old->num_items();
  std::mt19937_64 rng(context.execution.seed);
  FactorMatrix items(data.num_items, params_.factors);
  FactorMatrix users(data.num_users, params_.factors);
  items.topRows(old_items) = old->item_factors();
  users.topRows(old_users) = old->user_factors();
  detail::init_rows(items, old_items, params_.init_scale, rng);
  detail::init_rows(users, old_users, params_.init_scale, rng);
  // New items against the existing users, then new users against all items, then the new items
  // once more now that the new users have factors. Existing rows stay as trained.
  detail::AlsKernelArgs args = detail::AlsKernelArgs::of(params_, context.execution.num_threads);
  args.cholesky = true;  // one exact solve per new row: there is no earlier solution to warm-start
  detail::als_solve_rows(items, users, item_rows(data), old_items, args);
  detail::als_solve_rows(users, items, user_rows(data), old_users, args);
  detail::als_solve_rows(items, users, item_rows(data), old_items, args);
  std::shared_ptr<const AttributeMapping> metadata = map_metadata(data, items);
  // Items deleted from the previous model stay deleted (their factors stay zero).
  return std::make_unique<AlsModel>(name_, params_, std::move(users), std::move(items),
                                    old->removed_items(), std::move(metadata));
}

}  // namespace tailor
