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

TEST(DataEntityTable, InvertedIndexFollowsUpsertsAndCompaction) {
  EntityTable t(Schema::parse(test::kUsersSchema, DatasetKind::Users));
  auto put = [&](Index user, const char* dept) {
    auto& cols = t.columns_mut();
    cols[0].append_null();
    Index code = cols[1].intern(dept);
    cols[1].append_codes(&code, 1);
    t.commit_row(user);
    return code;
  };
  const Index sales = put(3, "sales");
  put(1, "sales");
  const Index legal = put(3, "legal");  // user 3 moves
  auto list = [&](Index code) {
    Span<Index> s = t.entities_with(1, code);
    return std::vector<Index>(s.begin(), s.end());
  };
  EXPECT_EQ(list(sales), (std::vector<Index>{1}));
  EXPECT_EQ(list(legal), (std::vector<Index>{3}));
  EXPECT_TRUE(t.entities_with(1, 999).empty());
  for (int k = 0; k < 2000; ++k) put(7, k % 2 ? "sales" : "legal");
  t.compact_if_sparse();
  const Column& dept = *t.column("DEPARTMENT");
  const Index sales_now = dept.dictionary().find("sales");
  EXPECT_EQ(list(sales_now), (std::vector<Index>{1, 7}));
  EXPECT_EQ(list(dept.dictionary().find("legal")), (std::vector<Index>{3}));
}

TEST(DataEntityTable, RefusesInteractionsSchema) {
  EXPECT_THROW(EntityTable(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions)),
               Error);
}

}  // namespace
}  // namespace tailor
