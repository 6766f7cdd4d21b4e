// SPDX-License-Identifier: MIT
// EntityTable: upserts point entities at their newest row; compaction keeps every value.
#include "tailor/data/entity_table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/schemas.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

DatasetGroup make_group() {
  return DatasetGroup(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions),
                      Schema::parse(test::kUsersSchema, DatasetKind::Users));
}

// Upserts Users rows "USER_ID,AGE,DEPARTMENT" (incremental import: each row replaces the last).
void upsert(DatasetGroup& g, const std::string& rows, ImportMode mode = ImportMode::Incremental) {
  ImportOptions options;
  options.mode = mode;
  ImportReport r =
      g.import_csv_text(DatasetKind::Users, "USER_ID,AGE,DEPARTMENT\n" + rows, options);
  ASSERT_TRUE(r.ok()) << r.summary();
}

TEST(DataEntityTable, UpsertAndCompact) {
  DatasetGroup g = make_group();
  const EntityTable& t = *g.users();
  ASSERT_EQ(t.columns().size(), 2u);  // AGE, DEPARTMENT (USER_ID is the key)
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions,
                                "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu3,i1,100,click\n")
                  .ok());
  upsert(g, "u0,30,sales\nu5,40,legal\n");
  const Index u0 = g.user_ids().find("u0"), u5 = g.user_ids().find("u5");
  EXPECT_EQ(t.count(), 2u);
  EXPECT_EQ(t.row_of(g.user_ids().find("u3")), EntityTable::kNoRow);  // known from events only
  EXPECT_EQ(t.row_of(g.user_ids().size()), EntityTable::kNoRow);
  std::string many;  // many superseded rows: the import compacts the table after them
  for (int round = 0; round < 3000; ++round) many += "u0," + std::to_string(round) + ",eng\n";
  upsert(g, many);
  EXPECT_EQ(t.count(), 2u);
  EXPECT_LE(t.columns()[0].size(), 2u);
  EXPECT_EQ(t.columns()[0].int_at(t.row_of(u0)), 2999);
  EXPECT_EQ(t.columns()[0].int_at(t.row_of(u5)), 40);
  const Column& dept = *t.column("DEPARTMENT");
  EXPECT_EQ(dept.dictionary().name(dept.codes_at(t.row_of(u5))[0]), "legal");
  upsert(g, "u7,20,eng\n", ImportMode::Full);  // a FULL import drops every row first
  EXPECT_EQ(t.count(), 1u);
  EXPECT_EQ(t.row_of(u0), EntityTable::kNoRow);
  EXPECT_EQ(t.columns()[0].int_at(t.row_of(g.user_ids().find("u7"))), 20);
}

TEST(DataEntityTable, InvertedIndexFollowsUpsertsAndCompaction) {
  DatasetGroup g = make_group();
  const EntityTable& t = *g.users();
  // The users whose current row holds `value`, by id (compaction replaces the columns, so the
  // column is looked up afresh).
  auto list = [&](const char* value) {
    std::vector<std::string> ids;
    const Index code = t.column("DEPARTMENT")->dictionary().find(value);
    if (code == kNoIndex) return ids;
    for (Index e : t.entities_with(1, code)) ids.emplace_back(g.user_ids().name(e));
    return ids;
  };
  upsert(g, "u3,,sales\nu1,,sales\nu3,,legal\n");  // u3 moves
  EXPECT_EQ(list("sales"), (std::vector<std::string>{"u1"}));
  EXPECT_EQ(list("legal"), (std::vector<std::string>{"u3"}));
  EXPECT_TRUE(t.entities_with(1, 999).empty());
  std::string many;
  for (int k = 0; k < 2000; ++k) many += std::string("u7,,") + (k % 2 ? "sales" : "legal") + "\n";
  upsert(g, many);  // compaction renumbers the dictionary codes
  EXPECT_LT(t.column("DEPARTMENT")->size(), 2000u);
  EXPECT_EQ(list("sales"), (std::vector<std::string>{"u1", "u7"}));
  EXPECT_EQ(list("legal"), (std::vector<std::string>{"u3"}));
}

TEST(DataEntityTable, RefusesInteractionsSchema) {
  EXPECT_THROW(EntityTable(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions)),
               Error);
}

}  // namespace
}  // namespace tailor
