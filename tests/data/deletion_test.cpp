// SPDX-License-Identifier: MIT
// Deletion of users and items (Personalize's data deletion job): rows, histories, id maps,
// metadata, and no byte of a deleted id or its data left in the group's snapshot.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "data/data_access.hpp"
#include "persistence/serialize.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

using detail::DataAccess;

const char* kInteractions = R"({
  "type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "USER_ID", "type": "string"},
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"},
    {"name": "EVENT_TYPE", "type": "string"},
    {"name": "EVENT_VALUE", "type": ["null", "float"]},
    {"name": "IMPRESSION", "type": ["null", "string"]},
    {"name": "DEVICE", "type": ["null", "string"], "categorical": true},
    {"name": "NOTE", "type": ["null", "string"]}
  ],
  "version": "1.0"})";

const char* kUsers = R"({
  "type": "record", "name": "Users", "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "USER_ID", "type": "string"},
    {"name": "AGE", "type": ["null", "int"]},
    {"name": "DEPARTMENT", "type": "string", "categorical": true}
  ],
  "version": "1.0"})";

const char* kItems = R"({
  "type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TAGS", "type": ["null", "string"], "categorical": true},
    {"name": "TITLE", "type": ["null", "string"], "textual": true}
  ],
  "version": "1.0"})";

// Ids and values that only the user "alice-a-long-user-id" and the item "apple" hold, so a
// snapshot can be searched for them.
DatasetGroup make_group() {
  DatasetGroup g(Schema::parse(kInteractions, DatasetKind::Interactions),
                 Schema::parse(kUsers, DatasetKind::Users),
                 Schema::parse(kItems, DatasetKind::Items));
  ImportReport r = g.import_csv_text(
      DatasetKind::Interactions,
      "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,IMPRESSION,DEVICE,NOTE\n"
      "alice-a-long-user-id,apple,100,click,1.5,apple|pear,phone,alice-secret-note\n"
      "bob,pear,200,click,,pear|apple|plum,tablet,bob-note\n"
      "alice-a-long-user-id,pear,300,buy,2,,alice-device,another-alice-note\n"
      "carol,plum,400,click,,apple,,carol-note\n"
      "bob,apple,500,click,3,plum,tablet,bob-apple-note\n"
      "carol,pear,600,click,4,plum|pear,desk,carol-pear-note\n");
  EXPECT_TRUE(r.ok()) << r.summary();
  r = g.import_csv_text(DatasetKind::Users,
                        "USER_ID,AGE,DEPARTMENT\n"
                        "alice-a-long-user-id,30,alice-department\n"
                        "bob,40,sales\n"
                        "carol,,sales\n");
  EXPECT_TRUE(r.ok()) << r.summary();
  r = g.import_csv_text(DatasetKind::Items,
                        "ITEM_ID,TAGS,TITLE\n"
                        "apple,apple-tag|fruit,An apple title\n"
                        "pear,fruit,A pear\n"
                        "plum,fruit|stone,A plum\n");
  EXPECT_TRUE(r.ok()) << r.summary();
  return g;
}

std::vector<std::uint32_t> rows_of(const DatasetGroup& g, Index user) {
  Span<std::uint32_t> rows = g.interaction_rows_of(user);
  return std::vector<std::uint32_t>(rows.begin(), rows.end());
}

std::vector<std::string> texts(const Column& c) {
  std::vector<std::string> out;
  for (std::size_t r = 0; r < c.size(); ++r)
    out.push_back(c.is_null(r) ? "<null>" : std::string(c.text_at(r)));
  return out;
}

std::vector<std::string> categories(const Column& c) {
  std::vector<std::string> out;
  for (std::size_t r = 0; r < c.size(); ++r) {
    std::string s = c.is_null(r) ? "<null>" : "";
    for (Index code : c.codes_at(r))
      s += (s.empty() ? "" : "|") + std::string(c.dictionary().name(code));
    out.push_back(s);
  }
  return out;
}

bool contains(const std::string& bytes, const std::string& needle) {
  return bytes.find(needle) != std::string::npos;
}

// --- IdMap ----------------------------------------------------------------------------------

