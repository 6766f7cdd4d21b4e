// SPDX-License-Identifier: MIT
// Interactions: the events dataset as parallel columns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tailor/bitmap.hpp"
#include "tailor/data/column.hpp"
#include "tailor/data/id_map.hpp"
#include "tailor/export.hpp"
#include "tailor/schema/schema.hpp"
#include "tailor/types.hpp"

namespace tailor {

namespace detail {
struct DataAccess;
}  // namespace detail

/// Code of "no event type" in Interactions::event_types().
inline constexpr std::uint16_t kNoEventType = 0xFFFF;

/// The interactions dataset: one row per event, stored as parallel columns.
///
/// USER_ID and ITEM_ID are dense indices into the DatasetGroup's user and item IdMaps,
/// EVENT_TYPE a code into event_type_names(), TIMESTAMP epoch seconds, EVENT_VALUE a float with
/// a presence mask. Every other schema field (IMPRESSION, RECOMMENDATION_ID, metadata) is a
/// Column in extra_columns().
///
/// Users read it (DatasetGroup::interactions()); only the library appends and removes rows.
///
/// Thread safety: const members may be called concurrently.
class TAILOR_EXPORT Interactions {
 public:
  explicit Interactions(const Schema& schema);

  std::size_t size() const { return users_.size(); }
  const std::vector<Index>& users() const { return users_; }
  const std::vector<Index>& items() const { return items_; }
  const std::vector<std::int64_t>& timestamps() const { return timestamps_; }
  /// Event type code per row; kNoEventType when the row has none.
  const std::vector<std::uint16_t>& event_types() const { return event_types_; }
  /// Event value per row; meaningful where has_event_value(row).
  const std::vector<float>& event_values() const { return event_values_; }
  bool has_event_value(std::size_t row) const { return value_present_[row] != 0; }
  /// The distinct event types, as first seen; codes index into it.
  const IdMap& event_type_names() const { return event_type_names_; }
  /// Columns of the fields other than USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, EVENT_VALUE.
  const std::vector<Column>& extra_columns() const { return extras_; }
  /// Extra column named `name`, or nullptr.
  const Column* column(std::string_view name) const;

  /// Bytes of heap memory held (ids maps excluded: they belong to the DatasetGroup).
  std::size_t memory_bytes() const;

 private:
  // Mutation is the library's (through detail::DataAccess, which also appends to the extra
  // columns); external synchronisation against every other call is the caller's.
  friend struct detail::DataAccess;
  /// Appends the core fields of one row; the caller appends one value to every extra column.
  void append(Index user, Index item, std::int64_t timestamp, std::uint16_t event_type,
              float event_value, bool has_event_value) {
    users_.push_back(user);
    items_.push_back(item);
    timestamps_.push_back(timestamp);
    event_types_.push_back(event_type);
    event_values_.push_back(event_value);
    value_present_.push_back(has_event_value ? 1 : 0);
  }
  /// Grows the core columns to `rows` rows, leaving the new rows for set_core() to fill.
  void resize_core(std::size_t rows);
  /// Sets the core fields of row `row` (< size()); different rows may be set concurrently.
  void set_core(std::size_t row, Index user, Index item, std::int64_t timestamp,
                std::uint16_t event_type, float event_value, bool has_event_value) {
    users_[row] = user;
    items_[row] = item;
    timestamps_[row] = timestamp;
    event_types_[row] = event_type;
    event_values_[row] = event_value;
    value_present_[row] = has_event_value ? 1 : 0;
  }
  /// Code of event type `name`, adding it when new. @throws Error(InvalidArgument) past 65534.
  std::uint16_t intern_event_type(std::string_view name);
  void reserve(std::size_t rows);
  /// Drops every row; event-type codes stay.
  void clear();
  /// Keeps the rows whose bit is set in `keep` (size() bits), in order, in every column.
  void keep_rows(const Bitmap& keep);

  std::vector<Index> users_;
  std::vector<Index> items_;
  std::vector<std::int64_t> timestamps_;
  std::vector<std::uint16_t> event_types_;
  std::vector<float> event_values_;
  std::vector<std::uint8_t> value_present_;
  IdMap event_type_names_;
  std::vector<Column> extras_;
};

/// True for the interaction fields stored as core columns rather than extra columns.
TAILOR_EXPORT bool is_core_interaction_field(std::string_view name);

}  // namespace tailor
