// SPDX-License-Identifier: MIT
// The sample data in data/, loaded for tests.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tailor/data/dataset_group.hpp"

namespace tailor::test {

/// The sample dataset group: interactions, and users and items when asked for.
inline DatasetGroup sample_group(bool users = true, bool items = true) {
  const std::string dir = std::string(TAILOR_SOURCE_DIR) + "/data/";
  DatasetGroup g(
      Schema::load(dir + "interactions_schema.json", DatasetKind::Interactions),
      users ? std::optional<Schema>(Schema::load(dir + "users_schema.json", DatasetKind::Users))
            : std::nullopt,
      items ? std::optional<Schema>(Schema::load(dir + "items_schema.json", DatasetKind::Items))
            : std::nullopt);
  EXPECT_TRUE(g.import_csv(DatasetKind::Interactions, dir + "interactions.csv").ok());
  if (users) {
    EXPECT_TRUE(g.import_csv(DatasetKind::Users, dir + "users.csv").ok());
  }
  if (items) {
    EXPECT_TRUE(g.import_csv(DatasetKind::Items, dir + "items.csv").ok());
  }
  return g;
}

}  // namespace tailor::test
