// SPDX-License-Identifier: MIT
// department-popularity: a recipe written entirely outside the library, through its public
// plug-in interface. It recommends the items most read by the user's own department (a
// categorical users field, DEPARTMENT in the sample data), overall popularity breaking ties and
// serving users without a department.
#pragma once

#include <memory>
#include <string>
#include <tailor/tailor.hpp>
#include <vector>

namespace department_popularity {

/// The recipe's registry name.
inline const std::string kName = "department-popularity";

/// What training learnt: each user's department (its code in the field's dictionary), and per
/// department the number of its users who interacted with each item.
class Model : public tailor::Model {
 public:
  Model(std::vector<tailor::Index> user_department, tailor::Index departments,
        std::vector<float> department_counts, std::vector<float> overall_counts);

  const std::string& recipe() const override { return kName; }
  tailor::Index num_items() const override;
  tailor::Index num_users() const override;
  bool personalized() const override { return true; }
  /// The department's count of each item, plus its overall count scaled below one reader.
  void score_all(const tailor::UserQuery& query, std::vector<float>& scores) const override;
  /// Sections: "user_department", "shape" (departments, items), "department_counts",
  /// "overall_counts".
  void save(tailor::ModelArchive& archive) const override;
  /// @throws tailor::Error(ParseError) when the sections do not fit together
  static std::unique_ptr<Model> load(const tailor::ModelArchive& archive);

  /// The department of a user the model knows, or kNoIndex.
  tailor::Index department_of(tailor::Index user) const;

 private:
  std::vector<tailor::Index> user_department_;  // per user; kNoIndex: none
  tailor::Index departments_;
  std::vector<float> department_counts_;  // departments × items, row-major
  std::vector<float> overall_counts_;     // per item
};

/// Trains Model from the group's interactions and the users' `field` (categorical).
class Recipe : public tailor::Recipe {
 public:
  /// `group`: where the users' departments are read at training time. train() reads it under
  /// its read lock, so it must not be called from inside a read() of the same group.
  Recipe(std::shared_ptr<tailor::LiveDatasetGroup> group, std::string field);

  const std::string& name() const override { return kName; }
  std::string params_json() const override;
  std::unique_ptr<tailor::Model> train(const tailor::TrainingData& data,
                                       const tailor::TrainContext& context) const override;

 private:
  std::shared_ptr<tailor::LiveDatasetGroup> group_;
  std::string field_;
};

/// Registers the recipe: its factory reads {"field": "DEPARTMENT"} (the default) and trains
/// against `group`; its loader needs nothing but the saved archive.
/// @throws tailor::Error(InvalidArgument) when it is already registered
void register_recipe(std::shared_ptr<tailor::LiveDatasetGroup> group);

}  // namespace department_popularity
