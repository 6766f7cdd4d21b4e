// SPDX-License-Identifier: MIT
// EntityTable: upserts point entities at their newest row; compaction keeps every value.
#include "tailor/data/entity_table.hpp"

#include <gtest/gtest.h>

#include "common/schemas.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

TEST(DataEntityTable, UpsertAndCompact) {
  EntityTable t(Schema::parse(test::kUsersSchema, DatasetKind::Users));
  ASSERT_EQ(t.columns().size(), 2u);  // AGE, DEPARTMENT (USER_ID is the key)
  auto put = [&](Index user, int age, const char* dept) {
    auto& cols = t.columns_mut();
    cols[0].append_int(age);
    Index code = cols[1].intern(dept);
    cols[1].append_codes(&code, 1);
    t.commit_row(user);
  };
  put(0, 30, "sales");
  put(5, 40, "legal");
  EXPECT_EQ(t.count(), 2u);
  EXPECT_EQ(t.row_of(3), EntityTable::kNoRow);
  for (int round = 0; round < 3000; ++round) put(0, round, "eng");  // many superseded rows
  t.compact_if_sparse();
  EXPECT_EQ(t.count(), 2u);
  EXPECT_LE(t.columns()[0].size(), 2u);
  EXPECT_EQ(t.columns()[0].int_at(t.row_of(0)), 2999);
  EXPECT_EQ(t.columns()[0].int_at(t.row_of(5)), 40);
  const Column& dept = *t.column("DEPARTMENT");
  EXPECT_EQ(dept.dictionary().name(dept.codes_at(t.row_of(5))[0]), "legal");
  t.clear();
  EXPECT_EQ(t.count(), 0u);
}

TEST(DataEntityTable, RefusesInteractionsSchema) {
  EXPECT_THROW(EntityTable(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions)),
               Error);
}

}  // namespace
}  // namespace tailor
