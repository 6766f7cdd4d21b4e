// SPDX-License-Identifier: MIT
// Filter evaluation: a compiled plan run per request into an item bitmap, with its cache.
#include "filters/evaluator.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "detail/text.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace detail {

namespace {

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
      // An expression without a value for one of its parameters: an INCLUDE one is an error, an
      // EXCLUDE one is skipped. Its IF conditions are looked at first, as they are evaluated first.
      if (lacks_parameter(e, e.if_parameters)) continue;
      if (!if_holds(e)) continue;
      if (lacks_parameter(e, e.parameters)) continue;
      std::optional<Bitmap> result = e.static_items ? cached(k, e) : node(e.where);
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
  // The request's values of a parameter, or nullptr when it has none.
  const std::vector<std::string>* find_values(const std::string& name) const {
    const FilterValues* values = request_.values;
    auto it = values ? values->find(name) : FilterValues::const_iterator();
    return !values || it == values->end() || it->second.empty() ? nullptr : &it->second;
  }

  // Whether one of `names` has no value (true skips an EXCLUDE expression; an INCLUDE one throws).
  bool lacks_parameter(const CompiledExpression& e, const std::vector<std::string>& names) const {
    for (const std::string& name : names) {
      if (find_values(name)) continue;
      TAILOR_THROW_IF(e.include, ErrorCode::InvalidArgument, "filter parameter $", name,
                      " has no value; an INCLUDE expression needs all of its parameters");
      return true;
    }
    return false;
  }

  // The values of a parameter known to have some (lacks_parameter() ran first).
  const std::vector<std::string>& parameter_values(const std::string& name) const {
    const std::vector<std::string>* values = find_values(name);
    TAILOR_THROW_IF(!values, ErrorCode::Internal, "filter parameter $", name, " was not checked");
    return *values;
  }

  // The cache key of expression k for this group with this request's values of its parameters:
  // each value length-prefixed, so that no two value lists share a key. The group's identity
  // keeps groups apart, since two groups can have the same items_version() with different items.
  std::string cache_key(std::size_t k, const CompiledExpression& e) const {
    std::string key = std::to_string(group_.identity()) + '/' + std::to_string(k);
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
      if (it != f_.cache.end() && it->second.first == version &&
          it->second.second.size() == items_) {
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
      if (n.kind == ConditionNode::Kind::And)
        acc &= next;
      else
        acc |= next;
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
                      where(column), name_of(c.ast.lhs), " is numeric: the value \"",
                      s.substr(0, 100), "\" is not a number");
      out.numbers.push_back(v);
    };
    for (const FilterValue& v : c.ast.values) {
      switch (v.kind) {
        case FilterValue::Kind::String:
          out.strings.push_back(v.text);
          break;
        case FilterValue::Kind::Number:
          out.numbers.push_back(v.number);
          break;
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
        case FilterValue::Kind::CurrentItemField:
          current_item_values(*c.current_item, out);
          break;
      }
    }
    const bool ordering =
        c.ast.op != FilterOp::In && c.ast.op != FilterOp::NotIn && c.ast.op != FilterOp::Eq;
    TAILOR_THROW_IF(ordering && out.numbers.size() > 1, ErrorCode::InvalidArgument,
                    where(c.ast.column), "operator ", to_string(c.ast.op),
                    " compares with one value, found ", out.numbers.size());
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
    if (t.field.is_numeric())
      out.numbers.push_back(col.number_at(row));
    else if (t.field.categorical) {
      for (Index code : col.codes_at(row)) out.strings.emplace_back(col.dictionary().name(code));
    } else {
      out.strings.emplace_back(col.text_at(row));
    }
  }

  static bool compare(FilterOp op, double a, double b) {
    switch (op) {
      case FilterOp::Eq:
      case FilterOp::In:
        return a == b;
      case FilterOp::NotIn:
        return a != b;
      case FilterOp::Lt:
        return a < b;
      case FilterOp::Le:
        return a <= b;
      case FilterOp::Gt:
        return a > b;
      case FilterOp::Ge:
        return a >= b;
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
      return std::any_of(v.numbers.begin(), v.numbers.end(),
                         [&](double n) { return compare(op, x, n); });
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
    const std::uint32_t row =
        request_.user == kNoIndex ? EntityTable::kNoRow : users.row_of(request_.user);
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
      case Target::Kind::EventType:
        return event_types(c, v);
      case Target::Kind::ItemColumn:
        break;
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
          if (row != EntityTable::kNoRow && !col.is_null(row))
            out.set_if(item, matches(col.number_at(row)));
        }
      };
      switch (c.ast.op) {
        case FilterOp::Lt:
          scan([bound](double x) { return x < bound; });
          break;
        case FilterOp::Le:
          scan([bound](double x) { return x <= bound; });
          break;
        case FilterOp::Gt:
          scan([bound](double x) { return x > bound; });
          break;
        case FilterOp::Ge:
          scan([bound](double x) { return x >= bound; });
          break;
        default:
          scan([bound](double x) { return x == bound; });
          break;
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
      if (s == "*")
        wildcard = true;
      else
        wanted.insert(to_lower(s));
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

namespace {

// Whether `group` has every dataset the filter was compiled with, with the same fields (names,
// types, categorical, textual): the compiled plan indexes columns by them.
bool same_fields(const Schema& compiled, const Schema& actual) {
  const std::vector<Field>& a = compiled.fields();
  const std::vector<Field>& b = actual.fields();
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Field& x, const Field& y) {
    return x.name == y.name && x.type == y.type && x.categorical == y.categorical &&
           x.textual == y.textual;
  });
}

void check_schemas(const CompiledFilter& filter, const DatasetGroup& group) {
  if (filter.matching_group.load(std::memory_order_acquire) == group.identity()) return;
  const FilterSchemas& s = filter.schemas;
  const bool fits =
      same_fields(s.interactions, group.schema(DatasetKind::Interactions)) &&
      (!s.users || (group.users() && same_fields(*s.users, group.users()->schema()))) &&
      (!s.items || (group.items() && same_fields(*s.items, group.items()->schema())));
  TAILOR_THROW_IF(!fits, ErrorCode::InvalidArgument, "filter \"", filter.expression,
                  "\" was compiled against other schemas than this group's: compile it against "
                  "the schemas of the group it is evaluated on");
  filter.matching_group.store(group.identity(), std::memory_order_release);
}

}  // namespace

Bitmap evaluate_plan(const CompiledFilter& filter, const DatasetGroup& group,
                     const FilterRequest& request) {
  check_schemas(filter, group);
  return Evaluator(filter, group, request).run();
}

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
    TAILOR_THROW_IF(!closed, ErrorCode::InvalidArgument,
                    "filter values: unterminated quoted value");
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

Bitmap Filter::evaluate(const DatasetGroup& group, const FilterRequest& request) const {
  return detail::evaluate_plan(*impl_, group, request);
}

}  // namespace tailor
