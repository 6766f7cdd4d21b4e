// SPDX-License-Identifier: MIT
// Schema parsing: the valid forms and every rule a schema can break.
#include "tailor/schema/schema.hpp"

#include <gtest/gtest.h>

#include "common/schemas.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

std::string interactions_with(const std::string& extra_fields) {
  return R"({"type":"record","name":"Interactions","fields":[
    {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
    {"name":"TIMESTAMP","type":"long"})" +
         extra_fields + "]}";
}

TEST(SchemaParse, ParsesInteractionsWithNullableAndCategoricalFields) {
  Schema s = Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions);
  EXPECT_EQ(s.kind(), DatasetKind::Interactions);
  ASSERT_EQ(s.fields().size(), 6u);
  const Field* value = s.find("EVENT_VALUE");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(value->type, FieldType::Float);
  EXPECT_TRUE(value->nullable);
  const Field* device = s.find("DEVICE");
  ASSERT_NE(device, nullptr);
  EXPECT_TRUE(device->categorical);
  EXPECT_EQ(s.index_of("TIMESTAMP"), 2);
  EXPECT_EQ(s.find("NOPE"), nullptr);
}

TEST(SchemaParse, UnionMemberOrderIsFree) {
  Schema s = Schema::parse(interactions_with(R"(,{"name":"EVENT_VALUE","type":["float","null"]})"),
                           DatasetKind::Interactions);
  EXPECT_TRUE(s.find("EVENT_VALUE")->nullable);
}

TEST(SchemaParse, ParsesUsersAndItems) {
  Schema users = Schema::parse(test::kUsersSchema, DatasetKind::Users);
  EXPECT_EQ(users.fields().size(), 3u);
  Schema items = Schema::parse(test::kItemsSchema, DatasetKind::Items);
  EXPECT_TRUE(items.find("TITLE")->textual);
  EXPECT_EQ(items.find("PREMIUM")->type, FieldType::Boolean);
  EXPECT_EQ(items.json(), test::kItemsSchema);
}

struct BadSchema {
  const char* name;
  DatasetKind kind;
  std::string json;
  const char* message_part;  // the error must name this (field and rule)
  friend void PrintTo(const BadSchema& b, std::ostream* os) { *os << b.name; }
};

class SchemaRejects : public ::testing::TestWithParam<BadSchema> {};

TEST_P(SchemaRejects, WithAMessageNamingTheFieldAndRule) {
  const BadSchema& c = GetParam();
  try {
    Schema::parse(c.json, c.kind);
    FAIL() << "accepted: " << c.json;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(c.message_part), std::string::npos)
        << "message: " << e.what();
    EXPECT_TRUE(e.code() == ErrorCode::SchemaMismatch || e.code() == ErrorCode::ParseError);
  }
}

const std::string kUsersHead =
    R"({"type":"record","name":"Users","fields":[{"name":"USER_ID","type":"string"})";

