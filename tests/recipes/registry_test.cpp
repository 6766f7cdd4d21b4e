// SPDX-License-Identifier: MIT
// The recipe registry and ModelArchive: recipes added by a program train, save and load like the
// built-ins; bad registrations and bad archives are refused with clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <stdexcept>
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

// A recipe whose train() returns `make()`'s model.
class MadeRecipe : public Recipe {
 public:
  MadeRecipe(std::string name, std::function<std::unique_ptr<Model>(Index)> make)
      : name_(std::move(name)), make_(std::move(make)) {}
  const std::string& name() const override { return name_; }
  std::string params_json() const override { return "{}"; }
  std::unique_ptr<Model> train(const TrainingData& data, const TrainContext&) const override {
    return make_(data.num_items);
  }

 private:
  std::string name_;
  std::function<std::unique_ptr<Model>(Index)> make_;
};

void add_made(const std::string& name, std::function<std::unique_ptr<Model>(Index)> make,
              ModelLoader loader = {}) {
  RecipeRegistry::add(
      name, [name, make](std::string_view) { return std::make_unique<MadeRecipe>(name, make); },
      std::move(loader));
}

void expect_internal(const std::function<void()>& f, const char* words) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Internal) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(RecipeRegistry, ASolutionRefusesANullModelOrOneNamingAnotherRecipe) {
  add_made("makes-null", [](Index) { return nullptr; });
  add_made("makes-other", [](Index items) {
    return std::make_unique<ScaledIndexModel>("popularity-count", 1.0f, items);
  });
  const EventColumns events{{0, 1, 1, 2}, {2, 3, 1, 0}, {10, 20, 30, 40}, {1, 1, 1, 1}};
  for (bool metrics : {true, false}) {
    TrainOptions options;
    options.compute_metrics = metrics;
    options.evaluation.test_user_fraction = 0.5;
    Solution null_model({"n", "makes-null", "{}", {}});
    expect_internal([&] { null_model.train(events, 3, 4, options); }, "trained no model");
    Solution other({"o", "makes-other", "{}", {}});
    expect_internal([&] { other.train(events, 3, 4, options); }, "names recipe");
  }
}

TEST(RecipeRegistry, AModelGivingTheWrongNumberOfScoresIsAnInternalError) {
  ScaledIndexModel model("scaled", 1.0f, 5);
  class Short : public ScaledIndexModel {
   public:
    using ScaledIndexModel::ScaledIndexModel;
    void score_all(const UserQuery& q, std::vector<float>& scores) const override {
      ScaledIndexModel::score_all(q, scores);
      scores.pop_back();
    }
  } short_model("short", 1.0f, 5);
  std::vector<ScoredItem> top;
  model.recommend({}, 3, {}, top);
  EXPECT_EQ(top.size(), 3u);
  expect_internal([&] { short_model.recommend({}, 3, {}, top); }, "gave 4 scores for its 5");
  std::vector<float> scores;
  const std::vector<Index> items = {1};
  expect_internal([&] { short_model.score({}, items, scores); }, "gave 4 scores");
}

TEST(RecipeRegistry, LoaderFailuresAreParseErrorsAndModelsWithoutALoaderAreNotSaved) {
  add_made(
      "loader-throws",
      [](Index items) { return std::make_unique<ScaledIndexModel>("loader-throws", 1, items); },
      [](const ModelArchive&) -> std::unique_ptr<Model> { throw std::runtime_error("boom"); });
  add_made(
      "loader-throws-int",
      [](Index items) { return std::make_unique<ScaledIndexModel>("x", 1, items); },
      [](const ModelArchive&) -> std::unique_ptr<Model> { throw 42; });
  add_made("no-loader",
           [](Index items) { return std::make_unique<ScaledIndexModel>("no-loader", 1, items); });
  ModelArchive archive;
  for (const char* recipe : {"loader-throws", "loader-throws-int"}) {
    try {
      RecipeRegistry::load(recipe, archive);
      ADD_FAILURE() << recipe;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::ParseError) << e.what();
      EXPECT_NE(std::string(e.what()).find("the loader failed"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(RecipeRegistry::has_loader("AWS-USER-PERSONALIZATION"));
  EXPECT_TRUE(RecipeRegistry::has_loader("loader-throws"));
  EXPECT_FALSE(RecipeRegistry::has_loader("no-loader"));
  EXPECT_FALSE(RecipeRegistry::has_loader("never-registered"));
  Solution solution({"s", "no-loader", "{}", {}});
  TrainOptions options;
  options.compute_metrics = false;
  const SolutionVersion v = solution.train(EventColumns{{0}, {1}, {10}, {1}}, 1, 2, options);
  try {
    detail::serialize_version(v);
    ADD_FAILURE() << "a version that could never load was saved";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << e.what();
  }
}

}  // namespace
}  // namespace tailor
