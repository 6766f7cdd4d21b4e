// SPDX-License-Identifier: MIT
// Filters: Personalize's filter expression language, compiled once, evaluated per request to a
// bitmap of the items a recommendation may contain.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/bitmap.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/export.hpp"
#include "tailor/types.hpp"

namespace tailor {

namespace detail {
struct CompiledFilter;
}

/// Documented limits of filters; going past one is a clear error.
struct FilterLimits {
  std::size_t max_expression_length = 2500;  ///< characters
  std::size_t max_fields = 5;                ///< distinct Dataset.FIELD references per filter
  std::size_t max_parameters = 25;           ///< distinct $PARAMETERs per filter
  std::size_t max_values = 100;              ///< values in one IN list or one parameter
  std::size_t max_value_length = 1000;       ///< characters of one parameter value
  /// A user's interactions a filter considers: the most recent this many per event type.
  /// 0 (the default) means no cap: every interaction counts. Personalize's cap is 100
  /// (kPersonalizeInteractionsPerEventType).
  std::size_t interactions_per_event_type = 0;

  /// Personalize's cap on the interactions per user and event type a filter considers.
  static constexpr std::size_t kPersonalizeInteractionsPerEventType = 100;
};

/// Parameter values by name (without the $). Values are data: they are matched literally and
/// never parsed as expression text.
using FilterValues = std::map<std::string, std::vector<std::string>, std::less<>>;

/// Parses one parameter's values in Personalize's wire form, `"\"v1\",\"v2\""` (each value
/// quoted, comma-separated; \" and \\ escape). A bare value without quotes is one value.
/// @throws tailor::Error(InvalidArgument) for an unterminated quote or text between values
TAILOR_EXPORT std::vector<std::string> parse_filter_value_list(std::string_view wire);

/// The schemas a filter is compiled against: those a DatasetGroup is built from.
struct TAILOR_EXPORT FilterSchemas {
  Schema interactions;
  std::optional<Schema> users;  ///< absent when there is no Users dataset
  std::optional<Schema> items;  ///< absent when there is no Items dataset

  /// The schemas of `group` (copies: schemas never change, so this needs no lock on the group).
  static FilterSchemas of(const DatasetGroup& group);
};

/// What a filter is evaluated for.
struct FilterRequest {
  Index user = kNoIndex;          ///< the current user (Interactions, Users and IF conditions)
  Index current_item = kNoIndex;  ///< the item of a similar-items request (CurrentItem)
  const FilterValues* values = nullptr;
};

/// A compiled filter expression.
///
/// Semantics: `|` joins expressions; the result is (union of the INCLUDE expressions, or every
/// item when there is none) minus (union of the EXCLUDE expressions). An expression whose IF
/// condition fails, or an EXCLUDE expression missing a parameter value, is skipped; an INCLUDE
/// expression missing one is an error. Categorical fields match when any of their values
/// matches; a null value matches no condition (IN, NOT IN and comparisons alike); event types
/// match case-insensitively and "*" matches every event; everything else is case-sensitive.
///
/// Thread safety: evaluate() is safe to call concurrently (results that depend only on item
/// metadata and parameter values are cached internally, per group, under a lock), provided the
/// DatasetGroup is not mutated during the call.
class TAILOR_EXPORT Filter {
 public:
  /// Compiles `expression` against the group's schemas.
  /// @throws tailor::Error(ParseError) for bad syntax, with the column, the offending text and
  ///         what was expected; Error(InvalidArgument) for unknown fields, wrong types for an
  ///         operator, and limits
  static Filter compile(std::string_view expression, const DatasetGroup& group,
                        const FilterLimits& limits = {});
  /// Compiles `expression` against schemas alone: it reads no group, so it needs no lock on one.
  /// The filter may then be evaluated against any group built from these schemas.
  /// @throws as compile(expression, group, limits)
  static Filter compile(std::string_view expression, const FilterSchemas& schemas,
                        const FilterLimits& limits = {});

  /// The allowed items: a bitmap over the group's item indices [0, item_ids().size()).
  /// @throws tailor::Error(InvalidArgument) when an INCLUDE expression lacks a parameter value, a
  ///         value breaks a limit or does not fit its field, CurrentItem is used without an item,
  ///         or the group lacks a dataset or field of the schemas the filter was compiled against
  Bitmap evaluate(const DatasetGroup& group, const FilterRequest& request) const;

  const std::string& expression() const;
  /// The parameter names the expression uses (without $), sorted.
  const std::vector<std::string>& parameters() const;
  /// Whether the result depends on the current user (Interactions, Users, CurrentUser).
  bool uses_current_user() const;
  /// Whether the expression refers to CurrentItem.
  bool uses_current_item() const;

 private:
  explicit Filter(std::shared_ptr<detail::CompiledFilter> impl);
  std::shared_ptr<detail::CompiledFilter> impl_;
};

}  // namespace tailor