TEST(DataDeletion, IdMapEraseKeepsEveryOtherIndexAndForgetsTheIds) {
  IdMap m;
  for (int i = 0; i < 100; ++i)
    DataAccess::insert(m, "id-" + std::to_string(i) + (i % 2 ? "-with-a-long-tail" : ""));
  const std::vector<Index> gone = {3, 50, 51, 3, 99};
  DataAccess::erase(m, gone);
  EXPECT_EQ(m.size(), 100u);
  EXPECT_EQ(m.erased_count(), 4u);
  for (int i = 0; i < 100; ++i) {
    const std::string id = "id-" + std::to_string(i) + (i % 2 ? "-with-a-long-tail" : "");
    const bool erased = i == 3 || i == 50 || i == 51 || i == 99;
    EXPECT_EQ(m.is_erased(static_cast<Index>(i)), erased) << id;
    EXPECT_EQ(m.find(id), erased ? kNoIndex : static_cast<Index>(i)) << id;
    EXPECT_EQ(m.name(static_cast<Index>(i)), erased ? "" : id);
  }
  // The same string again is a new id, and erasing twice changes nothing.
  EXPECT_EQ(DataAccess::insert(m, "id-3-with-a-long-tail"), 100u);
  EXPECT_EQ(DataAccess::insert(m, "id-50"), 101u);
  DataAccess::erase(m, std::vector<Index>{3});
  EXPECT_EQ(m.erased_count(), 4u);
  // The table still grows and finds everything after an erase.
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(DataAccess::insert(m, "more-" + std::to_string(i)), 102u + static_cast<Index>(i));
  EXPECT_EQ(m.find("id-50"), 101u);
  EXPECT_EQ(m.find("id-2"), 2u);
  EXPECT_EQ(m.find("more-999"), 1101u);
  EXPECT_FALSE(m.is_erased(1101));
}

TEST(DataDeletion, IdMapEraseRefusesAnIndexOutOfRange) {
  IdMap m;
  DataAccess::insert(m, "a");
  EXPECT_THROW(DataAccess::erase(m, std::vector<Index>{1}), Error);
  EXPECT_EQ(m.find("a"), 0u);  // nothing erased by the refused call
  EXPECT_EQ(m.erased_count(), 0u);
}

TEST(DataDeletion, IdMapAppendErasedTakesAnIndexNobodyFinds) {
  IdMap m;
  DataAccess::insert(m, "a");
  EXPECT_EQ(DataAccess::append_erased(m), 1u);
  EXPECT_EQ(DataAccess::insert(m, ""), 2u);  // the empty string is still an id of its own
  EXPECT_EQ(m.find(""), 2u);
  EXPECT_TRUE(m.is_erased(1));
  EXPECT_EQ(m.name(1), "");
  DataAccess::clear(m);
  EXPECT_EQ(m.erased_count(), 0u);
  EXPECT_FALSE(m.is_erased(1));
}

TEST(DataDeletion, KeepRowsRefusesAMaskOfTheWrongSize) {
  Column c(Field{"NOTE", FieldType::String, true});
  DataAccess::append_text(c, "x");
  EXPECT_THROW(DataAccess::keep_rows(c, Bitmap(2, true)), Error);
  DatasetGroup g = make_group();
  Interactions in = g.interactions();
  EXPECT_THROW(DataAccess::keep_rows(in, Bitmap(in.size() + 1, true)), Error);
  EXPECT_EQ(in.size(), 6u);
}

// --- DatasetGroup ---------------------------------------------------------------------------

