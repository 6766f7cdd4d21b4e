// SPDX-License-Identifier: MIT
// Filter compilation (private): the syntax tree resolved against the schemas, type-checked
// and limit-checked, into the plan the evaluator runs.
#pragma once

#include "filters/ast.hpp"
#include "filters/plan.hpp"
#include "tailor/filters/filter.hpp"

namespace tailor::detail {

/// Fills `out`'s expressions, parameters and flags from `ast`, resolving fields against the
/// schemas; `out.limits` must be set.
/// @throws tailor::Error(InvalidArgument) for unknown fields, wrong types and broken limits
void compile_plan(const FilterAst& ast, const FilterSchemas& schemas, CompiledFilter& out);

}  // namespace tailor::detail
