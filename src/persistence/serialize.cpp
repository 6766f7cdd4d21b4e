// SPDX-License-Identifier: MIT
// The only translation unit with Boost.Serialization. Objects are written as versioned image
// structs (BOOST_CLASS_VERSION each) holding flat arrays; arrays are read with their length
// checked against the bytes left, so hostile input can neither crash nor allocate without bound.
#include "persistence/serialize.hpp"

#include "detail/text.hpp"
#include "io/json.hpp"

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/version.hpp>
#include <sstream>

#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"

namespace tailor::detail {

namespace {

// Bytes a load may still consume (set per deserialisation; loads never exceed it).
thread_local std::uint64_t t_budget = 0;

template <typename A, typename T>
void save_array(A& ar, const std::vector<T>& v) {
  const std::uint64_t n = v.size();
  ar << n;
  if (n) ar.save_binary(v.data(), n * sizeof(T));
}
template <typename A, typename T>
void load_array(A& ar, std::vector<T>& v) {
  std::uint64_t n = 0;
  ar >> n;
  TAILOR_THROW_IF(n > t_budget / sizeof(T), ErrorCode::ParseError, "an array of ", n,
                  " elements is longer than the rest of the file");
  v.resize(n);
  if (n) ar.load_binary(v.data(), n * sizeof(T));
  t_budget -= n * sizeof(T);
}
template <typename A>
void save_text(A& ar, const std::string& s) {
  const std::uint64_t n = s.size();
  ar << n;
  if (n) ar.save_binary(s.data(), n);
}
template <typename A>
void load_text(A& ar, std::string& s) {
  std::uint64_t n = 0;
  ar >> n;
  TAILOR_THROW_IF(n > t_budget, ErrorCode::ParseError, "a string of ", n,
                  " bytes is longer than the rest of the file");
  s.resize(n);
  if (n) ar.load_binary(s.data(), n);
  t_budget -= n;
}

template <typename A>
void image_vector_strings(A& ar, std::vector<std::string>& v) {
  std::uint64_t n = v.size();
  ar & n;
  if constexpr (!A::is_saving::value) {
    TAILOR_THROW_IF(n > t_budget, ErrorCode::ParseError, "a list of ", n, " strings is longer than the rest of the file");
    // Grown as read, not sized by the count: a damaged count fails at the end of the bytes, not
    // in an allocation of n strings first.
    v.clear();
    for (std::uint64_t k = 0; k < n; ++k) load_text(ar, v.emplace_back());
  } else {
    for (std::string& s : v) save_text(ar, s);
  }
}

// Names of an IdMap as one buffer plus end offsets; an erased id is an empty range listed in
// `erased` (ascending; class version 2), so no character of it is written.
struct Names {
  std::string chars;
  std::vector<std::uint64_t> ends;
  std::vector<Index> erased;
};
Names names_of(const IdMap& m) {
  Names n;
  for (Index i = 0; i < m.size(); ++i) {
    if (m.is_erased(i)) n.erased.push_back(i);
    else n.chars.append(m.name(i));
    n.ends.push_back(n.chars.size());
  }
  return n;
}
IdMap map_of(const Names& n) {
  IdMap m;
  std::uint64_t begin = 0;
  std::size_t next_erased = 0;
  for (std::uint64_t end : n.ends) {
    TAILOR_THROW_IF(end < begin || end > n.chars.size(), ErrorCode::ParseError, "bad name offsets");
    const Index before = m.size();
    if (next_erased < n.erased.size() && n.erased[next_erased] == before) {
      TAILOR_THROW_IF(end != begin, ErrorCode::ParseError, "an erased id with characters");
      m.append_erased();
      ++next_erased;
    } else {
      TAILOR_THROW_IF(m.insert(std::string_view(n.chars.data() + begin, end - begin)) != before,
                      ErrorCode::ParseError, "a duplicate id");
    }
    begin = end;
  }
  TAILOR_THROW_IF(next_erased != n.erased.size(), ErrorCode::ParseError,
                  "erased ids out of order or out of range");
  return m;
}

struct ColumnImage {
  std::vector<std::uint8_t> nulls;
  std::vector<std::int64_t> ints;
  std::vector<double> reals;
  std::vector<std::uint8_t> bools;
  Names dictionary;
  std::vector<Index> codes;
  std::vector<std::uint64_t> code_ends;
  std::string chars;
  std::vector<std::uint64_t> text_ends;
};

// The rows `rows` of a column, as an image.
template <typename Rows>
ColumnImage image_of(const Column& c, const Rows& rows) {
  ColumnImage img;
  const Field& f = c.field();
  if (f.categorical) img.dictionary = names_of(c.dictionary());
  for (std::size_t r : rows) {
    const bool null = c.is_null(r);
    img.nulls.push_back(null ? 1 : 0);
    if (f.is_integral()) img.ints.push_back(null ? 0 : c.int_at(r));
    else if (f.is_numeric()) img.reals.push_back(null ? 0 : c.number_at(r));
    else if (f.type == FieldType::Boolean) img.bools.push_back(null ? 0 : c.bool_at(r));
    else if (f.categorical) {
      if (!null) {
        for (Index code : c.codes_at(r)) img.codes.push_back(code);
      }
      img.code_ends.push_back(img.codes.size());
    } else {
      if (!null) img.chars.append(c.text_at(r));
      img.text_ends.push_back(img.chars.size());
    }
  }
  return img;
}

// Appends row `r` of an image to a column (the image was checked by check_image).
void append_row(Column& c, const ColumnImage& img, std::size_t r, const IdMap& dictionary) {
  const Field& f = c.field();
  if (img.nulls[r]) {
    c.append_null();
  } else if (f.is_integral()) {
    c.append_int(img.ints[r]);
  } else if (f.is_numeric()) {
    c.append_real(img.reals[r]);
  } else if (f.type == FieldType::Boolean) {
    c.append_bool(img.bools[r] != 0);
  } else if (f.categorical) {
    const std::uint64_t begin = r == 0 ? 0 : img.code_ends[r - 1];
    std::vector<Index> codes;
    for (std::uint64_t k = begin; k < img.code_ends[r]; ++k) codes.push_back(c.intern(dictionary.name(img.codes[k])));
    c.append_codes(codes.data(), codes.size());
  } else {
    const std::uint64_t begin = r == 0 ? 0 : img.text_ends[r - 1];
    c.append_text(std::string_view(img.chars.data() + begin, img.text_ends[r] - begin));
  }
}

// Every offset and code of an image of `rows` rows is in range.
void check_image(const ColumnImage& img, const Field& f, std::size_t rows, const IdMap& dictionary) {
  auto fail = [&](const char* what) {
    TAILOR_THROW(ErrorCode::ParseError, "column ", f.name, ": ", what);
  };
  if (img.nulls.size() != rows) fail("row count differs from its dataset");
  for (std::uint8_t n : img.nulls) {
    if (n > 1 || (n && !f.nullable)) fail("a null in a field that is not nullable");
  }
  if (f.is_integral() && img.ints.size() != rows) fail("missing integer values");
  if (!f.is_integral() && f.is_numeric() && img.reals.size() != rows) fail("missing numeric values");
  if (f.type == FieldType::Boolean && img.bools.size() != rows) fail("missing boolean values");
  if (f.categorical) {
    if (img.code_ends.size() != rows) fail("missing categorical rows");
    std::uint64_t previous = 0;
    for (std::uint64_t end : img.code_ends) {
      if (end < previous || end > img.codes.size()) fail("bad categorical offsets");
      previous = end;
    }
    for (Index code : img.codes) {
      if (code >= dictionary.size()) fail("a categorical code outside its dictionary");
    }
  } else if (f.type == FieldType::String) {
    if (img.text_ends.size() != rows) fail("missing text rows");
    std::uint64_t previous = 0;
    for (std::uint64_t end : img.text_ends) {
      if (end < previous || end > img.chars.size()) fail("bad text offsets");
      previous = end;
    }
  }
}

struct EntityImage {
  std::vector<Index> entities;  // in row order
  std::vector<ColumnImage> columns;
};

struct GroupImage {
  std::string interactions_schema, users_schema, items_schema;
  Names users, items, event_types;
  std::vector<Index> row_users, row_items;
  std::vector<std::int64_t> timestamps;
  std::vector<std::uint16_t> event_type_codes;
  std::vector<float> values;
  std::vector<std::uint8_t> value_present;
  std::vector<ColumnImage> extras;
  EntityImage user_table, item_table;
  std::uint64_t items_version = 0;
  std::uint64_t last_sequence = 0;
  std::string group_id;                  // version 2
  std::vector<std::uint64_t> event_ids;  // version 2: hashes of stored events' eventId
};

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

struct PairsImage {
  std::vector<std::string> keys, values;
};
struct CatalogImage {
  PairsImage filters, campaigns;
};

struct EventsImage {
  std::vector<EventRecord> events;
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
struct EntitiesImage {
  std::vector<EntityRecord> records;
};

}  // namespace
}  // namespace tailor::detail

BOOST_CLASS_VERSION(tailor::detail::Names, 2)
BOOST_CLASS_VERSION(tailor::detail::ColumnImage, 1)
BOOST_CLASS_VERSION(tailor::detail::EntityImage, 1)
BOOST_CLASS_VERSION(tailor::detail::GroupImage, 2)
BOOST_CLASS_VERSION(tailor::detail::MetricsImage, 1)
BOOST_CLASS_VERSION(tailor::detail::VersionImage, 2)
BOOST_CLASS_VERSION(tailor::detail::EventsImage, 1)
BOOST_CLASS_VERSION(tailor::detail::PairsImage, 1)
BOOST_CLASS_VERSION(tailor::detail::CatalogImage, 1)
BOOST_CLASS_VERSION(tailor::detail::EntitiesImage, 1)
BOOST_CLASS_VERSION(tailor::detail::VersionInfoImage, 1)
BOOST_CLASS_VERSION(tailor::detail::VersionIndexImage, 1)
BOOST_CLASS_VERSION(tailor::EventRecord, 1)  // 1: eventId, and sentAt optional

namespace boost::serialization {

// Each image: save and load field by field; arrays through the length-checked helpers.
// `version` is the class version read from the file; version 1 is the first.
#define TAILOR_ARRAY(field) \
  if constexpr (Archive::is_saving::value) tailor::detail::save_array(ar, x.field); else tailor::detail::load_array(ar, x.field)
#define TAILOR_TEXT(field) \
  if constexpr (Archive::is_saving::value) tailor::detail::save_text(ar, x.field); else tailor::detail::load_text(ar, x.field)

template <class Archive>
void serialize(Archive& ar, tailor::detail::Names& x, const unsigned int version) {
  TAILOR_TEXT(chars);
  TAILOR_ARRAY(ends);
  if (version >= 2) {
    TAILOR_ARRAY(erased);
  }
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::ColumnImage& x, const unsigned int) {
  TAILOR_ARRAY(nulls);
  TAILOR_ARRAY(ints);
  TAILOR_ARRAY(reals);
  TAILOR_ARRAY(bools);
  ar & x.dictionary;
  TAILOR_ARRAY(codes);
  TAILOR_ARRAY(code_ends);
  TAILOR_TEXT(chars);
  TAILOR_ARRAY(text_ends);
}

// Vectors of images: count checked against the budget too (each element costs at least a byte).
template <class Archive, class T>
void image_vector(Archive& ar, std::vector<T>& v) {
  std::uint64_t n = v.size();
  ar & n;
  if constexpr (!Archive::is_saving::value) {
    TAILOR_THROW_IF(n > tailor::detail::t_budget, tailor::ErrorCode::ParseError, "a list of ", n,
                    " entries is longer than the rest of the file");
    // Grown as read (each entry uses bytes of the file), not sized by a count that may be damaged.
    v.clear();
    for (std::uint64_t k = 0; k < n; ++k) ar & v.emplace_back();
  } else {
    for (T& item : v) ar & item;
  }
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::EntityImage& x, const unsigned int) {
  TAILOR_ARRAY(entities);
  image_vector(ar, x.columns);
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::GroupImage& x, const unsigned int version) {
  TAILOR_TEXT(interactions_schema);
  TAILOR_TEXT(users_schema);
  TAILOR_TEXT(items_schema);
  ar & x.users & x.items & x.event_types;
  TAILOR_ARRAY(row_users);
  TAILOR_ARRAY(row_items);
  TAILOR_ARRAY(timestamps);
  TAILOR_ARRAY(event_type_codes);
  TAILOR_ARRAY(values);
  TAILOR_ARRAY(value_present);
  image_vector(ar, x.extras);
  ar & x.user_table & x.item_table & x.items_version & x.last_sequence;
  if (version >= 2) {
    TAILOR_TEXT(group_id);
    TAILOR_ARRAY(event_ids);
  }
}

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

// Version 0 (no event id, sentAt always present) is still read from old update logs.
template <class Archive>
void serialize(Archive& ar, tailor::EventRecord& x, const unsigned int version) {
  TAILOR_TEXT(user_id);
  TAILOR_TEXT(session_id);
  TAILOR_TEXT(item_id);
  TAILOR_TEXT(event_type);
  std::uint8_t has_value = x.event_value.has_value();
  float value = x.event_value.value_or(0.0f);
  std::uint8_t has_sent_at = x.sent_at.has_value();
  std::int64_t sent_at = x.sent_at.value_or(0);
  ar & has_value & value;
  if (version >= 1) ar & has_sent_at;
  ar & sent_at;
  if constexpr (!Archive::is_saving::value) {
    x.event_value.reset();
    if (has_value) x.event_value = value;
    x.sent_at.reset();
    if (version == 0 || has_sent_at) x.sent_at = sent_at;
  }
  if (version >= 1) {
    TAILOR_TEXT(event_id);
  }
  tailor::detail::image_vector_strings(ar, x.impression);
  TAILOR_TEXT(recommendation_id);
  TAILOR_TEXT(properties);
}

template <class Archive>
void serialize(Archive& ar, tailor::EntityRecord& x, const unsigned int) {
  TAILOR_TEXT(id);
  TAILOR_TEXT(properties);
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::PairsImage& x, const unsigned int) {
  tailor::detail::image_vector_strings(ar, x.keys);
  tailor::detail::image_vector_strings(ar, x.values);
}
template <class Archive>
void serialize(Archive& ar, tailor::detail::CatalogImage& x, const unsigned int) {
  ar & x.filters & x.campaigns;
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::EventsImage& x, const unsigned int) {
  image_vector(ar, x.events);
}
template <class Archive>
void serialize(Archive& ar, tailor::detail::EntitiesImage& x, const unsigned int) {
  image_vector(ar, x.records);
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
  image_vector(ar, x.versions);
}

#undef TAILOR_ARRAY
#undef TAILOR_TEXT

}  // namespace boost::serialization

namespace tailor::detail {

namespace {

template <typename Image>
std::string to_bytes(const Image& image) {
  std::ostringstream out(std::ios::binary);
  {
    boost::archive::binary_oarchive ar(out, boost::archive::no_header);
    ar << image;
  }
  return out.str();
}

template <typename Image>
Image from_bytes(const std::string& payload, const std::string& what) {
  Image image;
  t_budget = payload.size();
  try {
    std::istringstream in(payload, std::ios::binary);
    boost::archive::binary_iarchive ar(in, boost::archive::no_header);
    ar >> image;
  } catch (const Error& e) {
    TAILOR_THROW(ErrorCode::ParseError, what, ": corrupted contents (", e.what(), ")");
  } catch (const std::exception& e) {
    TAILOR_THROW(ErrorCode::ParseError, what, ": corrupted contents (", e.what(), ")");
  }
  return image;
}

EntityImage entity_image(const EntityTable& t, Index entities) {
  EntityImage img;
  std::vector<std::size_t> rows;
  for (Index e = 0; e < entities; ++e) {
    if (t.row_of(e) != EntityTable::kNoRow) {
      img.entities.push_back(e);
      rows.push_back(t.row_of(e));
    }
  }
  for (const Column& c : t.columns()) img.columns.push_back(image_of(c, rows));
  return img;
}

void restore_entities(EntityTable& t, const EntityImage& img, Index entities) {
  auto& columns = t.columns_mut();
  TAILOR_THROW_IF(img.columns.size() != columns.size(), ErrorCode::ParseError,
                  to_string(t.schema().kind()), " table: ", img.columns.size(), " columns, schema has ",
                  columns.size());
  std::vector<IdMap> dictionaries;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    dictionaries.push_back(map_of(img.columns[c].dictionary));
    check_image(img.columns[c], columns[c].field(), img.entities.size(), dictionaries.back());
  }
  for (std::size_t r = 0; r < img.entities.size(); ++r) {
    TAILOR_THROW_IF(img.entities[r] >= entities, ErrorCode::ParseError, "an entity index out of range");
    for (std::size_t c = 0; c < columns.size(); ++c) append_row(columns[c], img.columns[c], r, dictionaries[c]);
    t.commit_row(img.entities[r]);
  }
}

std::optional<Schema> optional_schema(const std::string& json, DatasetKind kind) {
  if (json.empty()) return std::nullopt;
  return Schema::parse(json, kind);
}

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

struct GroupSerializer {
  static std::string save(const DatasetGroup& g, const SnapshotMeta& meta) {
    GroupImage img;
    img.interactions_schema = g.interactions_schema_.json();
    if (g.users_) img.users_schema = g.users_->schema().json();
    if (g.items_) img.items_schema = g.items_->schema().json();
    img.users = names_of(g.user_ids_);
    img.items = names_of(g.item_ids_);
    const Interactions& in = g.interactions_;
    img.event_types = names_of(in.event_type_names());
    img.row_users = in.users();
    img.row_items = in.items();
    img.timestamps = in.timestamps();
    img.event_type_codes = in.event_types();
    img.values = in.event_values();
    for (std::size_t r = 0; r < in.size(); ++r) img.value_present.push_back(in.has_event_value(r) ? 1 : 0);
    for (const Column& c : in.extra_columns()) img.extras.push_back(image_of(c, IndexRange{in.size()}));
    if (g.users_) img.user_table = entity_image(*g.users_, g.user_ids_.size());
    if (g.items_) img.item_table = entity_image(*g.items_, g.item_ids_.size());
    img.items_version = g.items_version_;
    img.last_sequence = meta.last_sequence;
    img.group_id = meta.group_id;
    img.event_ids.assign(g.event_ids_.begin(), g.event_ids_.end());
    std::sort(img.event_ids.begin(), img.event_ids.end());  // the same group, the same bytes
    return to_bytes(img);
  }

