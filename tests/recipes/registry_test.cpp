// SPDX-License-Identifier: MIT
// The recipe registry and ModelArchive: recipes added by a program train, save and load like the
// built-ins; bad registrations and bad archives are refused with clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "persistence/serialize.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/model_archive.hpp"
#include "tailor/recipes/recipe.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor {
namespace {

// A recipe outside the library: every item scores its index times a "scale" parameter.
class ScaledIndexModel : public Model {
 public:
  ScaledIndexModel(std::string recipe, float scale, Index items)
      : recipe_(std::move(recipe)), scale_(scale), items_(items) {}
  const std::string& recipe() const override { return recipe_; }
  Index num_items() const override { return items_; }
  Index num_users() const override { return 0; }
  bool personalized() const override { return false; }
  void score_all(const UserQuery&, std::vector<float>& scores) const override {
    scores.resize(items_);
    for (Index i = 0; i < items_; ++i) scores[i] = scale_ * static_cast<float>(i);
  }
  void save(ModelArchive& archive) const override {
    archive.put_floats("scale", {scale_});
    archive.put_integers("items", {items_});
  }
  float scale() const { return scale_; }

 private:
  std::string recipe_;
  float scale_;
  Index items_;
};

class ScaledIndexRecipe : public Recipe {
 public:
  ScaledIndexRecipe(std::string name, float scale) : name_(std::move(name)), scale_(scale) {}
  const std::string& name() const override { return name_; }
  std::string params_json() const override { return "{}"; }
  std::unique_ptr<Model> train(const TrainingData& data, const TrainContext&) const override {
    return std::make_unique<ScaledIndexModel>(name_, scale_, data.num_items);
  }

 private:
  std::string name_;
  float scale_;
};

// Registers `name` once per process (the registry refuses a second add of a name).
void add_scaled_index(const std::string& name) {
  RecipeRegistry::add(
      name,
      [name](std::string_view json) {
        return std::make_unique<ScaledIndexRecipe>(name, json == "{}" ? 1.0f : 2.0f);
      },
      [name](const ModelArchive& archive) {
        const std::vector<float>& scale = archive.floats("scale");
        const std::vector<std::uint64_t>& items = archive.integers("items");
        TAILOR_THROW_IF(scale.size() != 1 || items.size() != 1, ErrorCode::ParseError,
                        "scaled-index: bad sections");
        return std::make_unique<ScaledIndexModel>(name, scale[0], static_cast<Index>(items[0]));
      },
      "scale  float  (any JSON but {} doubles it)");
}

TEST(RecipeRegistry, TheBuiltInsAreListedFirstInOrder) {
  const std::vector<std::string> names = RecipeRegistry::names();
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 5),
            (std::vector<std::string>{"user-personalization", "personalized-ranking", "sims",
                                      "popularity-count", "trending-now"}));
  EXPECT_EQ(RecipeRegistry::create("aws-user-personalization")->name(), "user-personalization");
  EXPECT_EQ(RecipeRegistry::create("AWS-SIMS")->name(), "sims");
  EXPECT_EQ(RecipeRegistry::create("item-knn")->name(), "sims");
  EXPECT_EQ(RecipeRegistry::baseline()->name(), "popularity-count");
  EXPECT_NE(RecipeRegistry::describe("aws-user-personalization").find("factors"),
            std::string::npos);
}

TEST(RecipeRegistry, AnAddedRecipeTrainsSavesAndLoadsLikeABuiltIn) {
  add_scaled_index("scaled-index");
  const std::vector<std::string> names = RecipeRegistry::names();
  EXPECT_NE(std::find(names.begin(), names.end(), "scaled-index"), names.end());
  EXPECT_EQ(RecipeRegistry::describe("Scaled-Index"), "scale  float  (any JSON but {} doubles it)");

  // Through a solution, as any program would use it, then through a version file's bytes.
  Solution solution({"doubled", "scaled-index", R"({"double":true})", {}});
  TrainOptions options;
  options.compute_metrics = false;
  const SolutionVersion trained =
      solution.train(EventColumns{{0, 1}, {2, 3}, {10, 20}, {1, 1}}, 2, 4, options);
  const SolutionVersion loaded =
      detail::deserialize_version(detail::serialize_version(trained), "a version");
  const auto* model = dynamic_cast<const ScaledIndexModel*>(loaded.model().get());
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->recipe(), "scaled-index");
  EXPECT_EQ(model->scale(), 2.0f);
  EXPECT_EQ(model->num_items(), 4u);
  EXPECT_EQ(loaded.config().params_json, R"({"double":true})");
}