TEST(DataDeletion, DeleteUsersRemovesTheirRowsHistoriesMetadataAndIds) {
  DatasetGroup g = make_group();
  const Index alice = g.user_ids().find("alice-a-long-user-id");
  const Index bob = g.user_ids().find("bob"), carol = g.user_ids().find("carol");
  const std::uint64_t items_version = g.items_version();
  const DeleteReport r = g.delete_users({"alice-a-long-user-id", "nobody", "alice-a-long-user-id"});
  EXPECT_EQ(r.deleted, 1u);
  EXPECT_EQ(r.unknown, 1u);
  EXPECT_EQ(r.interactions, 2u);
  EXPECT_EQ(r.indices, std::vector<Index>{alice});

  const Interactions& in = g.interactions();
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in.users(), (std::vector<Index>{bob, carol, bob, carol}));
  EXPECT_EQ(in.timestamps(), (std::vector<std::int64_t>{200, 400, 500, 600}));
  EXPECT_FALSE(in.has_event_value(0));
  EXPECT_FALSE(in.has_event_value(1));
  EXPECT_TRUE(in.has_event_value(2));
  EXPECT_FLOAT_EQ(in.event_values()[2], 3.0f);
  EXPECT_FLOAT_EQ(in.event_values()[3], 4.0f);
  EXPECT_EQ(
      texts(*in.column("NOTE")),
      (std::vector<std::string>{"bob-note", "carol-note", "bob-apple-note", "carol-pear-note"}));
  EXPECT_EQ(categories(*in.column("DEVICE")),
            (std::vector<std::string>{"tablet", "<null>", "tablet", "desk"}));
  EXPECT_EQ(in.column("DEVICE")->dictionary().find("alice-device"), kNoIndex);
  EXPECT_EQ(in.column("DEVICE")->dictionary().find("phone"), kNoIndex);
  EXPECT_EQ(g.rows(DatasetKind::Interactions), 4u);

  // Every other user keeps its index; the histories are renumbered.
  EXPECT_EQ(g.user_ids().find("alice-a-long-user-id"), kNoIndex);
  EXPECT_EQ(g.user_ids().name(alice), "");
  EXPECT_EQ(g.user_ids().find("bob"), bob);
  EXPECT_EQ(g.user_ids().find("carol"), carol);
  EXPECT_TRUE(g.deleted_users().test(alice));
  EXPECT_EQ(g.deleted_items().count(), 0u);
  EXPECT_TRUE(rows_of(g, alice).empty());
  EXPECT_EQ(rows_of(g, bob), (std::vector<std::uint32_t>{0, 2}));
  EXPECT_EQ(rows_of(g, carol), (std::vector<std::uint32_t>{1, 3}));

  // The Users row is gone, with the department only alice had.
  const EntityTable& users = *g.users();
  EXPECT_EQ(users.row_of(alice), EntityTable::kNoRow);
  EXPECT_EQ(users.count(), 2u);
  EXPECT_EQ(g.rows(DatasetKind::Users), 2u);
  const Column& department = *users.column("DEPARTMENT");
  EXPECT_EQ(department.size(), 2u);
  EXPECT_EQ(department.dictionary().find("alice-department"), kNoIndex);
  const Span<Index> sales = users.entities_with(1, department.dictionary().find("sales"));
  EXPECT_EQ(std::vector<Index>(sales.begin(), sales.end()), (std::vector<Index>{bob, carol}));
  EXPECT_EQ(users.column("AGE")->int_at(users.row_of(bob)), 40);
  EXPECT_EQ(g.items_version(), items_version);  // items are unchanged

  // The same id again is a new user with only its new history.
  ASSERT_TRUE(g.import_csv_text(
                   DatasetKind::Interactions,
                   "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nalice-a-long-user-id,plum,700,click\n",
                   [] {
                     ImportOptions o;
                     o.mode = ImportMode::Incremental;
                     return o;
                   }())
                  .ok());
  const Index again = g.user_ids().find("alice-a-long-user-id");
  EXPECT_EQ(again, 3u);
  EXPECT_EQ(rows_of(g, again), std::vector<std::uint32_t>{4});
  EXPECT_EQ(g.users()->row_of(again), EntityTable::kNoRow);
}

TEST(DataDeletion, DeleteItemsRemovesEveryInteractionMetadataAndImpression) {
  DatasetGroup g = make_group();
  const Index apple = g.item_ids().find("apple");
  const Index pear = g.item_ids().find("pear"), plum = g.item_ids().find("plum");
  const Index bob = g.user_ids().find("bob");
  const std::uint64_t items_version = g.items_version();
  const DeleteReport r = g.delete_items({"kiwi", "apple"});
  EXPECT_EQ(r.deleted, 1u);
  EXPECT_EQ(r.unknown, 1u);
  EXPECT_EQ(r.interactions, 2u);
  EXPECT_EQ(r.indices, std::vector<Index>{apple});
  EXPECT_NE(g.items_version(), items_version);

  const Interactions& in = g.interactions();
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in.items(), (std::vector<Index>{pear, pear, plum, pear}));
  EXPECT_EQ(in.timestamps(), (std::vector<std::int64_t>{200, 300, 400, 600}));
  // The remaining impressions no longer name the item; an emptied list is null.
  EXPECT_EQ(texts(*in.column("IMPRESSION")),
            (std::vector<std::string>{"pear|plum", "<null>", "<null>", "plum|pear"}));
  EXPECT_EQ(rows_of(g, bob), std::vector<std::uint32_t>{0});

  EXPECT_EQ(g.item_ids().find("apple"), kNoIndex);
  EXPECT_EQ(g.item_ids().find("plum"), plum);
  EXPECT_TRUE(g.deleted_items().test(apple));
  EXPECT_FALSE(g.deleted_items().test(pear));
  const EntityTable& items = *g.items();
  EXPECT_EQ(items.row_of(apple), EntityTable::kNoRow);
  EXPECT_EQ(items.count(), 2u);
  EXPECT_EQ(items.column("TAGS")->dictionary().find("apple-tag"), kNoIndex);
  EXPECT_EQ(items.column("TITLE")->size(), 2u);
  EXPECT_EQ(items.column("TITLE")->text_at(items.row_of(plum)), "A plum");

  // A new "apple" is a new item.
  PutReport put = g.put_items({EntityRecord{"apple", R"({"title": "new"})"}});
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(g.item_ids().find("apple"), 3u);
  EXPECT_FALSE(g.deleted_items().size() > 3 && g.deleted_items().test(3));
}

