// SPDX-License-Identifier: MIT
// The recipe registry.
#include "tailor/recipes/recipe.hpp"

#include <gtest/gtest.h>

#include "tailor/error.hpp"

namespace tailor {
namespace {

TEST(RecipesRegistry, CreatesEveryRecipeByNameAndAlias) {
  for (const std::string& name : RecipeRegistry::names()) {
    auto recipe = RecipeRegistry::create(name);
    EXPECT_EQ(recipe->name(), name);
    EXPECT_FALSE(recipe->params_json().empty());
    EXPECT_FALSE(RecipeRegistry::describe(name).empty());
  }
  EXPECT_EQ(RecipeRegistry::create("aws-sims")->name(), "sims");
  EXPECT_EQ(RecipeRegistry::create("AWS-User-Personalization")->name(), "user-personalization");
  EXPECT_TRUE(RecipeRegistry::create("user-personalization")->supports_update());
  EXPECT_FALSE(RecipeRegistry::create("sims")->supports_update());
}

TEST(RecipesRegistry, UnknownRecipeAndBadParamsAreClearErrors) {
  try {
    RecipeRegistry::create("deep-magic");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("user-personalization"), std::string::npos);
  }
  EXPECT_THROW(RecipeRegistry::create("sims", "{\"neighbors\": -1}"), Error);
  EXPECT_THROW(RecipeRegistry::create("sims", "not json"), Error);
  auto sims = RecipeRegistry::create("sims");
  TrainingData d = TrainingData::build(1, 1, {0}, {0}, {0}, {1});
  auto model = sims->train(d, {});
  EXPECT_THROW(sims->update(*model, d, {}), Error);
}

}  // namespace
}  // namespace tailor
