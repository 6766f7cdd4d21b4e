// SPDX-License-Identifier: MIT
// A recipe outside the library that implements Model::item_vectors() and
// Model::serving_settings(): the plug-in path of fresh content (serving, cold-item evaluation).
#pragma once

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/error.hpp"
#include "tailor/recipes/item_features.hpp"
#include "tailor/recipes/recipe.hpp"
#include "tailor/recipes/training_data.hpp"

namespace tailor::test {

// The sum of the two-dimensional vectors of `items` (those < vectors.size() / 2) into out[0..1].
inline void sum_vectors(Span<Index> items, const std::vector<float>& vectors, float* out) {
  out[0] = out[1] = 0;
  for (Index i : items) {
    if (2 * static_cast<std::size_t>(i) >= vectors.size()) continue;
    out[0] += vectors[2 * i];
    out[1] += vectors[2 * i + 1];
  }
}

// Two dimensions, one per community: an item's vector is its metadata's weight on
// "COMMUNITY=Engineering Hub" and on "COMMUNITY=Sales Hub" (a hand-made attribute mapping over
// the solution's featurizer), a user's the sum of their history's vectors (the training
// history's for a trained user, unless the query asks for a refresh).
class CommunityModel : public Model, private ItemVectorSpace {
 public:
  CommunityModel(std::string recipe, ServingSettings settings, bool softmax,
                 std::shared_ptr<const AttributeMapping> map, std::vector<float> vectors,
                 std::vector<float> users)
      : recipe_(std::move(recipe)),
        settings_(settings),
        softmax_(softmax),
        mapping_(std::move(map)),
        vectors_(std::move(vectors)),
        users_(std::move(users)) {}

  const std::string& recipe() const override { return recipe_; }
  Index num_items() const override { return static_cast<Index>(vectors_.size() / 2); }
  Index num_users() const override { return static_cast<Index>(users_.size() / 2); }
  bool personalized() const override { return true; }
  ScoreKind score_kind() const override { return softmax_ ? ScoreKind::Softmax : ScoreKind::None; }
  ServingSettings serving_settings() const override { return settings_; }
  const ItemVectorSpace* item_vectors() const override { return this; }
  void score_all(const UserQuery& query, std::vector<float>& scores) const override {
    float u[2];
    user_vector(query, u);
    scores.resize(num_items());
    for (Index i = 0; i < num_items(); ++i)
      scores[i] = u[0] * vectors_[2 * i] + u[1] * vectors_[2 * i + 1];
  }

 private:
  std::size_t dimensions() const override { return 2; }
  const float* item_vector(Index item) const override { return vectors_.data() + 2 * item; }
  void user_vector(const UserQuery& query, float* out) const override {
    if (query.user < num_users() && !query.refresh) {
      out[0] = users_[2 * query.user];
      out[1] = users_[2 * query.user + 1];
      return;
    }
    sum_vectors(query.history, vectors_, out);
  }
  const AttributeMapping* attribute_mapping() const override { return mapping_.get(); }

  std::string recipe_;
  ServingSettings settings_;
  bool softmax_;
  std::shared_ptr<const AttributeMapping> mapping_;  // null when trained without item features
  std::vector<float> vectors_;                       // num_items × 2, row-major
  std::vector<float> users_;                         // num_users × 2, row-major
};

class CommunityRecipe : public Recipe {
 public:
  // `params`: "{}", or an object whose optional "recency_half_life" (days) sets recency and
  // whose "softmax": false makes the model's responses carry no score.
  CommunityRecipe(std::string name, std::string params)
      : name_(std::move(name)), params_(std::move(params)) {
    settings_.exploration_weight = 0.5f;
    settings_.exploration_item_age_cut_off = 30;
    if (const auto at = params_.find("\"recency_half_life\":"); at != std::string::npos)
      settings_.recency_half_life = std::strtof(params_.c_str() + at + 20, nullptr);
    softmax_ = params_.find("\"softmax\":false") == std::string::npos;
  }
  const std::string& name() const override { return name_; }
  std::string params_json() const override { return params_; }
  std::unique_ptr<Model> train(const TrainingData& data, const TrainContext&) const override {
    std::vector<float> vectors(2 * static_cast<std::size_t>(data.num_items), 0.0f);
    std::vector<float> users(2 * static_cast<std::size_t>(data.num_users), 0.0f);
    if (!data.item_features) {  // no metadata: every vector zero, no mapping
      return std::make_unique<CommunityModel>(name_, settings_, softmax_, nullptr,
                                              std::move(vectors), std::move(users));
    }
    const ItemFeatureTable& table = *data.item_features;
    auto mapping = std::make_shared<AttributeMapping>();
    mapping->featurizer = table.featurizer;
    mapping->weights.setZero(static_cast<Eigen::Index>(table.featurizer.size()), 2);
    const Index eng = table.featurizer.find("COMMUNITY=Engineering Hub");
    const Index sales = table.featurizer.find("COMMUNITY=Sales Hub");
    TAILOR_THROW_IF(eng == kNoIndex || sales == kNoIndex, ErrorCode::InvalidArgument,
                    "no community features");
    mapping->weights(eng, 0) = 1;
    mapping->weights(sales, 1) = 1;
    for (Index i = 0; i < data.num_items && i < table.rows.size(); ++i) {
      if (table.rows[i].empty()) continue;
      const Eigen::VectorXf v = mapping->project(table.rows[i]);
      vectors[2 * i] = v[0];
      vectors[2 * i + 1] = v[1];
    }
    for (Index u = 0; u < data.num_users; ++u) {
      const Span<Index> history(data.user_items.data() + data.user_offsets[u],
                                data.user_offsets[u + 1] - data.user_offsets[u]);
      sum_vectors(history, vectors, users.data() + 2 * u);
    }
    return std::make_unique<CommunityModel>(name_, settings_, softmax_, std::move(mapping),
                                            std::move(vectors), std::move(users));
  }

 private:
  std::string name_, params_;
  ServingSettings settings_;
  bool softmax_ = true;
};

/// Registers the recipe as "community-vectors" (once per process; served and evaluated, never
/// saved: no loader).
inline void add_community_recipe() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    RecipeRegistry::add("community-vectors",
                        [](std::string_view json) {
                          return std::make_unique<CommunityRecipe>("community-vectors",
                                                                   std::string(json));
                        },
                        {});
  });
}

}  // namespace tailor::test
