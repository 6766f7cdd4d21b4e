// SPDX-License-Identifier: MIT
// JSON records for put_events / put_users / put_items: hostile input is refused with the field and
// a reason, never turned into a default value.
#include "tailor/io/records.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tailor {
namespace {

const std::string kEvent =
    R"("userId":"u1","sessionId":"s1","itemId":"i1","eventType":"click","sentAt":1700000000)";

// The RecordError parse_event_json throws for `json`; fails the test when it accepts it.
RecordError event_error(const std::string& json) {
  try {
    parse_event_json(json);
  } catch (const RecordError& e) {
    EXPECT_EQ(e.code(), ErrorCode::ParseError);
    return e;
  }
  ADD_FAILURE() << "accepted: " << json;
  return RecordError("", "");
}

RecordError entity_error(const std::string& json, DatasetKind kind = DatasetKind::Users) {
  try {
    parse_entity_json(json, kind);
  } catch (const RecordError& e) {
    EXPECT_EQ(e.code(), ErrorCode::ParseError);
    return e;
  }
  ADD_FAILURE() << "accepted: " << json;
  return RecordError("", "");
}

bool mentions(const RecordError& e, const std::string& part) {
  return std::string(e.what()).find(part) != std::string::npos;
}

TEST(IoRecords, ReadsEveryEventField) {
  EventRecord e = parse_event_json(
      R"({"userId":"u1","sessionId":"s1","itemId":"i1","eventType":"click","sentAt":1700000000,)"
      R"("eventId":"e-1","eventValue":2.5,"impression":["i1","i2"],"recommendationId":"r1",)"
      R"("properties":{"device":"phone","n":3}})");
  EXPECT_EQ(e.user_id, "u1");
  EXPECT_EQ(e.session_id, "s1");
  EXPECT_EQ(e.item_id, "i1");
  EXPECT_EQ(e.event_type, "click");
  ASSERT_TRUE(e.sent_at.has_value());
  EXPECT_EQ(*e.sent_at, 1700000000);
  EXPECT_EQ(e.event_id, "e-1");
  ASSERT_TRUE(e.event_value.has_value());
  EXPECT_EQ(*e.event_value, 2.5f);
  EXPECT_EQ(e.impression, (std::vector<std::string>{"i1", "i2"}));
  EXPECT_EQ(e.recommendation_id, "r1");
  EXPECT_EQ(e.properties, R"({"device":"phone","n":3})");
}

TEST(IoRecords, SentAtIsRequiredAndMustFitALong) {
  RecordError missing =
      event_error(R"({"userId":"u","sessionId":"s","itemId":"i","eventType":"t"})");
  EXPECT_EQ(missing.field(), "sentAt");
  EXPECT_TRUE(mentions(missing, "required"));
  RecordError null = event_error("{" + std::string(R"("sessionId":"s","sentAt":null)") + "}");
  EXPECT_EQ(null.field(), "sentAt");

  RecordError text = event_error(R"({"sessionId":"s","sentAt":"1700000000"})");
  EXPECT_EQ(text.field(), "sentAt");
  EXPECT_TRUE(mentions(text, "found a string")) << text.what();

  // 1e19 once wrapped to INT64_MIN; 2^63 as an integer is just past the range too.
  for (const char* big : {"1e19", "-1e19", "9223372036854775808", "1e300"}) {
    RecordError e = event_error(R"({"sessionId":"s","sentAt":)" + std::string(big) + "}");
    EXPECT_EQ(e.field(), "sentAt") << big;
    EXPECT_TRUE(mentions(e, "out of range")) << e.what();
  }
  // The edges of a long, and a fraction, which is truncated.
  EXPECT_EQ(*parse_event_json(R"({"sentAt":9223372036854775807})").sent_at, INT64_MAX);
  EXPECT_EQ(*parse_event_json(R"({"sentAt":-9223372036854775808})").sent_at, INT64_MIN);
  EXPECT_EQ(*parse_event_json(R"({"sentAt":1700000000.5})").sent_at, 1700000000);
  EXPECT_EQ(*parse_event_json(R"({"sentAt":1.7e9})").sent_at, 1700000000);
}

TEST(IoRecords, EventValueMustBeAFiniteFloatNumber) {
  RecordError abc = event_error("{" + kEvent + R"(,"eventValue":"abc"})");
  EXPECT_EQ(abc.field(), "eventValue");
  EXPECT_TRUE(mentions(abc, "JSON number")) << abc.what();
  EXPECT_EQ(event_error("{" + kEvent + R"(,"eventValue":true})").field(), "eventValue");
  // JSON has no NaN or Infinity; a literal too large for a double is malformed JSON.
  EXPECT_TRUE(mentions(event_error("{" + kEvent + R"(,"eventValue":1e999})"), "malformed JSON"));
  EXPECT_TRUE(mentions(event_error("{" + kEvent + R"(,"eventValue":NaN})"), "malformed JSON"));
  // A double that a float cannot hold is refused, not made infinite.
  RecordError big = event_error("{" + kEvent + R"(,"eventValue":1e50})");
  EXPECT_EQ(big.field(), "eventValue");
  EXPECT_TRUE(mentions(big, "out of range for a float")) << big.what();
  // Too small for a float is a finite float: zero.
  EventRecord tiny = parse_event_json("{" + kEvent + R"(,"eventValue":1e-50})");
  ASSERT_TRUE(tiny.event_value.has_value());
  EXPECT_EQ(*tiny.event_value, 0.0f);
}

TEST(IoRecords, IdsAndTypesMustBeStrings) {
  for (const char* key :
       {"userId", "sessionId", "itemId", "eventType", "eventId", "recommendationId"}) {
    RecordError e = event_error(std::string(R"({"sentAt":1,")") + key + R"(":42})");
    EXPECT_EQ(e.field(), key);
    EXPECT_TRUE(mentions(e, "must be a JSON string, found an integer")) << e.what();
  }
  EXPECT_EQ(event_error(R"({"sentAt":1,"impression":"i1"})").field(), "impression");
  EXPECT_EQ(event_error(R"({"sentAt":1,"impression":["i1",2]})").field(), "impression");
  RecordError long_id = event_error(R"({"sentAt":1,"eventId":")" + std::string(257, 'e') + "\"}");
  EXPECT_EQ(long_id.field(), "eventId");
  EXPECT_EQ(event_error(R"({"sentAt":1,"eventId":""})").field(), "eventId");
  std::string wide;  // 256 characters of three bytes each: the limit counts characters
  for (int k = 0; k < 256; ++k) wide += "\xE2\x82\xAC";
  EXPECT_EQ(parse_event_json(R"({"sentAt":1,"eventId":")" + wide + "\"}").event_id, wide);
  EXPECT_EQ(parse_event_json(R"({"sentAt":1,"eventId":")" + std::string(256, 'e') + "\"}")
                .event_id.size(),
            256u);
}

