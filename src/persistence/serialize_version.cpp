// SPDX-License-Identifier: MIT
// Solution versions (configuration, metrics and the trained model) and a solution's version
// index.
#include <cstring>
#include <optional>

#include "io/json.hpp"
#include "persistence/serialize.hpp"
#include "persistence/serialize_archive.hpp"
#include "tailor/recipes/model_archive.hpp"
#include "tailor/recipes/recipe.hpp"

namespace tailor::detail {

namespace {

struct MetricsImage {
  std::uint8_t present = 0;
  std::vector<double> values;  // RankingMetrics fields in declaration order
  std::uint64_t users = 0;
};

// One section of a ModelArchive: its name, kind, and its text or its array's bytes.
struct SectionImage {
  std::string name;
  std::uint8_t kind = 0;  // ModelArchive::Kind
  std::string bytes;
};

struct VersionImage {
  std::string name, recipe, params_json, events_json;
  std::uint8_t mode = 0;
  MetricsImage metrics, baseline;
  double seconds = 0;
  std::string model_recipe;            // the recipe whose loader reads the sections
  std::vector<SectionImage> sections;  // class version 3; before, the fixed fields below
  std::uint32_t ranks = 1;             // class version 4
  std::string hpo_json;                // class version 5: the search (HpoResult), empty for none

  // Class versions 1 and 2 stored the built-in models' arrays in fixed fields; reading one
  // turns them into sections of the same names (legacy_sections()).
  std::uint8_t model_kind = 0;
  std::string model_params;
  std::uint64_t user_rows = 0, item_rows = 0, factors = 0;
  std::vector<float> user_factors, item_factors;
  std::vector<std::uint64_t> offsets;
  std::vector<Index> neighbors;
  std::vector<float> similarities, scores;
  std::vector<Index> removed_items;  // class version 2
};

// One entry of a solution's version index.
struct VersionInfoImage {
  std::string id, recipe;
  std::int64_t created_at = 0;
  std::uint8_t mode = 0;
  MetricsImage metrics;
  double seconds = 0;
  std::uint32_t ranks = 1;  // class version 2
  std::string hpo_json;     // class version 3
};
struct VersionIndexImage {
  std::uint64_t next_id = 1;
  std::string active;
  std::vector<VersionInfoImage> versions;
};

constexpr std::uint64_t kMetricsMinBytes = 1 + kLength + 8;  // present, values, users

}  // namespace

// name, kind, and the length of its array or text
template <>
constexpr std::uint64_t kMinBytes<SectionImage> = kLength + 1 + kLength;

// id, recipe, created_at, mode, metrics, seconds
template <>
constexpr std::uint64_t kMinBytes<VersionInfoImage> = 2 * kLength + 8 + 1 + kMetricsMinBytes + 8;

}  // namespace tailor::detail

BOOST_CLASS_VERSION(tailor::detail::MetricsImage, 1)
BOOST_CLASS_VERSION(tailor::detail::SectionImage, 1)
BOOST_CLASS_VERSION(tailor::detail::VersionImage, 5)
BOOST_CLASS_VERSION(tailor::detail::VersionInfoImage, 3)
BOOST_CLASS_VERSION(tailor::detail::VersionIndexImage, 1)

namespace boost::serialization {

template <class Archive>
void serialize(Archive& ar, tailor::detail::MetricsImage& x, const unsigned int) {
  ar& x.present;
  TAILOR_ARRAY(values);
  ar& x.users;
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::SectionImage& x, const unsigned int) {
  TAILOR_TEXT(name);
  ar& x.kind;
  TAILOR_TEXT(bytes);
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::VersionImage& x, const unsigned int version) {
  TAILOR_TEXT(name);
  TAILOR_TEXT(recipe);
  TAILOR_TEXT(params_json);
  TAILOR_TEXT(events_json);
  ar& x.mode& x.metrics& x.baseline& x.seconds;
  if (version >= 3) {
    TAILOR_TEXT(model_recipe);
    tailor::detail::image_vector(ar, x.sections);
    if (version >= 4) ar& x.ranks;
    if (version >= 5) {
      TAILOR_TEXT(hpo_json);
    }
    return;
  }
  ar& x.model_kind;
  TAILOR_TEXT(model_recipe);
  TAILOR_TEXT(model_params);
  ar& x.user_rows& x.item_rows& x.factors;
  TAILOR_ARRAY(user_factors);
  TAILOR_ARRAY(item_factors);
  TAILOR_ARRAY(offsets);
  TAILOR_ARRAY(neighbors);
  TAILOR_ARRAY(similarities);
  TAILOR_ARRAY(scores);
  if (version >= 2) {
    TAILOR_ARRAY(removed_items);
  }
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::VersionInfoImage& x, const unsigned int version) {
  TAILOR_TEXT(id);
  TAILOR_TEXT(recipe);
  ar& x.created_at& x.mode& x.metrics& x.seconds;
  if (version >= 2) ar& x.ranks;
  if (version >= 3) {
    TAILOR_TEXT(hpo_json);
  }
}
template <class Archive>
void serialize(Archive& ar, tailor::detail::VersionIndexImage& x, const unsigned int) {
  ar& x.next_id;
  TAILOR_TEXT(active);
  tailor::detail::image_vector(ar, x.versions);
}

}  // namespace boost::serialization

