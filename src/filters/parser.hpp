// SPDX-License-Identifier: MIT
// Filter expression parser: tokens to syntax tree. Type checks happen in the evaluator's compile.
#pragma once

#include <string_view>

#include "filters/ast.hpp"

namespace tailor::detail {

/// Parses a filter expression. Throws Error(ParseError) with the column, the offending text and
/// what was expected.
FilterAst parse_filter(std::string_view expression);

}  // namespace tailor::detail