TEST(IoRecords, MalformedDuplicateAndUnknownAreErrors) {
  for (const std::string& bad : std::vector<std::string>{"{" + kEvent, "not json", "",
                                                         "{\"sentAt\":1,}", "[1,2]", "\"text\""}) {
    RecordError e = event_error(bad);
    EXPECT_EQ(e.field(), "") << bad;
  }
  EXPECT_TRUE(mentions(event_error("{" + kEvent), "malformed JSON"));
  EXPECT_TRUE(mentions(event_error("[1,2]"), "must be a JSON object, found an array"));
  RecordError twice = event_error("{" + kEvent + R"(,"userId":"u2"})");
  EXPECT_TRUE(mentions(twice, "duplicate key \"userId\"")) << twice.what();
  RecordError unknown = event_error("{" + kEvent + R"(,"sentat":5})");
  EXPECT_EQ(unknown.field(), "sentat");
  EXPECT_TRUE(mentions(unknown, "unknown field")) << unknown.what();
  // Personalize's own fields that tailor has no use for are accepted, with their types checked.
  EventRecord personalize = parse_event_json(
      "{" + kEvent +
      R"(,"trackingId":"t-1","metricAttribution":{"eventAttributionSource":"email"}})");
  EXPECT_EQ(personalize.user_id, "u1");
  EXPECT_EQ(event_error("{" + kEvent + R"(,"trackingId":1})").field(), "trackingId");
  EXPECT_EQ(event_error("{" + kEvent + R"(,"metricAttribution":"email"})").field(),
            "metricAttribution");
  EXPECT_EQ(event_error("{" + kEvent + R"(,"metricAttribution":{"source":"email"}})").field(),
            "metricAttribution");
}

