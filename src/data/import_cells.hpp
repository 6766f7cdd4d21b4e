// SPDX-License-Identifier: MIT
// One CSV value of a bulk import: converted and checked for its schema field, then appended to a
// staged column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/data/dataset_group.hpp"

namespace tailor::detail {

// What a schema field is for the importer.
enum class Role { UserId, ItemId, Timestamp, EventType, EventValue, Column };

struct FieldPlan {
  const Field* field = nullptr;
  Role role = Role::Column;
  int csv_column = -1;  // -1: absent from the file (the field is nullable)
  int column = -1;      // index into the staged / target columns for Role::Column
};

struct Cell {
  bool null = false;
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string_view s;
};

// Converts one raw CSV value for `field`. Returns false with `reason` set when it is invalid.
// `check_bytes`: the chunk holds invalid UTF-8 or a NUL byte, so each value is checked.
bool convert(const FieldPlan& plan, std::string_view raw, bool check_bytes, Cell& out,
             std::string& reason);

// Appends a converted cell to a staged column; a categorical value is split on '|'.
void append_cell(Column& column, const Cell& cell, std::vector<Index>& scratch);

}  // namespace tailor::detail