namespace tailor::detail {

namespace {

MetricsImage metrics_image(const std::optional<RankingMetrics>& m) {
  MetricsImage img;
  if (!m) return img;
  img.present = 1;
  for (const auto& [name, value] : m->named()) img.values.push_back(value);
  img.users = m->users_evaluated;
  return img;
}

template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

template <typename T>
std::vector<T> array_of(const SectionImage& section) {
  TAILOR_THROW_IF(section.bytes.size() % sizeof(T) != 0, ErrorCode::ParseError, "model section \"",
                  section.name, "\" has ", section.bytes.size(),
                  " bytes, not a whole number of elements");
  std::vector<T> values(section.bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), section.bytes.data(), section.bytes.size());
  return values;
}

// The model's sections: as stored (class version 3), or the fixed fields of an older file under
// the names the built-in models' loaders read.
ModelArchive archive_of(VersionImage& img) {
  ModelArchive archive;
  if (img.model_kind == 0) {
    for (SectionImage& section : img.sections) {
      const std::string& name = section.name;
      TAILOR_THROW_IF(archive.has(name), ErrorCode::ParseError, "model section \"", name,
                      "\" appears twice");
      switch (static_cast<ModelArchive::Kind>(section.kind)) {
        case ModelArchive::Kind::Text:
          archive.put_text(name, std::move(section.bytes));
          break;
        case ModelArchive::Kind::Floats:
          archive.put_floats(name, array_of<float>(section));
          break;
        case ModelArchive::Kind::Indices:
          archive.put_indices(name, array_of<Index>(section));
          break;
        case ModelArchive::Kind::Integers:
          archive.put_integers(name, array_of<std::uint64_t>(section));
          break;
        default:
          TAILOR_THROW(ErrorCode::ParseError, "model section \"", name, "\" has an unknown kind ",
                       static_cast<int>(section.kind));
      }
    }
    return archive;
  }
  archive.put_text("params", img.model_params.empty() ? "{}" : img.model_params);
  archive.put_integers("shape", {img.user_rows, img.item_rows, img.factors});
  archive.put_floats("user_factors", std::move(img.user_factors));
  archive.put_floats("item_factors", std::move(img.item_factors));
  archive.put_indices("removed_items", std::move(img.removed_items));
  archive.put_integers("offsets", std::move(img.offsets));
  archive.put_indices("neighbors", std::move(img.neighbors));
  archive.put_floats("similarities", std::move(img.similarities));
  archive.put_floats("scores", std::move(img.scores));
  return archive;
}

// A stored rank count: 1 when the file predates it (the class version reads 1 by default).
int ranks_of(std::uint32_t ranks) {
  TAILOR_THROW_IF(ranks < 1 || ranks > (1u << 24), ErrorCode::ParseError, "training ranks ", ranks,
                  " out of range");
  return static_cast<int>(ranks);
}

std::optional<RankingMetrics> metrics_of(const MetricsImage& img) {
  if (!img.present) return std::nullopt;
  TAILOR_THROW_IF(img.values.size() != 8, ErrorCode::ParseError, "metrics: ", img.values.size(),
                  " values, expected 8");
  RankingMetrics m;
  // The order of RankingMetrics::named().
  m.coverage = img.values[0];
  m.mean_reciprocal_rank_at_25 = img.values[1];
  m.normalized_discounted_cumulative_gain_at_5 = img.values[2];
  m.normalized_discounted_cumulative_gain_at_10 = img.values[3];
  m.normalized_discounted_cumulative_gain_at_25 = img.values[4];
  m.precision_at_5 = img.values[5];
  m.precision_at_10 = img.values[6];
  m.precision_at_25 = img.values[7];
  m.users_evaluated = img.users;
  return m;
}

}  // namespace