TEST(RecipeRegistry, BadRegistrationsAreRefused) {
  auto factory = [](std::string_view) { return RecipeRegistry::create("popularity-count"); };
  auto refused = [&](const std::string& name, RecipeFactory f, const char* why) {
    try {
      RecipeRegistry::add(name, std::move(f), {});
      ADD_FAILURE() << "accepted " << name;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << name;
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  refused("sims", factory, "already registered");
  refused("item-knn", factory, "already registered");  // the alias of sims
  refused("", factory, "lower-case");
  refused("Upper", factory, "lower-case");
  refused("aws-mine", factory, "aws-");
  refused("-lead", factory, "lower-case");
  refused("with space", factory, "lower-case");
  refused(std::string(64, 'a'), factory, "1-63");
  refused("no-factory", RecipeFactory{}, "factory is empty");
  // A refused name stays unregistered.
  EXPECT_THROW(RecipeRegistry::create("no-factory"), Error);
}

TEST(RecipeRegistry, UnknownNamesAndMissingLoadersAreNotFound) {
  try {
    RecipeRegistry::create("no-such-recipe");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("user-personalization"), std::string::npos)
        << "the error lists the known recipes: " << e.what();
  }
  EXPECT_THROW(RecipeRegistry::describe("no-such-recipe"), Error);
  ModelArchive archive;
  try {
    RecipeRegistry::load("no-such-recipe", archive);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
  }
  RecipeRegistry::add(
      "memory-only",
      [](std::string_view) { return std::make_unique<ScaledIndexRecipe>("memory-only", 1); }, {});
  try {
    RecipeRegistry::load("memory-only", archive);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("no model loader"), std::string::npos) << e.what();
  }
}

TEST(RecipeRegistry, ABuiltInLoaderRefusesAnArchiveThatDoesNotFit) {
  ModelArchive archive;
  EXPECT_THROW(RecipeRegistry::load("user-personalization", archive), Error);  // no sections
  archive.put_text("params", "{}");
  archive.put_integers("shape", {2, 1, 2});
  archive.put_floats("user_factors", {1, 2, 3});  // 3 floats, not 2 × 2
  archive.put_floats("item_factors", {1, 2});
  try {
    RecipeRegistry::load("user-personalization", archive);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::ParseError) << e.what();
  }
  archive.put_floats("user_factors", {1, 2, 3, 4});
  EXPECT_EQ(RecipeRegistry::load("user-personalization", archive)->num_users(), 2u);
  archive.put_indices("removed_items", {7});  // outside the model's one item
  EXPECT_THROW(RecipeRegistry::load("user-personalization", archive), Error);

  ModelArchive scores;
  scores.put_floats("scores", {1, std::numeric_limits<float>::quiet_NaN()});
  EXPECT_THROW(RecipeRegistry::load("popularity-count", scores), Error);
}

TEST(RecipeRegistry, ConcurrentAddsAndLookupsAreSafe) {
  std::atomic<int> added{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &added] {
      for (int k = 0; k < 25; ++k) {
        const std::string name = "concurrent-" + std::to_string(t) + "-" + std::to_string(k);
        RecipeRegistry::add(
            name, [name](std::string_view) { return std::make_unique<ScaledIndexRecipe>(name, 1); },
            {});
        EXPECT_EQ(RecipeRegistry::create(name)->name(), name);
        EXPECT_EQ(RecipeRegistry::create("sims")->name(), "sims");
        ++added;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(added.load(), 100);
  const std::vector<std::string> names = RecipeRegistry::names();
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return n.rfind("concurrent-", 0) == 0; }),
            100);
}

TEST(ModelArchive, SectionsAreFoundByNameAndKind) {
  ModelArchive a;
  a.put_text("params", R"({"k":1})");
  a.put_floats("weights", {0.5f, 1.5f});
  a.put_indices("items", {3, 1});
  a.put_integers("shape", {2, 2});
  EXPECT_EQ(a.names(), (std::vector<std::string>{"items", "params", "shape", "weights"}));
  EXPECT_EQ(a.kind("weights"), ModelArchive::Kind::Floats);
  EXPECT_EQ(a.text("params"), R"({"k":1})");
  EXPECT_EQ(a.floats("weights"), (std::vector<float>{0.5f, 1.5f}));
  EXPECT_EQ(a.indices("items"), (std::vector<Index>{3, 1}));
  EXPECT_EQ(a.integers("shape"), (std::vector<std::uint64_t>{2, 2}));
  EXPECT_TRUE(a.has("shape"));
  EXPECT_FALSE(a.has("missing"));

  // Putting a name again replaces the section, whatever its kind was.
  a.put_text("weights", "now text");
  EXPECT_EQ(a.kind("weights"), ModelArchive::Kind::Text);
  EXPECT_EQ(a.names().size(), 4u);

  auto parse_error = [](const auto& read, const char* words) {
    try {
      read();
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::ParseError);
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  parse_error([&] { a.floats("missing"); }, "\"missing\" is missing");
  parse_error([&] { a.floats("weights"); }, "is a text, not a float array");
  parse_error([&] { a.text("items"); }, "is an index array, not a text");
}

}  // namespace
}  // namespace tailor
