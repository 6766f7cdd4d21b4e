// SPDX-License-Identifier: MIT
// Filter compilation (private): the syntax tree resolved against a group's schemas, type-checked
// and limit-checked, into the plan the evaluator runs.
#pragma once

#include "filters/ast.hpp"
#include "filters/plan.hpp"
#include "tailor/data/dataset_group.hpp"

namespace tailor::detail {

/// Fills `out`'s expressions, parameters and flags from `ast`, resolving fields against the
/// group's schemas; `out.limits` must be set.
/// @throws tailor::Error(InvalidArgument) for unknown fields, wrong types and broken limits
void compile_plan(const FilterAst& ast, const DatasetGroup& group, CompiledFilter& out);

}  // namespace tailor::detail
