// SPDX-License-Identifier: MIT
// put_events / put_users / put_items and the CSV value rules they share with import: a record
// that cannot be read changes nothing; NUL is refused; a float too small rounds, too large fails.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/schemas.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

using namespace std::string_literals;

const std::string kFloatItemsSchema = R"({
  "type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "ITEM_ID", "type": "string"},
    {"name": "RATING", "type": ["null", "float"]},
    {"name": "PRICE", "type": ["null", "double"]}
  ],
  "version": "1.0"})";

DatasetGroup make_group(const std::string& items_schema = test::kItemsSchema) {
  return DatasetGroup(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions),
                      Schema::parse(test::kUsersSchema, DatasetKind::Users),
                      Schema::parse(items_schema, DatasetKind::Items));
}

ImportOptions skip_invalid() {
  ImportOptions o;
  o.policy = ImportPolicy::SkipInvalid;
  return o;
}

EventRecord event(const std::string& user, std::optional<std::int64_t> sent_at) {
  EventRecord e;
  e.user_id = user;
  e.session_id = "s-" + user;
  e.item_id = "i1";
  e.event_type = "click";
  e.sent_at = sent_at;
  return e;
}

TEST(DataPut, EventsWithoutSentAtAreRejectedNotStoredAt1970) {
  DatasetGroup g = make_group();
  PutReport r = g.put_events({event("u1", 1700000000), event("u2", std::nullopt), event("u3", 0)});
  EXPECT_EQ(r.accepted, 2u);
  EXPECT_EQ(r.rejected, 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].column, "sentAt");
  EXPECT_NE(r.errors[0].reason.find("required"), std::string::npos) << r.errors[0].reason;
  ASSERT_EQ(g.interactions().size(), 2u);
  EXPECT_EQ(g.interactions().timestamps()[0], 1700000000);
  EXPECT_EQ(g.interactions().timestamps()[1], 0);  // given explicitly: epoch 0 is a time
  EXPECT_EQ(g.user_ids().find("u2"), kNoIndex);

  EventRecord long_id = event("u4", 5);
  long_id.event_id = std::string(257, 'e');
  PutReport l = g.put_events({long_id});
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].column, "eventId");
  EXPECT_EQ(g.interactions().size(), 2u);
  std::string wide;  // 256 characters, 768 bytes: within the limit
  for (int k = 0; k < 256; ++k) wide += "\xE2\x82\xAC";
  long_id.event_id = wide;
  EXPECT_TRUE(g.put_events({long_id}).ok());
}

TEST(DataPut, NulInACsvValueIsRejectedNamingTheColumn) {
  DatasetGroup g = make_group();
  const std::string csv =
      "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n"
      "u1,i1,1,click,1,phone\n"
      "u\0x,i1,2,click,1,phone\n"s
      "u2,i1,3,click,1,\"ph\0ne\"\n"s
      "u3,i1,4,cl\0ck,1,phone\n"s
      "u4,i1,5\0,click,1,phone\n"s;
  ImportReport r = g.import_csv_text(DatasetKind::Interactions, csv, skip_invalid());
  EXPECT_EQ(r.rows_imported, 1u) << r.summary();
  EXPECT_EQ(r.rows_rejected, 4u);
  ASSERT_EQ(r.errors.size(), 4u);
  const char* columns[] = {"USER_ID", "DEVICE", "EVENT_TYPE", "TIMESTAMP"};
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(r.errors[k].line, k + 3);
    EXPECT_EQ(r.errors[k].column, columns[k]);
    EXPECT_NE(r.errors[k].reason.find("NUL"), std::string::npos) << r.errors[k].reason;
  }
  EXPECT_EQ(g.interactions().size(), 1u);
  EXPECT_EQ(g.user_ids().size(), 1u);

  // Users, through put_users: a NUL in a property is refused before it reaches the table.
  PutReport u = g.put_users({{"u9", "{\"department\":\"Da\\u0000ta\"}"}});
  ASSERT_EQ(u.errors.size(), 1u);
  EXPECT_NE(u.errors[0].reason.find("NUL"), std::string::npos) << u.errors[0].reason;
  EXPECT_EQ(g.rows(DatasetKind::Users), 0u);
}

