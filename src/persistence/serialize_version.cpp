// SPDX-License-Identifier: MIT
// Solution versions (configuration, metrics and the trained model) and a solution's version
// index.
#include <optional>

#include "io/json.hpp"
#include "persistence/serialize.hpp"
#include "persistence/serialize_archive.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"

namespace tailor::detail {

namespace {

struct MetricsImage {
  std::uint8_t present = 0;
  std::vector<double> values;  // RankingMetrics fields in declaration order
  std::uint64_t users = 0;
};

struct VersionImage {
  std::string name, recipe, params_json, events_json;
  std::uint8_t mode = 0;
  MetricsImage metrics, baseline;
  double seconds = 0;
  std::uint8_t model_kind = 0;  // 1 ALS, 2 item-kNN, 3 item scores
  std::string model_recipe, model_params;
  std::uint64_t user_rows = 0, item_rows = 0, factors = 0;
  std::vector<float> user_factors, item_factors;
  std::vector<std::uint64_t> offsets;
  std::vector<Index> neighbors;
  std::vector<float> similarities, scores;
  std::vector<Index> removed_items;  // ALS: items deleted since training (class version 2)
};

// One entry of a solution's version index.
struct VersionInfoImage {
  std::string id, recipe;
  std::int64_t created_at = 0;
  std::uint8_t mode = 0;
  MetricsImage metrics;
  double seconds = 0;
};
struct VersionIndexImage {
  std::uint64_t next_id = 1;
  std::string active;
  std::vector<VersionInfoImage> versions;
};

constexpr std::uint64_t kMetricsMinBytes = 1 + kLength + 8;  // present, values, users

}  // namespace

// id, recipe, created_at, mode, metrics, seconds
template <>
constexpr std::uint64_t kMinBytes<VersionInfoImage> = 2 * kLength + 8 + 1 + kMetricsMinBytes + 8;

}  // namespace tailor::detail

BOOST_CLASS_VERSION(tailor::detail::MetricsImage, 1)
BOOST_CLASS_VERSION(tailor::detail::VersionImage, 2)
BOOST_CLASS_VERSION(tailor::detail::VersionInfoImage, 1)
BOOST_CLASS_VERSION(tailor::detail::VersionIndexImage, 1)

