// SPDX-License-Identifier: MIT
// Filter compilation (type checks against the schemas) and evaluation to item bitmaps.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include "detail/text.hpp"
#include "filters/ast.hpp"
#include "filters/parser.hpp"
#include "tailor/error.hpp"
#include "tailor/filters/filter.hpp"

namespace tailor {

namespace detail {

namespace {

std::string where(std::size_t column) { return "filter expression, column " + std::to_string(column) + ": "; }

std::string name_of(const FieldRef& f) { return std::string(to_string(f.dataset)) + "." + f.field; }

// What a field reference resolves to.
struct Target {
  enum class Kind { ItemColumn, ItemId, EventType, UserColumn } kind = Kind::ItemColumn;
  std::size_t column = 0;  // index into EntityTable::columns()
  Field field;
  bool numeric() const { return field.is_numeric(); }
};

}  // namespace

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
  std::vector<std::string> parameters;  // used by this expression
  bool static_items = false;            // depends only on item metadata and parameters: cacheable
  std::size_t column = 0;
};

struct CompiledFilter {
  std::string expression;
  FilterLimits limits;
  std::vector<CompiledExpression> expressions;
  std::vector<std::string> parameters;
  bool uses_user = false;
  bool uses_item = false;
  // Cache of static expressions' bitmaps, by expression and parameter values, valid for one
  // items_version(). Bounded: when full it is emptied (a cache miss costs one evaluation).
  static constexpr std::size_t kCacheEntries = 256;
  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::pair<std::uint64_t, Bitmap>> cache;
};

namespace {

class Compiler {
 public:
  Compiler(const DatasetGroup& group, CompiledFilter& out) : group_(group), out_(out) {}

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
                        where(cond.column), "an IF condition must be on CurrentUser.<field>, found ",
                        name_of(cond.lhs));
        c.if_conditions.push_back(condition(cond, fields));
      }
      std::set<std::string> mine;
      collect_parameters(c.where, mine);
      for (const CompiledCondition& ic : c.if_conditions) add_parameters(ic.ast, mine);
      c.parameters.assign(mine.begin(), mine.end());
      parameters.insert(mine.begin(), mine.end());
      c.static_items = c.dataset == FilterDataset::Items && c.if_conditions.empty() &&
                       !uses_current_item(c.where);
      if (c.dataset != FilterDataset::Items || !c.if_conditions.empty()) out_.uses_user = true;
      if (uses_current_item(c.where)) out_.uses_item = true;
      out_.expressions.push_back(std::move(c));
    }
    TAILOR_THROW_IF(fields.size() > out_.limits.max_fields, ErrorCode::InvalidArgument,
                    "filter expression uses ", fields.size(), " distinct fields, more than the limit of ",
                    out_.limits.max_fields);
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
      TAILOR_THROW_IF(d == FilterDataset::CurrentUser, ErrorCode::InvalidArgument, where(n.leaf.column),
                      "CurrentUser.", n.leaf.lhs.field,
                      " belongs in an IF clause at the end of the expression (IF CurrentUser.",
                      n.leaf.lhs.field, " ...)");
      TAILOR_THROW_IF(d == FilterDataset::CurrentItem, ErrorCode::InvalidArgument, where(n.leaf.column),
                      "CurrentItem.", n.leaf.lhs.field,
                      " can only stand on the right of a condition (Items.FIELD < CurrentItem.FIELD)");
      if (!dataset) dataset = d;
      TAILOR_THROW_IF(*dataset != d, ErrorCode::InvalidArgument, where(n.leaf.column),
                      "conditions joined by AND/OR must use one dataset, found ", to_string(*dataset),
                      " and ", to_string(d), "; combine them as separate expressions with |");
      c.leaf = condition(n.leaf, fields);
      return c;
    }
    for (const ConditionNode& child : n.children) c.children.push_back(node(child, dataset, fields));
    return c;
  }

  Target resolve(const FieldRef& f) {
    Target t;
    const std::string quoted = name_of(f);
    switch (f.dataset) {
      case FilterDataset::Interactions:
        TAILOR_THROW_IF(f.field != "EVENT_TYPE", ErrorCode::InvalidArgument, where(f.column),
                        "only Interactions.EVENT_TYPE can be filtered, found ", quoted);
        TAILOR_THROW_IF(!group_.schema(DatasetKind::Interactions).find("EVENT_TYPE"),
                        ErrorCode::InvalidArgument, where(f.column),
                        "the Interactions schema has no EVENT_TYPE field");
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
        TAILOR_THROW_IF(!group_.items(), ErrorCode::InvalidArgument, where(f.column), quoted,
                        ": the dataset group has no Items dataset");
        const EntityTable& items = *group_.items();
        t.kind = Target::Kind::ItemColumn;
        return column(items, f, t);
      }
      case FilterDataset::Users:
      case FilterDataset::CurrentUser: {
        TAILOR_THROW_IF(!group_.users(), ErrorCode::InvalidArgument, where(f.column), quoted,
                        ": the dataset group has no Users dataset");
        t.kind = Target::Kind::UserColumn;
        return column(*group_.users(), f, t);
      }
    }
    return t;
  }

  Target column(const EntityTable& table, const FieldRef& f, Target t) {
    const auto& columns = table.columns();
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c].field().name != f.field) continue;
      const Field& field = columns[c].field();
      TAILOR_THROW_IF(field.type == FieldType::Boolean || field.textual, ErrorCode::InvalidArgument,
                      where(f.column), name_of(f), " is a ", field.textual ? "textual" : "boolean",
                      " field; boolean and textual fields cannot be filtered");
      t.column = c;
      t.field = field;
      return t;
    }
    std::string names;
    for (const Column& c : columns) names += (names.empty() ? "" : ", ") + c.field().name;
    TAILOR_THROW(ErrorCode::InvalidArgument, where(f.column), "unknown field ", name_of(f),
                 " (the ", to_string(table.schema().kind()), " schema has ", names, ")");
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
                    to_string(c.op), " needs a numeric field; ", name_of(c.lhs), " is a string field");
    TAILOR_THROW_IF(c.values.size() > out_.limits.max_values, ErrorCode::InvalidArgument,
                    where(c.column), c.values.size(), " values in one list, more than the limit of ",
                    out_.limits.max_values);
    for (const FilterValue& v : c.values) {
      switch (v.kind) {
        case FilterValue::Kind::Number:
          TAILOR_THROW_IF(!numeric, ErrorCode::InvalidArgument, where(v.column), name_of(c.lhs),
                          " is a string field: expected a quoted value, found the number ", v.text);
          break;
        case FilterValue::Kind::String:
          TAILOR_THROW_IF(numeric, ErrorCode::InvalidArgument, where(v.column), name_of(c.lhs),
                          " is a numeric field: expected a number, found the string \"", v.text, "\"");
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

  const DatasetGroup& group_;
  CompiledFilter& out_;
};

// Thrown inside evaluation when an EXCLUDE expression lacks a parameter: the expression is skipped.
struct MissingParameter {
  std::string name;
};

// The values of one condition for this request: strings for string fields, numbers for numeric.
struct BoundValues {
  std::vector<std::string> strings;
  std::vector<double> numbers;
};

class Evaluator {
 public:
  Evaluator(const CompiledFilter& filter, const DatasetGroup& group, const FilterRequest& request)
      : f_(filter), group_(group), request_(request), items_(group.item_ids().size()) {}

  Bitmap run() {
    Bitmap included(items_);
    Bitmap excluded(items_);
    bool any_include = false;
    for (std::size_t k = 0; k < f_.expressions.size(); ++k) {
      const CompiledExpression& e = f_.expressions[k];
      std::optional<Bitmap> result;
      try {
        if (!if_holds(e)) continue;
        result = e.static_items ? cached(k, e) : node(e.where);
      } catch (const MissingParameter& missing) {
        TAILOR_THROW_IF(e.include, ErrorCode::InvalidArgument, "filter parameter $", missing.name,
                        " has no value; an INCLUDE expression needs all of its parameters");
        continue;  // an EXCLUDE expression without its parameter is skipped
      }
      if (e.include) {
        included |= *result;
        any_include = true;
      } else {
        excluded |= *result;
      }
    }
    if (!any_include) included.fill(true);
    included.subtract(excluded);
    return included;
  }

 private:
  // The request's values of a parameter; MissingParameter when it has none.
  const std::vector<std::string>& parameter_values(const std::string& name) const {
    const FilterValues* values = request_.values;
    auto it = values ? values->find(name) : FilterValues::const_iterator();
    if (!values || it == values->end() || it->second.empty()) throw MissingParameter{name};
    return it->second;
  }

  // The cache key of expression k with this request's values of its parameters: each value
  // length-prefixed, so that no two value lists share a key.
  std::string cache_key(std::size_t k, const CompiledExpression& e) const {
    std::string key = std::to_string(k);
    for (const std::string& name : e.parameters) {
      key += ';';
      for (const std::string& v : parameter_values(name)) {
        key += std::to_string(v.size());
        key += ':';
        key += v;
      }
    }
    return key;
  }

  Bitmap cached(std::size_t k, const CompiledExpression& e) {
    const std::uint64_t version = group_.items_version();
    std::string key = cache_key(k, e);
    {
      std::lock_guard<std::mutex> lock(f_.cache_mutex);
      auto it = f_.cache.find(key);
      if (it != f_.cache.end() && it->second.first == version && it->second.second.size() == items_) {
        return it->second.second;
      }
    }
    // Values that break a limit or do not fit their field throw here and are never cached.
    Bitmap b = node(e.where);
    std::lock_guard<std::mutex> lock(f_.cache_mutex);
    if (f_.cache.size() >= CompiledFilter::kCacheEntries) f_.cache.clear();
    f_.cache[std::move(key)] = {version, b};
    return b;
  }

  bool if_holds(const CompiledExpression& e) {
    for (const CompiledCondition& c : e.if_conditions) {
      if (!user_matches(c)) return false;
    }
    return true;
  }

  Bitmap node(const CompiledNode& n) {
    if (n.kind == ConditionNode::Kind::Leaf) return leaf(n.leaf);
    Bitmap acc = node(n.children.front());
    for (std::size_t k = 1; k < n.children.size(); ++k) {
      Bitmap next = node(n.children[k]);
      if (n.kind == ConditionNode::Kind::And) acc &= next;
      else acc |= next;
    }
    return acc;
  }

  BoundValues bind(const CompiledCondition& c) {
    BoundValues out;
    const bool numeric = c.target.numeric();
    auto add = [&](const std::string& s, std::size_t column) {
      if (!numeric) {
        out.strings.push_back(s);
        return;
      }
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      TAILOR_THROW_IF(s.empty() || *end != '\0' || !std::isfinite(v), ErrorCode::InvalidArgument,
                      where(column), name_of(c.ast.lhs), " is numeric: the value \"", s.substr(0, 100),
                      "\" is not a number");
      out.numbers.push_back(v);
    };
    for (const FilterValue& v : c.ast.values) {
      switch (v.kind) {
        case FilterValue::Kind::String: out.strings.push_back(v.text); break;
        case FilterValue::Kind::Number: out.numbers.push_back(v.number); break;
        case FilterValue::Kind::Parameter: {
          const std::vector<std::string>& given = parameter_values(v.text);
          TAILOR_THROW_IF(given.size() > f_.limits.max_values, ErrorCode::InvalidArgument,
                          "filter parameter $", v.text, ": ", given.size(),
                          " values, more than the limit of ", f_.limits.max_values);
          for (const std::string& s : given) {
            TAILOR_THROW_IF(s.size() > f_.limits.max_value_length, ErrorCode::InvalidArgument,
                            "filter parameter $", v.text, ": a value of ", s.size(),
                            " characters, more than the limit of ", f_.limits.max_value_length);
            add(s, v.column);
          }
          break;
        }
        case FilterValue::Kind::CurrentItemField: current_item_values(*c.current_item, out); break;
      }
    }
    const bool ordering = c.ast.op != FilterOp::In && c.ast.op != FilterOp::NotIn && c.ast.op != FilterOp::Eq;
    TAILOR_THROW_IF(ordering && out.numbers.size() > 1, ErrorCode::InvalidArgument, where(c.ast.column),
                    "operator ", to_string(c.ast.op), " compares with one value, found ", out.numbers.size());
    return out;
  }

  void current_item_values(const Target& t, BoundValues& out) {
    const Index item = request_.current_item;
    TAILOR_THROW_IF(item == kNoIndex || item >= items_, ErrorCode::InvalidArgument,
                    "the filter uses CurrentItem, but the request has no (known) item");
    if (t.kind == Target::Kind::ItemId) {
      out.strings.emplace_back(group_.item_ids().name(item));
      return;
    }
    const EntityTable& table = *group_.items();
    const std::uint32_t row = table.row_of(item);
    if (row == EntityTable::kNoRow) return;
    const Column& col = table.columns()[t.column];
    if (col.is_null(row)) return;
    if (t.field.is_numeric()) out.numbers.push_back(col.number_at(row));
    else if (t.field.categorical) {
      for (Index code : col.codes_at(row)) out.strings.emplace_back(col.dictionary().name(code));
    } else {
      out.strings.emplace_back(col.text_at(row));
    }
  }

  static bool compare(FilterOp op, double a, double b) {
    switch (op) {
      case FilterOp::Eq:
      case FilterOp::In: return a == b;
      case FilterOp::NotIn: return a != b;
      case FilterOp::Lt: return a < b;
      case FilterOp::Le: return a <= b;
      case FilterOp::Gt: return a > b;
      case FilterOp::Ge: return a >= b;
    }
    return false;
  }

  // Whether one metadata row satisfies a condition (used for users and for column scans).
  static bool row_matches(const Column& col, std::uint32_t row, FilterOp op, const BoundValues& v) {
    if (row == EntityTable::kNoRow || col.is_null(row)) return false;  // null matches nothing
    if (col.field().is_numeric()) {
      const double x = col.number_at(row);
      if (op == FilterOp::NotIn) {
        return std::none_of(v.numbers.begin(), v.numbers.end(), [&](double n) { return x == n; });
      }
      return std::any_of(v.numbers.begin(), v.numbers.end(), [&](double n) { return compare(op, x, n); });
    }
    auto any_value = [&](std::string_view s) {
      return std::find(v.strings.begin(), v.strings.end(), s) != v.strings.end();
    };
    bool hit = false;
    if (col.field().categorical) {
      for (Index code : col.codes_at(row)) hit = hit || any_value(col.dictionary().name(code));
    } else {
      hit = any_value(col.text_at(row));
    }
    return op == FilterOp::NotIn ? !hit : hit;
  }

  bool user_matches(const CompiledCondition& c) {
    const BoundValues v = bind(c);
    const EntityTable& users = *group_.users();
    const std::uint32_t row = request_.user == kNoIndex ? EntityTable::kNoRow : users.row_of(request_.user);
    return row_matches(users.columns()[c.target.column], row, c.ast.op, v);
  }

  Bitmap leaf(const CompiledCondition& c) {
    const BoundValues v = bind(c);
    Bitmap out(items_);
    switch (c.target.kind) {
      case Target::Kind::UserColumn:
        if (user_matches(c)) out.fill(true);
        return out;
      case Target::Kind::ItemId: {
        for (const std::string& id : v.strings) {
          const Index i = group_.item_ids().find(id);
          if (i != kNoIndex) out.set(i);
        }
        if (c.ast.op == FilterOp::NotIn) {
          Bitmap all(items_, true);
          all.subtract(out);
          return all;
        }
        return out;
      }
      case Target::Kind::EventType: return event_types(c, v);
      case Target::Kind::ItemColumn: break;
    }
    const EntityTable& table = *group_.items();
    const Column& col = table.columns()[c.target.column];
    if (col.field().categorical && (c.ast.op == FilterOp::In || c.ast.op == FilterOp::Eq)) {
      // Inverted index: union of the posting lists of the listed values.
      for (const std::string& s : v.strings) {
        const Index code = col.dictionary().find(s);
        if (code == kNoIndex) continue;
        for (Index item : table.entities_with(c.target.column, code)) {
          if (item < items_) out.set(item);
        }
      }
      return out;
    }
    // Column scan over the items that have metadata.
    const Index n = std::min<Index>(items_, group_.item_ids().size());
    if (col.field().is_numeric() && c.ast.op != FilterOp::NotIn && v.numbers.size() == 1) {
      // The common case (PRICE < x): one comparison per item, no list walk.
      const double bound = v.numbers[0];
      // The operator is chosen once, outside the loop, so the loop body is one comparison.
      auto scan = [&](auto matches) {
        for (Index item = 0; item < n; ++item) {
          const std::uint32_t row = table.row_of(item);
          if (row != EntityTable::kNoRow && !col.is_null(row)) out.set_if(item, matches(col.number_at(row)));
        }
      };
      switch (c.ast.op) {
        case FilterOp::Lt: scan([bound](double x) { return x < bound; }); break;
        case FilterOp::Le: scan([bound](double x) { return x <= bound; }); break;
        case FilterOp::Gt: scan([bound](double x) { return x > bound; }); break;
        case FilterOp::Ge: scan([bound](double x) { return x >= bound; }); break;
        default: scan([bound](double x) { return x == bound; }); break;
      }
      return out;
    }
    for (Index item = 0; item < n; ++item) {
      if (row_matches(col, table.row_of(item), c.ast.op, v)) out.set(item);
    }
    return out;
  }

  // Items the current user interacted with, with an event type that matches, among the most
  // recent `interactions_per_event_type` events of each type (all of them when that is 0).
  Bitmap event_types(const CompiledCondition& c, const BoundValues& v) {
    Bitmap out(items_);
    if (request_.user == kNoIndex) return out;
    const Interactions& in = group_.interactions();
    const IdMap& names = in.event_type_names();
    bool wildcard = false;
    std::set<std::string> wanted;
    for (const std::string& s : v.strings) {
      if (s == "*") wildcard = true;
      else wanted.insert(to_lower(s));
    }
    // Per event-type code: does it match the list?
    std::vector<char> listed(static_cast<std::size_t>(names.size()) + 1, 0);
    for (Index t = 0; t < names.size(); ++t) listed[t] = wanted.count(to_lower(names.name(t))) > 0;
    const std::size_t none = names.size();  // events without a type
    std::vector<std::size_t> seen(static_cast<std::size_t>(names.size()) + 1, 0);
    Span<std::uint32_t> history = group_.interaction_rows_of(request_.user);
    std::vector<std::uint32_t> rows(history.begin(), history.end());
    const std::size_t cap = f_.limits.interactions_per_event_type == 0
                                ? std::numeric_limits<std::size_t>::max()
                                : f_.limits.interactions_per_event_type;
    if (rows.size() > cap) {
      // The bound keeps the most recent events: order by time (imports need not be in time order).
      std::stable_sort(rows.begin(), rows.end(), [&](std::uint32_t a, std::uint32_t b) {
        return in.timestamps()[a] < in.timestamps()[b];
      });
    }
    for (std::size_t k = rows.size(); k-- > 0;) {  // newest first
      const std::uint32_t row = rows[k];
      const std::uint16_t code = in.event_types()[row];
      const std::size_t t = code == kNoEventType ? none : code;
      if (seen[t]++ >= cap) continue;
      const bool match = wildcard || (t != none && listed[t]);
      const bool keep = c.ast.op == FilterOp::NotIn ? !match : match;
      if (keep && in.items()[row] < items_) out.set(in.items()[row]);
    }
    return out;
  }

  const CompiledFilter& f_;
  const DatasetGroup& group_;
  const FilterRequest& request_;
  std::size_t items_;
};

}  // namespace
}  // namespace detail

