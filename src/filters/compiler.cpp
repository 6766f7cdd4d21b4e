// SPDX-License-Identifier: MIT
// Filter compilation: field resolution and type checks against the schemas, and limits.
#include "filters/compiler.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "filters/parser.hpp"
#include "tailor/error.hpp"
#include "tailor/filters/filter.hpp"

namespace tailor {

namespace detail {

namespace {

class Compiler {
 public:
  Compiler(const FilterSchemas& schemas, CompiledFilter& out) : schemas_(schemas), out_(out) {}

  void compile(const FilterAst& ast) {
    std::set<std::string> fields, parameters;
    for (const FilterExpression& e : ast.expressions) {
      CompiledExpression c;
      c.include = e.include;
      c.column = e.column;
      std::optional<FilterDataset> dataset;
      c.where = node(e.where, dataset, fields);
      c.dataset = *dataset;
      for (const Condition& cond : e.if_conditions) {
        TAILOR_THROW_IF(cond.lhs.dataset != FilterDataset::CurrentUser, ErrorCode::InvalidArgument,
                        where(cond.column),
                        "an IF condition must be on CurrentUser.<field>, found ",
                        name_of(cond.lhs));
        c.if_conditions.push_back(condition(cond, fields));
      }
      std::set<std::string> mine, in_if;
      for (const CompiledCondition& ic : c.if_conditions) add_parameters(ic.ast, in_if);
      c.if_parameters.assign(in_if.begin(), in_if.end());
      collect_parameters(c.where, mine);
      mine.insert(in_if.begin(), in_if.end());
      c.parameters.assign(mine.begin(), mine.end());
      parameters.insert(mine.begin(), mine.end());
      c.static_items = c.dataset == FilterDataset::Items && c.if_conditions.empty() &&
                       !uses_current_item(c.where);
      if (c.dataset != FilterDataset::Items || !c.if_conditions.empty()) out_.uses_user = true;
      if (uses_current_item(c.where)) out_.uses_item = true;
      out_.expressions.push_back(std::move(c));
    }
    TAILOR_THROW_IF(fields.size() > out_.limits.max_fields, ErrorCode::InvalidArgument,
                    "filter expression uses ", fields.size(),
                    " distinct fields, more than the limit of ", out_.limits.max_fields);
    TAILOR_THROW_IF(parameters.size() > out_.limits.max_parameters, ErrorCode::InvalidArgument,
                    "filter expression uses ", parameters.size(),
                    " parameters, more than the limit of ", out_.limits.max_parameters);
    out_.parameters.assign(parameters.begin(), parameters.end());
  }

 private:
  CompiledNode node(const ConditionNode& n, std::optional<FilterDataset>& dataset,
                    std::set<std::string>& fields) {
    CompiledNode c;
    c.kind = n.kind;
    if (n.kind == ConditionNode::Kind::Leaf) {
      const FilterDataset d = n.leaf.lhs.dataset;
      TAILOR_THROW_IF(d == FilterDataset::CurrentUser, ErrorCode::InvalidArgument,
                      where(n.leaf.column), "CurrentUser.", n.leaf.lhs.field,
                      " belongs in an IF clause at the end of the expression (IF CurrentUser.",
                      n.leaf.lhs.field, " ...)");
      TAILOR_THROW_IF(
          d == FilterDataset::CurrentItem, ErrorCode::InvalidArgument, where(n.leaf.column),
          "CurrentItem.", n.leaf.lhs.field,
          " can only stand on the right of a condition (Items.FIELD < CurrentItem.FIELD)");
      if (!dataset) dataset = d;
      TAILOR_THROW_IF(*dataset != d, ErrorCode::InvalidArgument, where(n.leaf.column),
                      "conditions joined by AND/OR must use one dataset, found ",
                      to_string(*dataset), " and ", to_string(d),
                      "; combine them as separate expressions with |");
      c.leaf = condition(n.leaf, fields);
      return c;
    }
    for (const ConditionNode& child : n.children)
      c.children.push_back(node(child, dataset, fields));
    return c;
  }

  Target resolve(const FieldRef& f) {
    Target t;
    const std::string quoted = name_of(f);
    switch (f.dataset) {
      case FilterDataset::Interactions:
        TAILOR_THROW_IF(f.field != "EVENT_TYPE", ErrorCode::InvalidArgument, where(f.column),
                        "only Interactions.EVENT_TYPE can be filtered, found ", quoted);
        TAILOR_THROW_IF(!schemas_.interactions.find("EVENT_TYPE"), ErrorCode::InvalidArgument,
                        where(f.column), "the Interactions schema has no EVENT_TYPE field");
        t.kind = Target::Kind::EventType;
        t.field.name = "EVENT_TYPE";
        return t;
      case FilterDataset::Items:
      case FilterDataset::CurrentItem: {
        if (f.field == "ITEM_ID") {
          t.kind = Target::Kind::ItemId;
          t.field.name = "ITEM_ID";
          return t;
        }
        TAILOR_THROW_IF(!schemas_.items, ErrorCode::InvalidArgument, where(f.column), quoted,
                        ": the dataset group has no Items dataset");
        t.kind = Target::Kind::ItemColumn;
        return column(*schemas_.items, f, t);
      }
      case FilterDataset::Users:
      case FilterDataset::CurrentUser: {
        TAILOR_THROW_IF(!schemas_.users, ErrorCode::InvalidArgument, where(f.column), quoted,
                        ": the dataset group has no Users dataset");
        t.kind = Target::Kind::UserColumn;
        return column(*schemas_.users, f, t);
      }
    }
    return t;
  }

