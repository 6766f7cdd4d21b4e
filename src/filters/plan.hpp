// SPDX-License-Identifier: MIT
// The compiled form of a filter (private): what the compiler builds from the syntax tree and the
// evaluator runs per request.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "filters/ast.hpp"
#include "tailor/bitmap.hpp"
#include "tailor/filters/filter.hpp"
#include "tailor/schema/schema.hpp"

namespace tailor::detail {

/// The prefix of a message about the expression text at a 1-based column.
inline std::string where(std::size_t column) {
  return "filter expression, column " + std::to_string(column) + ": ";
}

/// A field reference as written: "Dataset.FIELD".
inline std::string name_of(const FieldRef& f) {
  return std::string(to_string(f.dataset)) + "." + f.field;
}

/// What a field reference resolves to.
struct Target {
  enum class Kind { ItemColumn, ItemId, EventType, UserColumn } kind = Kind::ItemColumn;
  std::size_t column = 0;  // index into EntityTable::columns()
  Field field;
  bool numeric() const { return field.is_numeric(); }
};

struct CompiledCondition {
  Condition ast;
  Target target;
  std::optional<Target> current_item;  // for values that are CurrentItem.FIELD (all the same field)
};

struct CompiledNode {
  ConditionNode::Kind kind = ConditionNode::Kind::Leaf;
  CompiledCondition leaf;
  std::vector<CompiledNode> children;
};

struct CompiledExpression {
  bool include = true;
  FilterDataset dataset = FilterDataset::Items;  // of the WHERE conditions
  CompiledNode where;
  std::vector<CompiledCondition> if_conditions;
  std::vector<std::string> parameters;     // used by this expression, sorted
  std::vector<std::string> if_parameters;  // used by its IF conditions, sorted
  bool static_items = false;  // depends only on item metadata and parameters: cacheable
  std::size_t column = 0;
};

struct CompiledFilter {
  explicit CompiledFilter(FilterSchemas compiled_against) : schemas(std::move(compiled_against)) {}

  std::string expression;
  FilterLimits limits;
  FilterSchemas schemas;  // what it was compiled against
  // The last group whose schemas were found to match (identity()), so that the check runs once
  // per group, not once per request; 0 names no group.
  mutable std::atomic<std::uint64_t> matching_group{0};
  std::vector<CompiledExpression> expressions;
  std::vector<std::string> parameters;
  bool uses_user = false;
  bool uses_item = false;
  // Cache of static expressions' bitmaps, by group identity, expression and parameter values,
  // valid for one items_version(). Bounded: when full it is emptied (a miss costs an evaluation).
  static constexpr std::size_t kCacheEntries = 256;
  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::pair<std::uint64_t, Bitmap>> cache;
};

}  // namespace tailor::detail