TEST(DataDeletion, UnknownOrEmptyIdListsChangeNothing) {
  DatasetGroup g = make_group();
  const std::string before = detail::serialize_group(g, {7, "g"});
  const std::uint64_t items_version = g.items_version();
  DeleteReport r = g.delete_items({"kiwi", "kiwi"});
  EXPECT_EQ(r.deleted, 0u);
  EXPECT_EQ(r.unknown, 2u);
  r = g.delete_users({});
  EXPECT_EQ(r.deleted + r.unknown, 0u);
  EXPECT_EQ(g.items_version(), items_version);
  EXPECT_EQ(detail::serialize_group(g, {7, "g"}), before);
}

TEST(DataDeletion, SnapshotHoldsNoByteOfDeletedIdsOrTheirDataAndRoundTrips) {
  DatasetGroup g = make_group();
  const std::vector<std::string> secrets = {"alice-a-long-user-id",
                                            "alice-secret-note",
                                            "another-alice-note",
                                            "alice-department",
                                            "alice-device",
                                            "apple",
                                            "apple-tag",
                                            "An apple title",
                                            "bob-apple-note"};
  const std::string before = detail::serialize_group(g, {1, "g"});
  for (const std::string& s : secrets) EXPECT_TRUE(contains(before, s)) << s;  // the search works

  g.delete_users({"alice-a-long-user-id"});
  g.delete_items({"apple"});
  const std::string after = detail::serialize_group(g, {2, "g"});
  for (const std::string& s : secrets) EXPECT_FALSE(contains(after, s)) << s;
  EXPECT_TRUE(contains(after, "carol-pear-note"));

  detail::SnapshotMeta sequence;
  DatasetGroup back = detail::deserialize_group(after, sequence, "snapshot");
  EXPECT_EQ(sequence.last_sequence, 2u);
  EXPECT_EQ(detail::serialize_group(back, {2, "g"}), after);
  EXPECT_EQ(back.user_ids().size(), g.user_ids().size());
  EXPECT_EQ(back.user_ids().find("alice-a-long-user-id"), kNoIndex);
  EXPECT_EQ(back.user_ids().find("carol"), g.user_ids().find("carol"));
  EXPECT_EQ(back.item_ids().find("pear"), g.item_ids().find("pear"));
  EXPECT_TRUE(back.deleted_users() == g.deleted_users());
  EXPECT_TRUE(back.deleted_items() == g.deleted_items());
  EXPECT_EQ(back.interactions().items(), g.interactions().items());
  EXPECT_EQ(rows_of(back, g.user_ids().find("carol")), rows_of(g, g.user_ids().find("carol")));
  // Deleted ids stay forgotten after a restore: the same string is a new index.
  EXPECT_EQ(back.delete_users({"alice-a-long-user-id"}).unknown, 1u);
  ASSERT_TRUE(back.put_items({EntityRecord{"apple", "{}"}}).ok());
  EXPECT_EQ(back.item_ids().find("apple"), back.item_ids().size() - 1);
}

TEST(DataDeletion, SnapshotWithABadErasedListIsRefused) {
  DatasetGroup g(Schema::parse(kInteractions, DatasetKind::Interactions));
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions,
                                "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n"
                                "u0,i0,1,click\nu1,i0,2,click\nu2,i0,3,click\n")
                  .ok());
  g.delete_users({"u1"});
  const std::string bytes = detail::serialize_group(g, {0, "g"});
  // The users' names: chars "u0u2", ends {2, 2, 4}, then the erased list {1}.
  std::string ends;
  for (std::uint64_t v : {3, 2, 2, 4}) ends.append(reinterpret_cast<const char*>(&v), sizeof v);
  const std::size_t at = bytes.find(ends);
  ASSERT_NE(at, std::string::npos);
  const std::size_t erased = at + ends.size() + sizeof(std::uint64_t);  // past the list's length
  Index listed = 0;
  std::memcpy(&listed, bytes.data() + erased, sizeof listed);
  ASSERT_EQ(listed, 1u);
  detail::SnapshotMeta sequence;
  EXPECT_EQ(detail::deserialize_group(bytes, sequence, "snapshot").user_ids().find("u2"), 2u);
  for (Index bad : {Index{0}, Index{7}}) {  // an index with characters, one out of range
    std::string corrupt = bytes;
    std::memcpy(&corrupt[erased], &bad, sizeof bad);
    try {
      detail::deserialize_group(corrupt, sequence, "snapshot");
      ADD_FAILURE() << "erased index " << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::ParseError) << e.what();
    }
  }
}

}  // namespace
}  // namespace tailor
