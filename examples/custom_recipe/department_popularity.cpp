// SPDX-License-Identifier: MIT
// department-popularity: training, scoring, saving and loading through tailor's plug-in
// interface (Model, Recipe, ModelArchive, RecipeRegistry::add).
#include "department_popularity.hpp"

#include <algorithm>
#include <regex>
#include <utility>

namespace department_popularity {

using tailor::ErrorCode;
using tailor::Index;

Model::Model(std::vector<Index> user_department, Index departments,
             std::vector<float> department_counts, std::vector<float> overall_counts)
    : user_department_(std::move(user_department)),
      departments_(departments),
      department_counts_(std::move(department_counts)),
      overall_counts_(std::move(overall_counts)) {}

Index Model::num_items() const { return static_cast<Index>(overall_counts_.size()); }
Index Model::num_users() const { return static_cast<Index>(user_department_.size()); }

Index Model::department_of(Index user) const {
  return user < user_department_.size() ? user_department_[user] : tailor::kNoIndex;
}

void Model::score_all(const tailor::UserQuery& query, std::vector<float>& scores) const {
  const std::size_t items = overall_counts_.size();
  // The overall count breaks ties within the department without ever outweighing one reader.
  float largest = 1;
  for (float c : overall_counts_) largest = std::max(largest, c);
  scores.resize(items);
  for (std::size_t i = 0; i < items; ++i) scores[i] = 0.5f * overall_counts_[i] / largest;
  const Index department = department_of(query.user);
  if (department == tailor::kNoIndex) return;
  const float* row = department_counts_.data() + department * items;
  for (std::size_t i = 0; i < items; ++i) scores[i] += row[i];
}

void Model::save(tailor::ModelArchive& archive) const {
  archive.put_indices("user_department", user_department_);
  archive.put_integers("shape", {departments_, overall_counts_.size()});
  archive.put_floats("department_counts", department_counts_);
  archive.put_floats("overall_counts", overall_counts_);
}

std::unique_ptr<Model> Model::load(const tailor::ModelArchive& archive) {
  const std::vector<std::uint64_t>& shape = archive.integers("shape");
  const std::vector<Index>& user_department = archive.indices("user_department");
  const std::vector<float>& department_counts = archive.floats("department_counts");
  const std::vector<float>& overall_counts = archive.floats("overall_counts");
  // Divided, not multiplied, so that a hostile shape cannot overflow.
  const bool fits = shape.size() == 2 && shape[1] == overall_counts.size() &&
                    (shape[1] == 0 ? department_counts.empty()
                                   : department_counts.size() % shape[1] == 0 &&
                                         department_counts.size() / shape[1] == shape[0]);
  if (!fits)
    throw tailor::Error(ErrorCode::ParseError, kName + ": the counts do not fit the shape");
  for (Index d : user_department) {
    if (d != tailor::kNoIndex && d >= shape[0]) {
      throw tailor::Error(ErrorCode::ParseError, kName + ": a user's department is out of range");
    }
  }
  return std::make_unique<Model>(user_department, static_cast<Index>(shape[0]), department_counts,
                                 overall_counts);
}

Recipe::Recipe(std::shared_ptr<tailor::LiveDatasetGroup> group, std::string field)
    : group_(std::move(group)), field_(std::move(field)) {}

std::string Recipe::params_json() const { return "{\"field\":\"" + field_ + "\"}"; }

std::unique_ptr<tailor::Model> Recipe::train(const tailor::TrainingData& data,
                                             const tailor::TrainContext&) const {
  // Each user's department: the first code of their categorical field, read under the group's
  // read lock (codes are stable: a field's dictionary only grows).
  std::vector<Index> user_department(data.num_users, tailor::kNoIndex);
  const Index departments = group_->read([&](const tailor::DatasetGroup& group) {
    const tailor::EntityTable* users = group.users();
    const tailor::Column* column = users ? users->column(field_) : nullptr;
    if (!column || !column->field().categorical) {
      throw tailor::Error(ErrorCode::InvalidArgument,
                          kName + ": the users dataset has no categorical field " + field_);
    }
    for (Index u = 0; u < data.num_users; ++u) {
      const std::uint32_t row = users->row_of(u);
      if (row == tailor::EntityTable::kNoRow || column->is_null(row)) continue;
      const tailor::Span<Index> codes = column->codes_at(row);
      if (!codes.empty()) user_department[u] = codes[0];
    }
    return static_cast<Index>(column->dictionary().size());
  });
  // Distinct users per (department, item) and per item, as popularity-count counts them.
  std::vector<float> department_counts(static_cast<std::size_t>(departments) * data.num_items, 0);
  std::vector<float> overall_counts(data.num_items, 0);
  for (Index u = 0; u < data.num_users; ++u) {
    for (std::size_t k = data.user_offsets[u]; k < data.user_offsets[u + 1]; ++k) {
      const Index item = data.user_items[k];
      overall_counts[item] += 1;
      if (user_department[u] != tailor::kNoIndex) {
        department_counts[static_cast<std::size_t>(user_department[u]) * data.num_items + item] +=
            1;
      }
    }
  }
  return std::make_unique<Model>(std::move(user_department), departments,
                                 std::move(department_counts), std::move(overall_counts));
}

void register_recipe(std::shared_ptr<tailor::LiveDatasetGroup> group) {
  tailor::RecipeRegistry::add(
      kName,
      [group](std::string_view json) {
        static const std::regex params(
            R"re(^\s*\{\s*(?:"field"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*)?\}\s*$)re");
        std::cmatch match;
        if (!std::regex_match(json.data(), json.data() + json.size(), match, params)) {
          throw tailor::Error(
              ErrorCode::InvalidArgument,
              kName + ": parameters are {} or {\"field\": \"NAME\"}, got " + std::string(json));
        }
        return std::make_unique<Recipe>(group, match[1].matched ? match[1].str() : "DEPARTMENT");
      },
      [](const tailor::ModelArchive& archive) { return Model::load(archive); },
      "field  string  DEPARTMENT  the categorical users field whose popularity is served");
}

}  // namespace department_popularity