namespace boost::serialization {

template <class Archive>
void serialize(Archive& ar, tailor::detail::MetricsImage& x, const unsigned int) {
  ar & x.present;
  TAILOR_ARRAY(values);
  ar & x.users;
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::VersionImage& x, const unsigned int version) {
  TAILOR_TEXT(name);
  TAILOR_TEXT(recipe);
  TAILOR_TEXT(params_json);
  TAILOR_TEXT(events_json);
  ar & x.mode & x.metrics & x.baseline & x.seconds & x.model_kind;
  TAILOR_TEXT(model_recipe);
  TAILOR_TEXT(model_params);
  ar & x.user_rows & x.item_rows & x.factors;
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
void serialize(Archive& ar, tailor::detail::VersionInfoImage& x, const unsigned int) {
  TAILOR_TEXT(id);
  TAILOR_TEXT(recipe);
  ar & x.created_at & x.mode & x.metrics & x.seconds;
}
template <class Archive>
void serialize(Archive& ar, tailor::detail::VersionIndexImage& x, const unsigned int) {
  ar & x.next_id;
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
  const Model& m = *v.model();
  img.model_recipe = m.recipe();
  if (const auto* als = dynamic_cast<const AlsModel*>(&m)) {
    img.model_kind = 1;
    img.model_params = als->params().to_json();
    img.user_rows = static_cast<std::uint64_t>(als->user_factors().rows());
    img.item_rows = static_cast<std::uint64_t>(als->item_factors().rows());
    img.factors = static_cast<std::uint64_t>(als->item_factors().cols());
    img.user_factors.assign(als->user_factors().data(), als->user_factors().data() + als->user_factors().size());
    img.item_factors.assign(als->item_factors().data(), als->item_factors().data() + als->item_factors().size());
    img.removed_items = als->removed_items();
  } else if (const auto* knn = dynamic_cast<const ItemKnnModel*>(&m)) {
    img.model_kind = 2;
    img.offsets.push_back(0);
    for (Index i = 0; i < knn->num_items(); ++i) {
      for (Index n : knn->neighbors(i)) img.neighbors.push_back(n);
      for (float s : knn->similarities(i)) img.similarities.push_back(s);
      img.offsets.push_back(img.neighbors.size());
    }
    img.scores = knn->popularity();
  } else if (const auto* scores = dynamic_cast<const ItemScoreModel*>(&m)) {
    img.model_kind = 3;
    img.scores = scores->scores();
  } else {
    TAILOR_THROW(ErrorCode::InvalidArgument, "cannot save a model of recipe ", m.recipe());
  }
  return to_bytes(img);
}

SolutionVersion deserialize_version(const std::string& payload, const std::string& what) {
  const VersionImage img = from_bytes<VersionImage>(payload, what);
  try {
    SolutionConfig config{img.name, img.recipe, img.params_json, EventSelection::from_json(img.events_json)};
    // A version saved before eventValueAsWeight existed was trained with EVENT_VALUE as a weight.
    const Json events =
        parse_json(img.events_json.empty() ? std::string_view("{}") : img.events_json, what);
    if (events.is_object() && !events.find("eventValueAsWeight")) {
      config.events.event_value_as_weight = true;
    }
    std::shared_ptr<const Model> model;
    switch (img.model_kind) {
      case 1: {
        // Divided, not multiplied: a row count near 2^64 / factors would wrap around.
        TAILOR_THROW_IF(img.factors == 0 || img.factors > 1024 ||
                            img.user_factors.size() % img.factors != 0 ||
                            img.user_factors.size() / img.factors != img.user_rows ||
                            img.item_factors.size() % img.factors != 0 ||
                            img.item_factors.size() / img.factors != img.item_rows,
                        ErrorCode::ParseError, "factor matrices do not match their shapes");
        const auto f = static_cast<Eigen::Index>(img.factors);
        FactorMatrix users = Eigen::Map<const FactorMatrix>(img.user_factors.data(), static_cast<Eigen::Index>(img.user_rows), f);
        FactorMatrix items = Eigen::Map<const FactorMatrix>(img.item_factors.data(), static_cast<Eigen::Index>(img.item_rows), f);
        model = std::make_shared<AlsModel>(img.model_recipe, AlsParams::from_json(img.model_params), std::move(users),
                                           std::move(items), img.removed_items);
        break;
      }
      case 2: {
        for (Index n : img.neighbors) {
          TAILOR_THROW_IF(n >= img.scores.size(), ErrorCode::ParseError, "a neighbour outside the catalog");
        }
        for (std::size_t k = 1; k < img.offsets.size(); ++k) {
          TAILOR_THROW_IF(img.offsets[k] < img.offsets[k - 1], ErrorCode::ParseError, "bad neighbour offsets");
        }
        std::vector<std::size_t> offsets(img.offsets.begin(), img.offsets.end());
        model = std::make_shared<ItemKnnModel>(img.model_recipe, std::move(offsets), img.neighbors, img.similarities,
                                               img.scores);
        break;
      }
      case 3: model = std::make_shared<ItemScoreModel>(img.model_recipe, img.scores); break;
      default: TAILOR_THROW(ErrorCode::ParseError, "unknown model kind ", static_cast<int>(img.model_kind));
    }
    return SolutionVersion(std::move(config), img.mode ? TrainingMode::Update : TrainingMode::Full, std::move(model),
                           metrics_of(img.metrics), metrics_of(img.baseline), img.seconds);
  } catch (const Error& e) {
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
                            metrics_image(v.metrics), v.training_seconds});
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
                                metrics_of(v.metrics), v.seconds});
    }
  } catch (const Error& e) {
    TAILOR_THROW(ErrorCode::ParseError, what, ": inconsistent contents (", e.what(), ")");
  }
  return index;
}

}  // namespace tailor::detail
