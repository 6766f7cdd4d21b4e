// SPDX-License-Identifier: MIT
// The umbrella header: the one include promised stable across releases.
#pragma once

#include "tailor/data/column.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/data/entity_table.hpp"
#include "tailor/data/id_map.hpp"
#include "tailor/data/interactions.hpp"
#include "tailor/error.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/schema/schema.hpp"
#include "tailor/types.hpp"
#include "tailor/version.hpp"
