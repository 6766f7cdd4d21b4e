// SPDX-License-Identifier: MIT
// DataAccess: the library's one way to change an IdMap, Column, Interactions or EntityTable.
//
// Users see these classes read-only (a DatasetGroup hands them out as const references), so
// their mutators are private and this struct, a friend of each, forwards to them. It lives in a
// private header: only library code and the tests that build data by hand can include it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/parallel.hpp"
#include "tailor/bitmap.hpp"
#include "tailor/data/column.hpp"
#include "tailor/data/entity_table.hpp"
#include "tailor/data/id_map.hpp"
#include "tailor/data/interactions.hpp"
#include "tailor/types.hpp"

namespace tailor::detail {

struct DataAccess {
  // --- IdMap ---------------------------------------------------------------------------------
  /// Index of `id`, inserting it when it is new.
  static Index insert(IdMap& m, std::string_view id) { return m.insert(id); }
  /// insert() with the id's IdMap::hash() already computed.
  static Index insert(IdMap& m, std::string_view id, std::uint64_t hash) {
    return m.insert(id, hash);
  }
  /// Starts loading the table slot for a hash, so that a later insert() does not wait on memory.
  static void prefetch(const IdMap& m, std::uint64_t hash) { m.prefetch(hash); }
  /// Forgets the ids with these indices (see IdMap: their indices stay taken).
  static void erase(IdMap& m, Span<Index> indices) { m.erase(indices); }
  /// Appends an index that is erased from the start (restoring a map that had erased ids).
  static Index append_erased(IdMap& m) { return m.append_erased(); }
  static void clear(IdMap& m) { m.clear(); }
  /// Prepares for `n` ids holding `chars` characters in all.
  static void reserve(IdMap& m, std::size_t n, std::size_t chars = 0) { m.reserve(n, chars); }

  // --- Column (one append per row) -----------------------------------------------------------
  /// @throws Error(SchemaMismatch) when the field is not nullable
  static void append_null(Column& c) { c.append_null(); }
  static void append_int(Column& c, std::int64_t value) { c.append_int(value); }
  static void append_real(Column& c, double value) { c.append_real(value); }
  static void append_bool(Column& c, bool value) { c.append_bool(value); }
  static void append_text(Column& c, std::string_view value) { c.append_text(value); }
  /// Appends a categorical row from dictionary codes (see intern()).
  static void append_codes(Column& c, const Index* codes, std::size_t count) {
    c.append_codes(codes, count);
  }
  /// Dictionary code of a categorical value, adding it when new.
  static Index intern(Column& c, std::string_view value) { return c.intern(value); }
  /// Appends row `row` of `other`, a column of the same field.
  static void append_from(Column& c, const Column& other, std::size_t row) {
    c.append_from(other, row);
  }
  static void reserve(Column& c, std::size_t rows) { c.reserve(rows); }
  static void clear(Column& c) { c.clear(); }
  /// Keeps the rows whose bit is set (see Column::keep_rows).
  static void keep_rows(Column& c, const Bitmap& keep) { c.keep_rows(keep); }

  // --- Interactions --------------------------------------------------------------------------
  /// Appends the core fields of one row; the caller appends one value to every extra column.
  static void append(Interactions& in, Index user, Index item, std::int64_t timestamp,
                     std::uint16_t event_type, float event_value, bool has_event_value) {
    in.append(user, item, timestamp, event_type, event_value, has_event_value);
  }
  /// Grows the core columns to `rows` rows, for set_core() to fill (in parallel if need be).
  static void resize_core(Interactions& in, std::size_t rows) { in.resize_core(rows); }
  /// resize_core() with the columns grown on up to `threads` threads: zero-filling a hundred MB of
  /// fresh memory (and faulting it in) is most of its cost.
  static void resize_core(Interactions& in, std::size_t rows, int threads) {
    parallel_for(6, threads, [&](std::size_t c) {
      switch (c) {
        case 0:
          in.timestamps_.resize(rows);
          break;
        case 1:
          in.users_.resize(rows);
          break;
        case 2:
          in.items_.resize(rows);
          break;
        case 3:
          in.event_values_.resize(rows);
          break;
        case 4:
          in.event_types_.resize(rows);
          break;
        default:
          in.value_present_.resize(rows);
          break;
      }
    });
  }
  /// Replaces the core columns of an empty Interactions by these, of equal lengths.
  static void adopt_core(Interactions& in, std::vector<Index>&& users, std::vector<Index>&& items,
                         std::vector<std::int64_t>&& timestamps,
                         std::vector<std::uint16_t>&& event_types, std::vector<float>&& values,
                         std::vector<std::uint8_t>&& value_present) {
    in.users_ = std::move(users);
    in.items_ = std::move(items);
    in.timestamps_ = std::move(timestamps);
    in.event_types_ = std::move(event_types);
    in.event_values_ = std::move(values);
    in.value_present_ = std::move(value_present);
  }
  /// Sets the core fields of row `row` (< size()).
  static void set_core(Interactions& in, std::size_t row, Index user, Index item,
                       std::int64_t timestamp, std::uint16_t event_type, float event_value,
                       bool has_event_value) {
    in.set_core(row, user, item, timestamp, event_type, event_value, has_event_value);
  }
  /// Code of event type `name`, adding it when new. @throws Error(InvalidArgument) past 65534.
  static std::uint16_t intern_event_type(Interactions& in, std::string_view name) {
    return in.intern_event_type(name);
  }
  static std::vector<Column>& extra_columns(Interactions& in) { return in.extras_; }
  /// The EVENT_VALUE presence of each row: 1 present, 0 absent.
  static const std::vector<std::uint8_t>& value_present(const Interactions& in) {
    return in.value_present_;
  }
  static void reserve(Interactions& in, std::size_t rows) { in.reserve(rows); }
  /// Drops every row; event-type codes stay.
  static void clear(Interactions& in) { in.clear(); }
  static void keep_rows(Interactions& in, const Bitmap& keep) { in.keep_rows(keep); }

  // --- EntityTable ---------------------------------------------------------------------------
  /// The columns, for appending one value to each before commit_row().
  static std::vector<Column>& columns(EntityTable& t) { return t.columns_; }
  /// Points entity `e` at the row just appended to every column (the last row).
  static void commit_row(EntityTable& t, Index e) { t.commit_row(e); }
  static void clear(EntityTable& t) { t.clear(); }
  /// Rewrites the columns without superseded rows when they outnumber live ones.
  static void compact_if_sparse(EntityTable& t) { t.compact_if_sparse(); }
  /// Removes the metadata of these entities (see EntityTable::erase).
  static void erase(EntityTable& t, Span<Index> entities) { t.erase(entities); }
};

}  // namespace tailor::detail