TEST(IoRecords, PropertiesAsAStringOrAnObject) {
  // As Personalize sends it: a string holding an object, kept as it is.
  EventRecord s = parse_event_json("{" + kEvent + R"(,"properties":"{\"device\":\"phone\"}"})");
  EXPECT_EQ(s.properties, R"({"device":"phone"})");
  // An object: its JSON text, with numbers in shortest form.
  EventRecord o =
      parse_event_json("{" + kEvent + R"(,"properties":{"device":"a\"b","x":1e-50,"y":0.1}})");
  EXPECT_EQ(o.properties, R"({"device":"a\"b","x":1e-50,"y":0.1})");
  EXPECT_EQ(parse_event_json("{" + kEvent + "}").properties, "");

  for (const char* bad :
       {R"("properties":"{broken")", R"("properties":"[1]")", R"("properties":5)",
        R"("properties":[])", R"("properties":"")", R"("properties":"{\"a\":1,\"a\":2}")"}) {
    RecordError e = event_error("{" + kEvent + "," + bad + "}");
    EXPECT_EQ(e.field(), "properties") << bad;
  }
}

TEST(IoRecords, NulInAnyStringIsRefused) {
  RecordError id = event_error(R"({"sentAt":1,"userId":"u\u0000x"})");
  EXPECT_EQ(id.field(), "userId");
  EXPECT_TRUE(mentions(id, "NUL")) << id.what();
  EXPECT_EQ(event_error(R"({"sentAt":1,"impression":["ok","a\u0000"]})").field(), "impression");
  EXPECT_EQ(event_error(R"({"sentAt":1,"properties":{"device":"\u0000"}})").field(), "properties");
  EXPECT_EQ(event_error(R"({"sentAt":1,"properties":{"dev\u0000ice":"x"}})").field(), "properties");
  EXPECT_EQ(event_error(R"({"sentAt":1,"properties":"{\"device\":\"\\u0000\"}"})").field(),
            "properties");
  EXPECT_EQ(entity_error(R"({"userId":"\u0000"})").field(), "userId");
  // A raw NUL byte is not JSON at all.
  EXPECT_TRUE(mentions(event_error(std::string("{\"sentAt\":1,\"userId\":\"a\0b\"}", 27)),
                       "malformed JSON"));
}

TEST(IoRecords, EntitiesNeedAStringIdAndReadableProperties) {
  EntityRecord u =
      parse_entity_json(R"({"userId":"u1","properties":"{\"age\":30}"})", DatasetKind::Users);
  EXPECT_EQ(u.id, "u1");
  EXPECT_EQ(u.properties, R"({"age":30})");
  EntityRecord i =
      parse_entity_json(R"({"itemId":"i1","properties":{"price":1e-50}})", DatasetKind::Items);
  EXPECT_EQ(i.id, "i1");
  EXPECT_EQ(i.properties, R"({"price":1e-50})");
  EXPECT_EQ(parse_entity_json(R"({"itemId":"i2"})", DatasetKind::Items).properties, "");

  EXPECT_EQ(entity_error(R"({"properties":{}})").field(), "userId");
  EXPECT_EQ(entity_error(R"({"userId":""})").field(), "userId");
  EXPECT_TRUE(mentions(entity_error(R"({"userId":7})"), "must be a JSON string"));
  EXPECT_EQ(entity_error(R"({"itemId":"i1"})").field(), "itemId");  // a user needs userId
  EXPECT_EQ(entity_error(R"({"userId":"u1"})", DatasetKind::Items).field(), "userId");
  EXPECT_EQ(entity_error(R"({"userId":"u1","properties":"{broken"})").field(), "properties");
  EXPECT_EQ(entity_error(R"({"userId":"u1","properties":true})").field(), "properties");
  EXPECT_EQ(entity_error(R"({"userId":"u1","properties":"plain text"})").field(), "properties");
  EXPECT_EQ(entity_error(R"({"userId":"u1")").field(), "");
  EXPECT_THROW(parse_entity_json(R"({"userId":"u1"})", DatasetKind::Interactions), Error);
}

}  // namespace
}  // namespace tailor
