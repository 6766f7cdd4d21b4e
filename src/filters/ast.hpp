// SPDX-License-Identifier: MIT
// The filter expression syntax tree (private: callers only see a compiled Filter).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tailor::detail {

enum class FilterDataset { Items, Interactions, Users, CurrentUser, CurrentItem };

const char* to_string(FilterDataset d);

struct FieldRef {
  FilterDataset dataset = FilterDataset::Items;
  std::string field;
  std::size_t column = 0;  // 1-based position in the expression, for messages
};

struct FilterValue {
  enum class Kind { String, Number, Parameter, CurrentItemField } kind = Kind::String;
  std::string text;  // string literal, parameter name (without $), or the number as written
  double number = 0;
  FieldRef field;  // CurrentItemField
  std::size_t column = 0;
};

enum class FilterOp { In, NotIn, Eq, Lt, Le, Gt, Ge };

const char* to_string(FilterOp op);

struct Condition {
  FieldRef lhs;
  FilterOp op = FilterOp::In;
  std::vector<FilterValue> values;
  std::size_t column = 0;
};

struct ConditionNode {
  enum class Kind { Leaf, And, Or } kind = Kind::Leaf;
  Condition leaf;
  std::vector<ConditionNode> children;
};

struct FilterExpression {
  bool include = true;
  ConditionNode where;
  std::vector<Condition> if_conditions;  // all must hold (joined by AND)
  std::size_t column = 0;
};

struct FilterAst {
  std::vector<FilterExpression> expressions;  // joined by |
};

}  // namespace tailor::detail
