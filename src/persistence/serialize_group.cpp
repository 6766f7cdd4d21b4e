// SPDX-License-Identifier: MIT
// The dataset-group snapshot: ids, interactions, their extra columns and the entity tables, as
// flat images.
#include <algorithm>
#include <optional>

#include "data/data_access.hpp"
#include "detail/text.hpp"
#include "persistence/files.hpp"
#include "persistence/serialize.hpp"
#include "persistence/serialize_archive.hpp"

namespace tailor::detail {

namespace {

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
    if (m.is_erased(i))
      n.erased.push_back(i);
    else
      n.chars.append(m.name(i));
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
      DataAccess::append_erased(m);
      ++next_erased;
    } else {
      const std::string_view id(n.chars.data() + begin, end - begin);
      TAILOR_THROW_IF(DataAccess::insert(m, id) != before, ErrorCode::ParseError, "a duplicate id");
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
    if (f.is_integral())
      img.ints.push_back(null ? 0 : c.int_at(r));
    else if (f.is_numeric())
      img.reals.push_back(null ? 0 : c.number_at(r));
    else if (f.type == FieldType::Boolean)
      img.bools.push_back(null ? 0 : c.bool_at(r));
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
    DataAccess::append_null(c);
  } else if (f.is_integral()) {
    DataAccess::append_int(c, img.ints[r]);
  } else if (f.is_numeric()) {
    DataAccess::append_real(c, img.reals[r]);
  } else if (f.type == FieldType::Boolean) {
    DataAccess::append_bool(c, img.bools[r] != 0);
  } else if (f.categorical) {
    const std::uint64_t begin = r == 0 ? 0 : img.code_ends[r - 1];
    std::vector<Index> codes;
    for (std::uint64_t k = begin; k < img.code_ends[r]; ++k) {
      codes.push_back(DataAccess::intern(c, dictionary.name(img.codes[k])));
    }
    DataAccess::append_codes(c, codes.data(), codes.size());
  } else {
    const std::uint64_t begin = r == 0 ? 0 : img.text_ends[r - 1];
    DataAccess::append_text(c,
                            std::string_view(img.chars.data() + begin, img.text_ends[r] - begin));
  }
}

// Every offset and code of an image of `rows` rows is in range.
void check_image(const ColumnImage& img, const Field& f, std::size_t rows,
                 const IdMap& dictionary) {
  auto fail = [&](const char* what) {
    TAILOR_THROW(ErrorCode::ParseError, "column ", f.name, ": ", what);
  };
  if (img.nulls.size() != rows) fail("row count differs from its dataset");
  for (std::uint8_t n : img.nulls) {
    if (n > 1 || (n && !f.nullable)) fail("a null in a field that is not nullable");
  }
  if (f.is_integral() && img.ints.size() != rows) fail("missing integer values");
  if (!f.is_integral() && f.is_numeric() && img.reals.size() != rows)
    fail("missing numeric values");
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

// The group's image; `Array` holds its interaction columns: owned vectors when loading, views of
// the group's own columns when saving (the largest arrays, not copied to be written).
template <typename T>
using Owned = std::vector<T>;
template <typename T>
using Viewed = Span<T>;
template <template <typename> class Array>
struct GroupImageOf {
  std::string interactions_schema, users_schema, items_schema;
  Names users, items, event_types;
  Array<Index> row_users, row_items;
  Array<std::int64_t> timestamps;
  Array<std::uint16_t> event_type_codes;
  Array<float> values;
  Array<std::uint8_t> value_present;
  std::vector<ColumnImage> extras;
  EntityImage user_table, item_table;
  std::uint64_t items_version = 0;
  std::uint64_t last_sequence = 0;
  std::string group_id;            // version 2
  Array<std::uint64_t> event_ids;  // version 2: hashes of stored events' eventId
};
using GroupImage = GroupImageOf<Owned>;
using GroupView = GroupImageOf<Viewed>;

}  // namespace

// nulls, ints, reals, bools, codes, code_ends, chars, text_ends; the dictionary's chars and ends
// (erased only from Names version 2)
template <>
constexpr std::uint64_t kMinBytes<ColumnImage> = 8 * kLength + 2 * kLength;

}  // namespace tailor::detail

BOOST_CLASS_VERSION(tailor::detail::Names, 2)
BOOST_CLASS_VERSION(tailor::detail::ColumnImage, 1)
BOOST_CLASS_VERSION(tailor::detail::EntityImage, 1)
BOOST_CLASS_VERSION(tailor::detail::GroupImage, 2)
BOOST_CLASS_VERSION(tailor::detail::GroupView, 2)

namespace boost::serialization {

// Each image: save and load field by field; arrays through the length-checked helpers.
// `version` is the class version read from the file; version 1 is the first.

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
  ar& x.dictionary;
  TAILOR_ARRAY(codes);
  TAILOR_ARRAY(code_ends);
  TAILOR_TEXT(chars);
  TAILOR_ARRAY(text_ends);
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::EntityImage& x, const unsigned int) {
  TAILOR_ARRAY(entities);
  tailor::detail::image_vector(ar, x.columns);
}

