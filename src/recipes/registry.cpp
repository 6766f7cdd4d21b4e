// SPDX-License-Identifier: MIT
// The recipe registry: name → factory, loader and description, with the built-in recipes
// registered through the same add() as a program's own.
#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "detail/text.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"
#include "tailor/recipes/recipe.hpp"

namespace tailor {

namespace {

constexpr std::size_t kMaxNameLength = 63;

// Lookups accept Personalize's names: any case, an "aws-" prefix, and "item-knn" for sims.
std::string canonical(std::string_view name) {
  std::string s = detail::to_lower(name);
  if (s.rfind("aws-", 0) == 0) s = s.substr(4);
  if (s == "item-knn") s = "sims";
  return s;
}

class Registry {
 public:
  struct Entry {
    std::string name;
    RecipeFactory factory;
    ModelLoader loader;
    std::string describe;
  };

  static Registry& instance() {
    static Registry registry;  // built on first use: no static-initialisation order to fear
    return registry;
  }

  void add(Entry entry) {
    const std::string& name = entry.name;
    const bool well_formed = !name.empty() && name.size() <= kMaxNameLength &&
                             name.front() != '-' && name.rfind("aws-", 0) != 0 &&
                             std::all_of(name.begin(), name.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                             });
    TAILOR_THROW_IF(!well_formed, ErrorCode::InvalidArgument, "recipe name \"", name,
                    "\" must be 1-", kMaxNameLength,
                    " lower-case letters, digits or '-', not starting with '-' or \"aws-\"");
    TAILOR_THROW_IF(!entry.factory, ErrorCode::InvalidArgument, "recipe ", name,
                    ": the factory is empty");
    std::unique_lock<std::shared_mutex> lock(mutex_);
    TAILOR_THROW_IF(find(name) != nullptr || canonical(name) != name, ErrorCode::InvalidArgument,
                    "recipe ", name, " is already registered");
    entries_.push_back(std::move(entry));
  }

  // A copy: the caller runs the factory or loader without the lock (they may take long, or
  // register recipes themselves).
  Entry get(std::string_view name) const {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    const Entry* entry = find(canonical(name));
    if (entry) return *entry;
    std::string known;
    for (const Entry& e : entries_) known += (known.empty() ? "" : ", ") + e.name;
    TAILOR_THROW(ErrorCode::NotFound, "unknown recipe \"", name, "\" (expected one of ", known,
                 ")");
  }

  std::vector<std::string> names() const {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }

 private:
  Registry();

  const Entry* find(const std::string& name) const {
    for (const Entry& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  mutable std::shared_mutex mutex_;
  std::vector<Entry> entries_;  // in registration order (names() lists them so)
};

// The built-ins: each recipe's factory, its model's loader and its parameters' description.
Registry::Registry() {
  for (const char* name : {"user-personalization", "personalized-ranking"}) {
    const std::string recipe = name;
    add({recipe,
         [recipe](std::string_view json) {
           return std::make_unique<AlsRecipe>(AlsParams::from_json(json), recipe);
         },
         [recipe](const ModelArchive& archive) { return AlsModel::load(recipe, archive); },
         AlsParams::describe()});
  }
  add({"sims",
       [](std::string_view json) {
         return std::make_unique<ItemKnnRecipe>(ItemKnnParams::from_json(json));
       },
       [](const ModelArchive& archive) { return ItemKnnModel::load("sims", archive); },
       ItemKnnParams::describe()});
  add({"popularity-count",
       [](std::string_view json) {
         return std::make_unique<PopularityRecipe>(PopularityParams::from_json(json));
       },
       [](const ModelArchive& archive) {
         return ItemScoreModel::load("popularity-count", archive);
       },
       PopularityParams::describe()});
  add({"trending-now",
       [](std::string_view json) {
         return std::make_unique<TrendingRecipe>(TrendingParams::from_json(json));
       },
       [](const ModelArchive& archive) { return ItemScoreModel::load("trending-now", archive); },
       TrendingParams::describe()});
}

}  // namespace

void RecipeRegistry::add(const std::string& name, RecipeFactory factory, ModelLoader loader,
                         std::string describe) {
  Registry::instance().add({name, std::move(factory), std::move(loader), std::move(describe)});
}

std::unique_ptr<Recipe> RecipeRegistry::create(std::string_view name,
                                               std::string_view params_json) {
  const Registry::Entry entry = Registry::instance().get(name);
  std::unique_ptr<Recipe> recipe = entry.factory(params_json);
  TAILOR_THROW_IF(!recipe, ErrorCode::Internal, "recipe ", entry.name,
                  ": the factory made no recipe");
  return recipe;
}

std::unique_ptr<Model> RecipeRegistry::load(std::string_view recipe, const ModelArchive& archive) {
  const Registry::Entry entry = Registry::instance().get(recipe);
  TAILOR_THROW_IF(!entry.loader, ErrorCode::NotFound, "recipe ", entry.name,
                  " has no model loader: its models cannot be loaded");
  std::unique_ptr<Model> model;
  try {
    model = entry.loader(archive);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    TAILOR_THROW(ErrorCode::ParseError, "recipe ", entry.name, ": the loader failed: ", e.what());
  } catch (...) {
    TAILOR_THROW(ErrorCode::ParseError, "recipe ", entry.name, ": the loader failed");
  }
  TAILOR_THROW_IF(!model, ErrorCode::ParseError, "recipe ", entry.name,
                  ": the loader made no model");
  return model;
}

bool RecipeRegistry::has_loader(std::string_view recipe) {
  try {
    return static_cast<bool>(Registry::instance().get(recipe).loader);
  } catch (const Error&) {
    return false;  // not registered
  }
}

std::vector<std::string> RecipeRegistry::names() { return Registry::instance().names(); }

std::string RecipeRegistry::describe(std::string_view name) {
  return Registry::instance().get(name).describe;
}

std::unique_ptr<Recipe> RecipeRegistry::baseline() { return create("popularity-count"); }

}  // namespace tailor
