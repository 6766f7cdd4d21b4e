// SPDX-License-Identifier: MIT
// Interactions storage.
#include "tailor/data/interactions.hpp"

#include "data/data_access.hpp"
#include "tailor/error.hpp"

namespace tailor {

bool is_core_interaction_field(std::string_view name) {
  return name == "USER_ID" || name == "ITEM_ID" || name == "TIMESTAMP" || name == "EVENT_TYPE" ||
         name == "EVENT_VALUE";
}

Interactions::Interactions(const Schema& schema) {
  for (const Field& f : schema.fields()) {
    if (!is_core_interaction_field(f.name)) extras_.emplace_back(f);
  }
}

const Column* Interactions::column(std::string_view name) const {
  for (const Column& c : extras_) {
    if (c.field().name == name) return &c;
  }
  return nullptr;
}

std::uint16_t Interactions::intern_event_type(std::string_view name) {
  Index code = event_type_names_.find(name);
  if (code != kNoIndex) return static_cast<std::uint16_t>(code);
  TAILOR_THROW_IF(event_type_names_.size() >= kNoEventType, ErrorCode::InvalidArgument,
                  "more than ", kNoEventType, " distinct event types");
  return static_cast<std::uint16_t>(detail::DataAccess::insert(event_type_names_, name));
}

std::size_t Interactions::memory_bytes() const {
  std::size_t bytes = users_.capacity() * sizeof(Index) + items_.capacity() * sizeof(Index) +
                      timestamps_.capacity() * sizeof(std::int64_t) +
                      event_types_.capacity() * sizeof(std::uint16_t) +
                      event_values_.capacity() * sizeof(float) + value_present_.capacity() +
                      event_type_names_.memory_bytes();
  for (const Column& c : extras_) bytes += c.memory_bytes();
  return bytes;
}

void Interactions::reserve(std::size_t rows) {
  users_.reserve(rows);
  items_.reserve(rows);
  timestamps_.reserve(rows);
  event_types_.reserve(rows);
  event_values_.reserve(rows);
  value_present_.reserve(rows);
  for (Column& c : extras_) detail::DataAccess::reserve(c, rows);
}

void Interactions::resize_core(std::size_t rows) {
  users_.resize(rows);
  items_.resize(rows);
  timestamps_.resize(rows);
  event_types_.resize(rows);
  event_values_.resize(rows);
  value_present_.resize(rows);
}

namespace {
template <typename T>
void keep_entries(std::vector<T>& v, const Bitmap& keep) {
  std::size_t next = 0;
  for (std::size_t r = 0; r < v.size(); ++r) {
    if (keep.test(r)) v[next++] = v[r];
  }
  v.resize(next);
  v.shrink_to_fit();  // the tail held the dropped rows
}
}  // namespace

void Interactions::keep_rows(const Bitmap& keep) {
  TAILOR_THROW_IF(keep.size() != size(), ErrorCode::InvalidArgument, "keep_rows: ", keep.size(),
                  " bits for ", size(), " rows");
  keep_entries(users_, keep);
  keep_entries(items_, keep);
  keep_entries(timestamps_, keep);
  keep_entries(event_types_, keep);
  keep_entries(event_values_, keep);
  keep_entries(value_present_, keep);
  for (Column& c : extras_) detail::DataAccess::keep_rows(c, keep);
}

void Interactions::clear() {
  users_.clear();
  items_.clear();
  timestamps_.clear();
  event_types_.clear();
  event_values_.clear();
  value_present_.clear();
  for (Column& c : extras_) detail::DataAccess::clear(c);
  // Event type codes are kept: solutions refer to event types by name, and stable codes keep
  // filters compiled against them valid.
}

}  // namespace tailor