TEST(DataPut, FloatUnderflowRoundsAndOverflowFails) {
  DatasetGroup g = make_group(kFloatItemsSchema);
  const std::string csv =
      "ITEM_ID,RATING,PRICE\n"
      "tiny,1e-50,1e-400\n"
      "negative-tiny,-1e-50,-0.0000000000000000000000000000000000000000001e-300\n"
      "subnormal,1e-40,4.9e-324\n"
      "float-overflow,1e50,1\n"
      "double-overflow,1,1e400\n"
      "still-not-a-number,1e-50x,1\n";
  ImportReport r = g.import_csv_text(DatasetKind::Items, csv, skip_invalid());
  EXPECT_EQ(r.rows_imported, 3u) << r.summary();
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].column, "RATING");
  EXPECT_NE(r.errors[0].reason.find("out of range for a float"), std::string::npos)
      << r.errors[0].reason;
  EXPECT_EQ(r.errors[1].column, "PRICE");
  EXPECT_NE(r.errors[1].reason.find("out of range for a double"), std::string::npos)
      << r.errors[1].reason;
  EXPECT_EQ(r.errors[2].column, "RATING");
  EXPECT_NE(r.errors[2].reason.find("not a valid"), std::string::npos) << r.errors[2].reason;

  const EntityTable& items = *g.items();
  auto value = [&](const char* item, const char* column) {
    return items.column(column)->number_at(items.row_of(g.item_ids().find(item)));
  };
  EXPECT_EQ(value("tiny", "RATING"), 0.0);
  EXPECT_EQ(value("tiny", "PRICE"), 0.0);
  EXPECT_EQ(value("negative-tiny", "RATING"), 0.0);
  EXPECT_EQ(value("negative-tiny", "PRICE"), 0.0);
  EXPECT_GT(value("subnormal", "RATING"), 0.0);  // a subnormal float, not zero
  EXPECT_LT(value("subnormal", "RATING"), 1.2e-38);
  EXPECT_GT(value("subnormal", "PRICE"), 0.0);

  // The same rule through put_items, whose JSON numbers become CSV text.
  PutReport p = g.put_items(
      {{"json-tiny", R"({"rating":1e-50,"price":1e-50})"}, {"json-big", R"({"rating":1e50})"}});
  EXPECT_EQ(p.accepted, 1u);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].line, 2u);
  EXPECT_EQ(p.errors[0].column, "RATING");
  EXPECT_EQ(value("json-tiny", "RATING"), 0.0);
  EXPECT_DOUBLE_EQ(value("json-tiny", "PRICE"), 1e-50);
}

TEST(DataPut, UnreadableUserPropertiesLeaveTheRowUnchanged) {
  DatasetGroup g = make_group();
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Users, "USER_ID,AGE,DEPARTMENT\nu1,30,Data\n").ok());
  PutReport r = g.put_users({{"u1", "{broken"},
                             {"u1", R"({"age":"thirty","department":"Ops"})"},
                             {"u1", R"({"department":"Ops","shoeSize":44})"},
                             {"u1", R"(["department","Ops"])"},
                             {"u1", R"({"department":{"name":"Ops"}})"}});
  EXPECT_EQ(r.accepted, 0u);
  EXPECT_EQ(r.rejected, 5u);
  ASSERT_EQ(r.errors.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(r.errors[k].line, k + 1);
  // An unknown property's error lists the keys that would have been accepted.
  EXPECT_NE(r.errors[2].reason.find("\"shoeSize\" is not a field of the Users schema (expected the "
                                    "camelCase name of a metadata field: age, department)"),
            std::string::npos)
      << r.errors[2].reason;
  const EntityTable& users = *g.users();
  const std::uint32_t row = users.row_of(g.user_ids().find("u1"));
  ASSERT_NE(row, EntityTable::kNoRow);
  EXPECT_EQ(users.column("AGE")->int_at(row), 30);
  const Column& department = *users.column("DEPARTMENT");
  ASSERT_EQ(department.codes_at(row).size(), 1u);
  EXPECT_EQ(department.dictionary().name(department.codes_at(row)[0]), "Data");
  // A readable record still upserts.
  ASSERT_TRUE(g.put_users({{"u1", R"({"age":31,"department":"Ops"})"}}).ok());
  const std::uint32_t updated = users.row_of(g.user_ids().find("u1"));
  EXPECT_EQ(users.column("AGE")->int_at(updated), 31);
}

}  // namespace
}  // namespace tailor