// A GroupView is only saved, in the bytes of the GroupImage it views.
template <class Archive, template <typename> class Array>
void serialize(Archive& ar, tailor::detail::GroupImageOf<Array>& x, const unsigned int version) {
  TAILOR_TEXT(interactions_schema);
  TAILOR_TEXT(users_schema);
  TAILOR_TEXT(items_schema);
  ar& x.users& x.items& x.event_types;
  TAILOR_ARRAY(row_users);
  TAILOR_ARRAY(row_items);
  TAILOR_ARRAY(timestamps);
  TAILOR_ARRAY(event_type_codes);
  TAILOR_ARRAY(values);
  TAILOR_ARRAY(value_present);
  tailor::detail::image_vector(ar, x.extras);
  ar& x.user_table& x.item_table& x.items_version& x.last_sequence;
  if (version >= 2) {
    TAILOR_TEXT(group_id);
    TAILOR_ARRAY(event_ids);
  }
}

}  // namespace boost::serialization

namespace tailor::detail {

namespace {

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
  auto& columns = DataAccess::columns(t);
  TAILOR_THROW_IF(img.columns.size() != columns.size(), ErrorCode::ParseError,
                  to_string(t.schema().kind()), " table: ", img.columns.size(),
                  " columns, schema has ", columns.size());
  std::vector<IdMap> dictionaries;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    dictionaries.push_back(map_of(img.columns[c].dictionary));
    check_image(img.columns[c], columns[c].field(), img.entities.size(), dictionaries.back());
  }
  for (std::size_t r = 0; r < img.entities.size(); ++r) {
    TAILOR_THROW_IF(img.entities[r] >= entities, ErrorCode::ParseError,
                    "an entity index out of range");
    for (std::size_t c = 0; c < columns.size(); ++c)
      append_row(columns[c], img.columns[c], r, dictionaries[c]);
    DataAccess::commit_row(t, img.entities[r]);
  }
}

std::optional<Schema> optional_schema(const std::string& json, DatasetKind kind) {
  if (json.empty()) return std::nullopt;
  return Schema::parse(json, kind);
}

}  // namespace

struct GroupSerializer {
  // The image to save; `event_ids` holds the sorted event ids it views.
  static GroupView view(const DatasetGroup& g, const SnapshotMeta& meta,
                        std::vector<std::uint64_t>& event_ids) {
    GroupView img;
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
    img.value_present = DataAccess::value_present(in);
    for (const Column& c : in.extra_columns())
      img.extras.push_back(image_of(c, IndexRange{in.size()}));
    if (g.users_) img.user_table = entity_image(*g.users_, g.user_ids_.size());
    if (g.items_) img.item_table = entity_image(*g.items_, g.item_ids_.size());
    img.items_version = g.items_version_;
    img.last_sequence = meta.last_sequence;
    img.group_id = meta.group_id;
    event_ids.assign(g.event_ids_.begin(), g.event_ids_.end());
    std::sort(event_ids.begin(), event_ids.end());  // the same group, the same bytes
    img.event_ids = event_ids;
    return img;
  }

  static std::string save(const DatasetGroup& g, const SnapshotMeta& meta) {
    std::vector<std::uint64_t> event_ids;
    return to_bytes(view(g, meta, event_ids));
  }

  static void write(const std::string& path, const DatasetGroup& g, const SnapshotMeta& meta) {
    std::vector<std::uint64_t> event_ids;
    const GroupView img = view(g, meta, event_ids);
    write_framed_atomic(path, kKindSnapshot, [&](std::streambuf& out) { save_to(out, img); });
  }

  static DatasetGroup load(const std::string& payload, SnapshotMeta& meta,
                           const std::string& what) {
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
      for (Index t = 0; t < types.size(); ++t) DataAccess::intern_event_type(in, types.name(t));
      DataAccess::reserve(in, rows);
      for (std::size_t r = 0; r < rows; ++r) {
        TAILOR_THROW_IF(img.row_users[r] >= g.user_ids_.size() ||
                            img.row_items[r] >= g.item_ids_.size() ||
                            (img.event_type_codes[r] >= types.size() &&
                             img.event_type_codes[r] != kNoEventType),
                        ErrorCode::ParseError, "interaction row ", r,
                        " refers to an unknown user, item or event type");
        DataAccess::append(in, img.row_users[r], img.row_items[r], img.timestamps[r],
                           img.event_type_codes[r], img.values[r], img.value_present[r] != 0);
      }
      auto& extras = DataAccess::extra_columns(in);
      TAILOR_THROW_IF(img.extras.size() != extras.size(), ErrorCode::ParseError,
                      "interaction extra columns differ");
      for (std::size_t c = 0; c < extras.size(); ++c) {
        const IdMap dictionary = map_of(img.extras[c].dictionary);
        check_image(img.extras[c], extras[c].field(), rows, dictionary);
        for (std::size_t r = 0; r < rows; ++r) append_row(extras[c], img.extras[c], r, dictionary);
      }
      if (g.users_) restore_entities(*g.users_, img.user_table, g.user_ids_.size());
      if (g.items_) restore_entities(*g.items_, img.item_table, g.item_ids_.size());
      g.user_rows_.assign(g.user_ids_.size(), {});
      for (std::size_t r = 0; r < rows; ++r)
        g.user_rows_[img.row_users[r]].push_back(static_cast<std::uint32_t>(r));
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

void write_group_snapshot(const std::string& path, const DatasetGroup& group,
                          const SnapshotMeta& meta) {
  GroupSerializer::write(path, group, meta);
}

DatasetGroup deserialize_group(const std::string& payload, SnapshotMeta& meta,
                               const std::string& what) {
  return GroupSerializer::load(payload, meta, what);
}

}  // namespace tailor::detail