std::vector<std::string> parse_filter_value_list(std::string_view wire) {
  std::vector<std::string> out;
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < wire.size() && std::isspace(static_cast<unsigned char>(wire[i]))) ++i;
  };
  skip_space();
  if (i < wire.size() && wire[i] != '"') {
    // A bare value: the whole text, as is.
    out.emplace_back(wire);
    return out;
  }
  while (i < wire.size()) {
    skip_space();
    TAILOR_THROW_IF(i >= wire.size() || wire[i] != '"', ErrorCode::InvalidArgument,
                    "filter values: expected a quoted value at character ", i + 1);
    ++i;
    std::string value;
    bool closed = false;
    while (i < wire.size()) {
      if (wire[i] == '\\' && i + 1 < wire.size()) {
        value.push_back(wire[i + 1]);
        i += 2;
      } else if (wire[i] == '"') {
        closed = true;
        ++i;
        break;
      } else {
        value.push_back(wire[i++]);
      }
    }
    TAILOR_THROW_IF(!closed, ErrorCode::InvalidArgument, "filter values: unterminated quoted value");
    out.push_back(std::move(value));
    skip_space();
    if (i < wire.size()) {
      TAILOR_THROW_IF(wire[i] != ',', ErrorCode::InvalidArgument,
                      "filter values: expected ',' between values at character ", i + 1);
      ++i;
    }
  }
  return out;
}

Filter::Filter(std::shared_ptr<detail::CompiledFilter> impl) : impl_(std::move(impl)) {}

Filter Filter::compile(std::string_view expression, const DatasetGroup& group, const FilterLimits& limits) {
  TAILOR_THROW_IF(expression.size() > limits.max_expression_length, ErrorCode::InvalidArgument,
                  "filter expression of ", expression.size(), " characters, more than the limit of ",
                  limits.max_expression_length);
  auto impl = std::make_shared<detail::CompiledFilter>();
  impl->expression = std::string(expression);
  impl->limits = limits;
  detail::Compiler(group, *impl).compile(detail::parse_filter(expression));
  return Filter(std::move(impl));
}

Bitmap Filter::evaluate(const DatasetGroup& group, const FilterRequest& request) const {
  return detail::Evaluator(*impl_, group, request).run();
}

const std::string& Filter::expression() const { return impl_->expression; }
const std::vector<std::string>& Filter::parameters() const { return impl_->parameters; }
bool Filter::uses_current_user() const { return impl_->uses_user; }
bool Filter::uses_current_item() const { return impl_->uses_item; }

}  // namespace tailor
