// SPDX-License-Identifier: MIT
// Filter evaluation (private): a compiled plan run for one request into the bitmap of allowed
// items, with the cache of results that depend only on item metadata and parameter values.
#pragma once

#include "filters/plan.hpp"
#include "tailor/bitmap.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/filters/filter.hpp"

namespace tailor::detail {

/// The items `filter` allows for `request` over the group's item indices.
/// @throws tailor::Error(InvalidArgument) as Filter::evaluate()
Bitmap evaluate_plan(const CompiledFilter& filter, const DatasetGroup& group,
                     const FilterRequest& request);

}  // namespace tailor::detail
