// SPDX-License-Identifier: MIT
// The umbrella header: the one include promised stable across releases.
#pragma once

#include "tailor/bitmap.hpp"
#include "tailor/data/column.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/data/entity_table.hpp"
#include "tailor/data/id_map.hpp"
#include "tailor/data/interactions.hpp"
#include "tailor/error.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/metrics/ranking_metrics.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/model.hpp"
#include "tailor/recipes/popularity.hpp"
#include "tailor/recipes/ranking.hpp"
#include "tailor/recipes/recipe.hpp"
#include "tailor/recipes/training_data.hpp"
#include "tailor/schema/schema.hpp"
#include "tailor/solution/solution.hpp"
#include "tailor/types.hpp"
#include "tailor/version.hpp"