  static DatasetGroup load(const std::string& payload, SnapshotMeta& meta, const std::string& what) {
    const GroupImage img = from_bytes<GroupImage>(payload, what);
    try {
      DatasetGroup g(Schema::parse(img.interactions_schema, DatasetKind::Interactions),
                     optional_schema(img.users_schema, DatasetKind::Users),
                     optional_schema(img.items_schema, DatasetKind::Items));
      g.user_ids_ = map_of(img.users);
      g.item_ids_ = map_of(img.items);
      const std::size_t rows = img.row_users.size();
      TAILOR_THROW_IF(img.row_items.size() != rows || img.timestamps.size() != rows ||
                          img.event_type_codes.size() != rows || img.values.size() != rows ||
                          img.value_present.size() != rows,
                      ErrorCode::ParseError, "interaction columns differ in length");
      Interactions& in = g.interactions_;
      const IdMap types = map_of(img.event_types);
      for (Index t = 0; t < types.size(); ++t) in.intern_event_type(types.name(t));
      in.reserve(rows);
      for (std::size_t r = 0; r < rows; ++r) {
        TAILOR_THROW_IF(img.row_users[r] >= g.user_ids_.size() || img.row_items[r] >= g.item_ids_.size() ||
                            (img.event_type_codes[r] >= types.size() && img.event_type_codes[r] != kNoEventType),
                        ErrorCode::ParseError, "interaction row ", r, " refers to an unknown user, item or event type");
        in.append(img.row_users[r], img.row_items[r], img.timestamps[r], img.event_type_codes[r], img.values[r],
                  img.value_present[r] != 0);
      }
      auto& extras = in.extra_columns_mut();
      TAILOR_THROW_IF(img.extras.size() != extras.size(), ErrorCode::ParseError, "interaction extra columns differ");
      for (std::size_t c = 0; c < extras.size(); ++c) {
        const IdMap dictionary = map_of(img.extras[c].dictionary);
        check_image(img.extras[c], extras[c].field(), rows, dictionary);
        for (std::size_t r = 0; r < rows; ++r) append_row(extras[c], img.extras[c], r, dictionary);
      }
      if (g.users_) restore_entities(*g.users_, img.user_table, g.user_ids_.size());
      if (g.items_) restore_entities(*g.items_, img.item_table, g.item_ids_.size());
      g.user_rows_.assign(g.user_ids_.size(), {});
      for (std::size_t r = 0; r < rows; ++r) g.user_rows_[img.row_users[r]].push_back(static_cast<std::uint32_t>(r));
      g.items_version_ = img.items_version;
      g.event_ids_.insert(img.event_ids.begin(), img.event_ids.end());
      meta.last_sequence = img.last_sequence;
      meta.group_id = img.group_id;
      return g;
    } catch (const Error& e) {
      TAILOR_THROW(ErrorCode::ParseError, what, ": inconsistent contents (", e.what(), ")");
    }
  }
};

std::string serialize_group(const DatasetGroup& group, const SnapshotMeta& meta) {
  return GroupSerializer::save(group, meta);
}

DatasetGroup deserialize_group(const std::string& payload, SnapshotMeta& meta, const std::string& what) {
  return GroupSerializer::load(payload, meta, what);
}

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
        TAILOR_THROW_IF(img.factors == 0 || img.factors > 1024 ||
                            img.user_factors.size() != img.user_rows * img.factors ||
                            img.item_factors.size() != img.item_rows * img.factors,
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

std::string serialize_events(const std::vector<EventRecord>& events) { return to_bytes(EventsImage{events}); }
std::vector<EventRecord> deserialize_events(const std::string& payload, const std::string& what) {
  return from_bytes<EventsImage>(payload, what).events;
}
std::string serialize_entities(const std::vector<EntityRecord>& records) { return to_bytes(EntitiesImage{records}); }
std::vector<EntityRecord> deserialize_entities(const std::string& payload, const std::string& what) {
  return from_bytes<EntitiesImage>(payload, what).records;
}

}  // namespace tailor::detail

namespace tailor::detail {

namespace {
PairsImage pairs_image(const std::vector<std::pair<std::string, std::string>>& pairs) {
  PairsImage img;
  for (const auto& [k, v] : pairs) {
    img.keys.push_back(k);
    img.values.push_back(v);
  }
  return img;
}
std::vector<std::pair<std::string, std::string>> pairs_of(const PairsImage& img, const std::string& what) {
  TAILOR_THROW_IF(img.keys.size() != img.values.size(), ErrorCode::ParseError, what, ": inconsistent contents");
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t k = 0; k < img.keys.size(); ++k) out.emplace_back(img.keys[k], img.values[k]);
  return out;
}
}  // namespace

std::string serialize_catalog(const Catalog& catalog) {
  return to_bytes(CatalogImage{pairs_image(catalog.filters), pairs_image(catalog.campaigns)});
}

Catalog deserialize_catalog(const std::string& payload, const std::string& what) {
  const CatalogImage img = from_bytes<CatalogImage>(payload, what);
  return Catalog{pairs_of(img.filters, what), pairs_of(img.campaigns, what)};
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