  // A Users or Items field: its column is its position among the schema's fields without the id
  // field, as an EntityTable built from the schema lays out its columns().
  Target column(const Schema& schema, const FieldRef& f, Target t) {
    const std::string id = schema.kind() == DatasetKind::Users ? "USER_ID" : "ITEM_ID";
    std::size_t c = 0;
    std::string names;
    for (const Field& field : schema.fields()) {
      if (field.name == id) continue;
      if (field.name == f.field) {
        TAILOR_THROW_IF(field.type == FieldType::Boolean || field.textual,
                        ErrorCode::InvalidArgument, where(f.column), name_of(f), " is a ",
                        field.textual ? "textual" : "boolean",
                        " field; boolean and textual fields cannot be filtered");
        t.column = c;
        t.field = field;
        return t;
      }
      names += (names.empty() ? "" : ", ") + field.name;
      ++c;
    }
    TAILOR_THROW(ErrorCode::InvalidArgument, where(f.column), "unknown field ", name_of(f),
                 " (the ", to_string(schema.kind()), " schema has ", names, ")");
  }

  CompiledCondition condition(const Condition& c, std::set<std::string>& fields) {
    CompiledCondition out;
    out.ast = c;
    out.target = resolve(c.lhs);
    fields.insert(name_of(c.lhs));
    const bool numeric = out.target.numeric();
    const bool ordering = c.op == FilterOp::Lt || c.op == FilterOp::Le || c.op == FilterOp::Gt ||
                          c.op == FilterOp::Ge;
    TAILOR_THROW_IF(ordering && !numeric, ErrorCode::InvalidArgument, where(c.column), "operator ",
                    to_string(c.op), " needs a numeric field; ", name_of(c.lhs),
                    " is a string field");
    TAILOR_THROW_IF(c.values.size() > out_.limits.max_values, ErrorCode::InvalidArgument,
                    where(c.column), c.values.size(),
                    " values in one list, more than the limit of ", out_.limits.max_values);
    for (const FilterValue& v : c.values) {
      switch (v.kind) {
        case FilterValue::Kind::Number:
          TAILOR_THROW_IF(!numeric, ErrorCode::InvalidArgument, where(v.column), name_of(c.lhs),
                          " is a string field: expected a quoted value, found the number ", v.text);
          break;
        case FilterValue::Kind::String:
          TAILOR_THROW_IF(numeric, ErrorCode::InvalidArgument, where(v.column), name_of(c.lhs),
                          " is a numeric field: expected a number, found the string \"", v.text,
                          "\"");
          break;
        case FilterValue::Kind::Parameter:
          break;
        case FilterValue::Kind::CurrentItemField: {
          TAILOR_THROW_IF(c.lhs.dataset != FilterDataset::Items, ErrorCode::InvalidArgument,
                          where(v.column), "CurrentItem.", v.field.field,
                          " can only be compared with an Items field");
          Target t = resolve(v.field);
          fields.insert(name_of(v.field));
          TAILOR_THROW_IF(t.numeric() != numeric, ErrorCode::InvalidArgument, where(v.column),
                          name_of(c.lhs), " and ", name_of(v.field),
                          " differ in type (one is numeric, the other a string)");
          out.current_item = t;
          break;
        }
      }
    }
    return out;
  }

  static void add_parameters(const Condition& c, std::set<std::string>& out) {
    for (const FilterValue& v : c.values) {
      if (v.kind == FilterValue::Kind::Parameter) out.insert(v.text);
    }
  }
  static void collect_parameters(const CompiledNode& n, std::set<std::string>& out) {
    if (n.kind == ConditionNode::Kind::Leaf) add_parameters(n.leaf.ast, out);
    for (const CompiledNode& child : n.children) collect_parameters(child, out);
  }
  static bool uses_current_item(const CompiledNode& n) {
    if (n.kind == ConditionNode::Kind::Leaf) return n.leaf.current_item.has_value();
    return std::any_of(n.children.begin(), n.children.end(),
                       [](const CompiledNode& c) { return uses_current_item(c); });
  }

  const FilterSchemas& schemas_;
  CompiledFilter& out_;
};

}  // namespace

void compile_plan(const FilterAst& ast, const FilterSchemas& schemas, CompiledFilter& out) {
  Compiler(schemas, out).compile(ast);
}

}  // namespace detail

Filter::Filter(std::shared_ptr<detail::CompiledFilter> impl) : impl_(std::move(impl)) {}

FilterSchemas FilterSchemas::of(const DatasetGroup& group) {
  FilterSchemas out{group.schema(DatasetKind::Interactions), std::nullopt, std::nullopt};
  if (group.users()) out.users = group.users()->schema();
  if (group.items()) out.items = group.items()->schema();
  return out;
}

Filter Filter::compile(std::string_view expression, const DatasetGroup& group,
                       const FilterLimits& limits) {
  return compile(expression, FilterSchemas::of(group), limits);
}

Filter Filter::compile(std::string_view expression, const FilterSchemas& schemas,
                       const FilterLimits& limits) {
  TAILOR_THROW_IF(expression.size() > limits.max_expression_length, ErrorCode::InvalidArgument,
                  "filter expression of ", expression.size(),
                  " characters, more than the limit of ", limits.max_expression_length);
  auto impl = std::make_shared<detail::CompiledFilter>(schemas);
  impl->expression = std::string(expression);
  impl->limits = limits;
  detail::compile_plan(detail::parse_filter(expression), schemas, *impl);
  return Filter(std::move(impl));
}

const std::string& Filter::expression() const { return impl_->expression; }
const std::vector<std::string>& Filter::parameters() const { return impl_->parameters; }
bool Filter::uses_current_user() const { return impl_->uses_user; }
bool Filter::uses_current_item() const { return impl_->uses_item; }

}  // namespace tailor