std::string serialize_version(const SolutionVersion& v) {
  VersionImage img;
  img.name = v.config().name;
  img.recipe = v.config().recipe;
  img.params_json = v.config().params_json;
  img.events_json = v.config().events.to_json();
  img.mode = v.mode() == TrainingMode::Update ? 1 : 0;
  img.metrics = metrics_image(v.metrics());
  img.baseline = metrics_image(v.baseline_metrics());
  img.seconds = v.training_seconds();
  img.ranks = static_cast<std::uint32_t>(v.training_ranks());
  if (v.hpo()) img.hpo_json = v.hpo()->to_json();
  const Model& m = *v.model();
  img.model_recipe = m.recipe();
  TAILOR_THROW_IF(!RecipeRegistry::has_loader(m.recipe()), ErrorCode::InvalidArgument, "recipe \"",
                  m.recipe(),
                  "\" is not registered with a model loader: a saved version could never load");
  ModelArchive archive;
  m.save(archive);
  for (const std::string& name : archive.names()) {
    SectionImage section;
    section.name = name;
    const ModelArchive::Kind kind = archive.kind(name);
    section.kind = static_cast<std::uint8_t>(kind);
    switch (kind) {
      case ModelArchive::Kind::Text:
        section.bytes = archive.text(name);
        break;
      case ModelArchive::Kind::Floats:
        section.bytes = bytes_of(archive.floats(name));
        break;
      case ModelArchive::Kind::Indices:
        section.bytes = bytes_of(archive.indices(name));
        break;
      case ModelArchive::Kind::Integers:
        section.bytes = bytes_of(archive.integers(name));
        break;
    }
    img.sections.push_back(std::move(section));
  }
  return to_bytes(img);
}

SolutionVersion deserialize_version(const std::string& payload, const std::string& what) {
  VersionImage img = from_bytes<VersionImage>(payload, what);
  try {
    SolutionConfig config{img.name, img.recipe, img.params_json,
                          EventSelection::from_json(img.events_json)};
    // A version saved before eventValueAsWeight existed was trained with EVENT_VALUE as a weight.
    const Json events =
        parse_json(img.events_json.empty() ? std::string_view("{}") : img.events_json, what);
    if (events.is_object() && !events.find("eventValueAsWeight")) {
      config.events.event_value_as_weight = true;
    }
    std::shared_ptr<const Model> model;
    try {
      model = RecipeRegistry::load(img.model_recipe, archive_of(img));
    } catch (const Error& e) {
      // Not damage: the program has not registered the recipe (or it cannot load models).
      if (e.code() != ErrorCode::NotFound) throw;
      TAILOR_THROW(ErrorCode::NotFound, what, ": ", e.what(),
                   "; register the recipe (RecipeRegistry::add) before loading its versions");
    }
    return SolutionVersion(
        std::move(config), img.mode ? TrainingMode::Update : TrainingMode::Full, std::move(model),
        metrics_of(img.metrics), metrics_of(img.baseline), img.seconds, ranks_of(img.ranks),
        img.hpo_json.empty() ? std::nullopt : std::optional(HpoResult::from_json(img.hpo_json)));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::NotFound) throw;
    TAILOR_THROW(ErrorCode::ParseError, what, ": inconsistent contents (", e.what(), ")");
  }
}

std::string serialize_version_index(const VersionIndex& index) {
  VersionIndexImage img;
  img.next_id = index.next_id;
  img.active = index.active;
  for (const VersionInfo& v : index.versions) {
    img.versions.push_back({v.id, v.recipe, v.created_at,
                            static_cast<std::uint8_t>(v.mode == TrainingMode::Update),
                            metrics_image(v.metrics), v.training_seconds,
                            static_cast<std::uint32_t>(v.training_ranks), v.hpo_json});
  }
  return to_bytes(img);
}

VersionIndex deserialize_version_index(const std::string& payload, const std::string& what) {
  const VersionIndexImage img = from_bytes<VersionIndexImage>(payload, what);
  VersionIndex index;
  index.next_id = img.next_id;
  index.active = img.active;
  try {
    for (const VersionInfoImage& v : img.versions) {
      TAILOR_THROW_IF(v.mode > 1, ErrorCode::ParseError, "unknown training mode ",
                      static_cast<int>(v.mode));
      index.versions.push_back({v.id, v.created_at, v.recipe,
                                v.mode ? TrainingMode::Update : TrainingMode::Full,
                                metrics_of(v.metrics), v.seconds, ranks_of(v.ranks), v.hpo_json});
    }
  } catch (const Error& e) {
    TAILOR_THROW(ErrorCode::ParseError, what, ": inconsistent contents (", e.what(), ")");
  }
  return index;
}

}  // namespace tailor::detail