INSTANTIATE_TEST_SUITE_P(
    Rules, SchemaRejects,
    ::testing::Values(
        BadSchema{"MalformedJson", DatasetKind::Interactions, "{\"type\":", "invalid JSON"},
        BadSchema{"NotAnObject", DatasetKind::Interactions, "[1,2]", "expected a JSON object"},
        BadSchema{"NotARecord", DatasetKind::Interactions,
                  R"({"type":"enum","name":"Interactions","fields":[]})", "\"record\""},
        BadSchema{
            "WrongName", DatasetKind::Interactions,
            R"({"type":"record","name":"Users","fields":[{"name":"USER_ID","type":"string"}]})",
            "must be \"Interactions\""},
        BadSchema{"NoFields", DatasetKind::Interactions,
                  R"({"type":"record","name":"Interactions","fields":[]})", "non-empty array"},
        BadSchema{
            "MissingTimestamp", DatasetKind::Interactions,
            R"({"type":"record","name":"Interactions","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"}]})",
            "TIMESTAMP is missing"},
        BadSchema{
            "TimestampNotLong", DatasetKind::Interactions,
            R"({"type":"record","name":"Interactions","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"int"}]})",
            "TIMESTAMP: reserved field must have type long"},
        BadSchema{
            "NullableUserId", DatasetKind::Interactions,
            R"({"type":"record","name":"Interactions","fields":[{"name":"USER_ID","type":["null","string"]},{"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"}]})",
            "USER_ID: reserved field cannot be nullable"},
        BadSchema{"CategoricalEventType", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"EVENT_TYPE","type":"string","categorical":true})"),
                  "EVENT_TYPE: reserved field cannot be categorical"},
        BadSchema{"EventValueString", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"EVENT_VALUE","type":"string"})"),
                  "EVENT_VALUE: reserved field must have type float"},
        BadSchema{"UnsupportedType", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"TAGS","type":"array"})"),
                  "TAGS: unsupported type \"array\""},
        BadSchema{"NestedRecord", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"NESTED","type":{"type":"record"}})"),
                  "NESTED: \"type\" must be a type name"},
        BadSchema{"BadUnion", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"X","type":["int","string"]})"),
                  "X: a union type must be"},
        BadSchema{"BareNull", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"X","type":"null"})"), "X: type \"null\""},
        BadSchema{"CategoricalInt", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"X","type":"int","categorical":true})"),
                  "X: only string fields can be categorical"},
        BadSchema{"TextualOutsideItems", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"X","type":"string","textual":true})"),
                  "X: textual fields are allowed only in an Items schema"},
        BadSchema{"UnknownAttribute", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"X","type":"string","colour":"red"})"),
                  "X: unknown attribute \"colour\""},
        BadSchema{"BadName", DatasetKind::Interactions,
                  interactions_with(R"(,{"name":"9LIVES","type":"string"})"), "9LIVES"},
        BadSchema{
            "DuplicateAfterStripping", DatasetKind::Interactions,
            interactions_with(
                R"(,{"name":"GENRES_FIELD_1","type":"string"},{"name":"GENRESFIELD1","type":"string"})"),
            "GENRESFIELD1: conflicts with field GENRES_FIELD_1"},
        BadSchema{"DuplicateKey", DatasetKind::Interactions,
                  R"({"type":"record","type":"record","name":"Interactions","fields":[]})",
                  "duplicate key"},
        BadSchema{
            "TooManyInteractionMetadata", DatasetKind::Interactions,
            interactions_with(
                R"(,{"name":"A","type":"int"},{"name":"B","type":"int"},{"name":"C","type":"int"},{"name":"D","type":"int"},{"name":"E","type":"int"},{"name":"F","type":"int"})"),
            "6 metadata fields, more than the limit of 5"},
        BadSchema{"UsersWithoutMetadata", DatasetKind::Users, kUsersHead + "]}",
                  "at least one metadata field"},
        BadSchema{"CreationTimestampOnUsers", DatasetKind::Users,
                  kUsersHead + R"(,{"name":"CREATION_TIMESTAMP","type":"long"}]})",
                  "CREATION_TIMESTAMP: reserved for Items"},
        BadSchema{
            "ItemsWithoutId", DatasetKind::Items,
            R"({"type":"record","name":"Items","fields":[{"name":"GENRE","type":"string","categorical":true}]})",
            "required field ITEM_ID is missing"},
        BadSchema{
            "CategoricalAndTextual", DatasetKind::Items,
            R"({"type":"record","name":"Items","fields":[{"name":"ITEM_ID","type":"string"},{"name":"X","type":"string","categorical":true,"textual":true}]})",
            "X: a field cannot be both categorical and textual"},
        BadSchema{"TooLong", DatasetKind::Interactions, std::string(10001, ' '),
                  "more than the limit of 10000"}),
    [](const ::testing::TestParamInfo<BadSchema>& p) { return std::string(p.param.name); });

TEST(SchemaLoad, MissingFileIsAnIoError) {
  try {
    Schema::load("/nonexistent/schema.json", DatasetKind::Items);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Io);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/schema.json"), std::string::npos);
  }
}

TEST(SchemaKinds, ParseDatasetKind) {
  EXPECT_EQ(parse_dataset_kind("Items"), DatasetKind::Items);
  EXPECT_EQ(parse_dataset_kind("interactions"), DatasetKind::Interactions);
  EXPECT_THROW(parse_dataset_kind("events"), Error);
}

}  // namespace
}  // namespace tailor
