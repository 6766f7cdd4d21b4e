// SPDX-License-Identifier: MIT
// Payload decoding under hostile lengths and counts: every length or count patched to 2^60, to
// the payload's size or one past its true value is refused as a ParseError naming the payload,
// and no decode asks for an allocation larger than a small multiple of the payload's size.
#include "persistence/serialize.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"

// The largest single request made to operator new while a decode is watched. Requests far
// beyond any payload here are refused without asking the system, so a regression fails the
// assertion below instead of exhausting memory. Outside a watched decode this is plain malloc.
namespace {
thread_local bool t_watching = false;
thread_local std::size_t t_largest = 0;
constexpr std::size_t kRefusedRequest = std::size_t{1} << 30;
}  // namespace

void* operator new(std::size_t n) {
  if (t_watching) {
    if (n > t_largest) t_largest = n;
    if (n > kRefusedRequest) throw std::bad_alloc();
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return ::operator new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept {
  return ::operator new(n, tag);
}
// free() is the right release here: operator new above is malloc.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace tailor {
namespace {

using Decode = std::function<void(const std::string& payload, const std::string& what)>;

constexpr std::uint64_t kHuge = std::uint64_t{1} << 60;
const std::string kWhat = "payload-under-test";

// A decode may allocate a few times its payload (a list element in memory is under 8 times its
// smallest encoding) plus a little fixed overhead (a stream buffer), never more.
std::size_t allowance(const std::string& payload) { return 8 * payload.size() + 16 * 1024; }

struct Outcome {
  bool accepted = false;
  bool tailor_error = false;
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::size_t largest = 0;
};

Outcome run(const Decode& decode, const std::string& payload) {
  Outcome out;
  t_largest = 0;
  t_watching = true;
  try {
    decode(payload, kWhat);
    out.accepted = true;
  } catch (const Error& e) {
    out.tailor_error = true;
    out.code = e.code();
    out.message = e.what();
  } catch (const std::exception& e) {
    out.message = e.what();
  } catch (...) {
    out.message = "a non-standard exception";
  }
  t_watching = false;
  out.largest = t_largest;
  return out;
}

void expect_refused(const Decode& decode, const std::string& payload, const std::string& label) {
  SCOPED_TRACE(label);
  const Outcome out = run(decode, payload);
  EXPECT_FALSE(out.accepted);
  EXPECT_TRUE(out.tailor_error) << out.message;
  EXPECT_EQ(out.code, ErrorCode::ParseError) << out.message;
  EXPECT_NE(out.message.find(kWhat), std::string::npos) << out.message;
  EXPECT_LE(out.largest, allowance(payload)) << "for a payload of " << payload.size() << " bytes";
}

std::uint64_t u64_at(const std::string& bytes, std::size_t at) {
  std::uint64_t v = 0;
  std::memcpy(&v, bytes.data() + at, 8);
  return v;
}
std::string with_u64(std::string bytes, std::size_t at, std::uint64_t v) {
  std::memcpy(&bytes[at], &v, 8);
  return bytes;
}

// The offset of the length written just before the first occurrence of `text`.
std::size_t length_of(const std::string& bytes, const std::string& text) {
  const std::size_t pos = bytes.find(text);
  if (pos == std::string::npos || pos < 8 || u64_at(bytes, pos - 8) != text.size()) {
    throw std::logic_error("no length before " + text);
  }
  return pos - 8;
}

// Patches the length or count at `at` to 2^60, to the payload's size and to one past its value.
void expect_each_patch_refused(const Decode& decode, const std::string& payload, std::size_t at,
                               const std::string& field) {
  const std::uint64_t truth = u64_at(payload, at);
  expect_refused(decode, with_u64(payload, at, kHuge), field + " = 2^60");
  expect_refused(decode, with_u64(payload, at, payload.size()), field + " = the payload's size");
  expect_refused(decode, with_u64(payload, at, truth + 1), field + " = one more than written");
}

// Writes 2^60, the payload's size and all ones at every offset in turn, and flips every byte:
// each decode succeeds or throws tailor::Error, within its allocation allowance.
void expect_every_corruption_handled(const Decode& decode, const std::string& payload) {
  ASSERT_TRUE(run(decode, payload).accepted);
  auto check = [&](const std::string& bad, std::size_t at, const char* how) {
    const Outcome out = run(decode, bad);
    EXPECT_TRUE(out.accepted || out.tailor_error) << how << " at " << at << ": " << out.message;
    EXPECT_LE(out.largest, allowance(bad)) << how << " at " << at;
  };
  for (std::size_t at = 0; at + 8 <= payload.size(); ++at) {
    check(with_u64(payload, at, kHuge), at, "2^60");
    check(with_u64(payload, at, payload.size()), at, "the payload's size");
    check(with_u64(payload, at, ~std::uint64_t{0}), at, "all ones");
  }
  for (std::size_t at = 0; at < payload.size(); ++at) {
    std::string bad = payload;
    bad[at] = static_cast<char>(~bad[at]);
    check(bad, at, "a flipped byte");
  }
}

const Decode kEvents = [](const std::string& p, const std::string& w) {
  detail::deserialize_events(p, w);
};
const Decode kEntities = [](const std::string& p, const std::string& w) {
  detail::deserialize_entities(p, w);
};
const Decode kGroup = [](const std::string& p, const std::string& w) {
  detail::SnapshotMeta meta;
  detail::deserialize_group(p, meta, w);
};
const Decode kVersion = [](const std::string& p, const std::string& w) {
  detail::deserialize_version(p, w);
};
const Decode kVersionIndex = [](const std::string& p, const std::string& w) {
  detail::deserialize_version_index(p, w);
};
const Decode kCatalog = [](const std::string& p, const std::string& w) {
  detail::deserialize_catalog(p, w);
};

std::vector<EventRecord> some_events() {
  EventRecord a;
  a.user_id = "user-first";
  a.session_id = "session-1";
  a.item_id = "item-1";
  a.event_type = "click";
  a.event_id = "event-1";
  a.event_value = 1.5f;
  a.sent_at = 1700000000;
  a.impression = {"imp-first", "imp-second"};
  a.recommendation_id = "rec-1";
  a.properties = R"({"x":1})";
  EventRecord b = a;
  b.user_id = "user-second";
  b.event_id = "event-2";
  b.event_value.reset();
  b.sent_at.reset();
  b.impression.clear();
  b.properties = R"({"last":true})";
  return {a, b};
}

std::string events_payload() { return detail::serialize_events(some_events()); }

// A small group with users, items, events with ids and a deleted-free history.
DatasetGroup tiny_group() {
  const std::string dir = std::string(TAILOR_SOURCE_DIR) + "/data/";
  DatasetGroup g(Schema::load(dir + "interactions_schema.json", DatasetKind::Interactions),
                 Schema::load(dir + "users_schema.json", DatasetKind::Users),
                 Schema::load(dir + "items_schema.json", DatasetKind::Items));
  EXPECT_TRUE(g.put_users({{"user-a", R"({"department":"Sales","country":"FR","role":"manager"})"},
                           {"user-b", R"({"department":"Data","country":"BR","role":"intern"})"}})
                  .ok());
  EXPECT_TRUE(
      g.put_items(
           {{"item-a", R"({"contentType":"document","community":"Data Hub","tags":"a|b",)"
                       R"("title":"A title","creationTimestamp":7})"},
            {"item-b",
             R"({"contentType":"blog_post","community":"Sales Hub","creationTimestamp":8})"}})
          .ok());
  std::vector<EventRecord> events;
  for (int k = 0; k < 3; ++k) {
    EventRecord e;
    e.user_id = k % 2 ? "user-b" : "user-a";
    e.session_id = "s";
    e.item_id = k % 2 ? "item-a" : "item-b";
    e.event_type = "read";
    e.event_id = "ev-" + std::to_string(k);
    if (k) e.event_value = 0.5f;
    e.sent_at = 1800000000 + k;
    events.push_back(e);
  }
  EXPECT_TRUE(g.put_events(events).ok());
  return g;
}

std::string group_payload() {
  detail::SnapshotMeta meta;
  meta.last_sequence = 9;
  meta.group_id = "group-identity";
  return detail::serialize_group(tiny_group(), meta);
}

std::string als_version_payload() {
  FactorMatrix users(3, 4), items(5, 4);
  for (Eigen::Index r = 0; r < users.rows(); ++r) {
    for (Eigen::Index c = 0; c < 4; ++c) users(r, c) = static_cast<float>(r + c) / 8;
  }
  for (Eigen::Index r = 0; r < items.rows(); ++r) {
    for (Eigen::Index c = 0; c < 4; ++c) items(r, c) = static_cast<float>(r * c) / 8;
  }
  auto model = std::make_shared<AlsModel>("user-personalization", AlsParams{}, users, items,
                                          std::vector<Index>{1});
  SolutionVersion v({"als-solution", "user-personalization", "{}", {}}, TrainingMode::Full,
                    std::move(model), std::nullopt, std::nullopt, 1.5);
  return detail::serialize_version(v);
}

std::string knn_version_payload() {
  auto model = std::make_shared<ItemKnnModel>(
      "sims", std::vector<std::size_t>{0, 1, 2, 2}, std::vector<Index>{1, 0},
      std::vector<float>{0.5f, 0.5f}, std::vector<float>{3, 2, 1});
  SolutionVersion v({"knn-solution", "sims", "{}", {}}, TrainingMode::Full, std::move(model),
                    std::nullopt, std::nullopt, 0.5);
  return detail::serialize_version(v);
}

std::string version_index_payload() {
  detail::VersionIndex index;
  index.next_id = 3;
  index.active = "000002";
  index.versions.push_back({"000001", 100, "sims", TrainingMode::Full, std::nullopt, 1, 1, {}});
  index.versions.push_back({"000002", 200, "sims", TrainingMode::Update, std::nullopt, 2, 1, {}});
  return detail::serialize_version_index(index);
}

std::string catalog_payload() {
  detail::Catalog catalog;
  catalog.filters = {{"filter-one", R"(EXCLUDE ItemID WHERE Items.TAGS IN ("a"))"}};
  catalog.campaigns = {{"campaign-one", "solution-one"}};
  return detail::serialize_catalog(catalog);
}

TEST(SerializeBounds, ValidPayloadsDecodeWithinTheirAllowance) {
  for (const auto& [decode, payload] : std::vector<std::pair<Decode, std::string>>{
           {kEvents, events_payload()},
           {kEntities, detail::serialize_entities({{"id-1", "{}"}, {"id-2", R"({"a":1})"}})},
           {kGroup, group_payload()},
           {kVersion, als_version_payload()},
           {kVersion, knn_version_payload()},
           {kVersionIndex, version_index_payload()},
           {kCatalog, catalog_payload()}}) {
    const Outcome out = run(decode, payload);
    EXPECT_TRUE(out.accepted) << out.message;
    EXPECT_LE(out.largest, allowance(payload));
  }
}

TEST(SerializeBounds, EventCountsAndLengthsPatchedAreRefusedWithoutALargeAllocation) {
  const std::string payload = events_payload();
  // The event count follows the list's class header, as in an empty list.
  const std::size_t count = detail::serialize_events({}).size() - 8;
  ASSERT_EQ(u64_at(payload, count), 2u);
  expect_each_patch_refused(kEvents, payload, count, "the event count");
  expect_each_patch_refused(kEvents, payload, length_of(payload, "user-first"),
                            "a user id's length");
  // The impression count is written just before its first string's length.
  expect_each_patch_refused(kEvents, payload, length_of(payload, "imp-first") - 8,
                            "the impression count");
  expect_each_patch_refused(kEvents, payload, length_of(payload, R"({"last":true})"),
                            "the last string's length");
}

TEST(SerializeBounds, AnEventCountEqualToAMegabytePayloadAllocatesNoMoreThanAFewMegabytes) {
  std::vector<EventRecord> events = some_events();
  events[1].properties = "{\"blob\":\"" + std::string(1 << 20, 'x') + "\"}";
  const std::string payload = detail::serialize_events(events);
  const std::size_t count = detail::serialize_events({}).size() - 8;
  // Before counts were weighed by an event's smallest encoding, this asked for a million events.
  expect_refused(kEvents, with_u64(payload, count, payload.size()),
                 "the event count = the payload's size");
  expect_refused(kEvents, with_u64(payload, count, payload.size() / 69),
                 "the event count = size / 69");
  expect_refused(kEvents,
                 with_u64(payload, length_of(payload, "imp-first") - 8, payload.size() / 8),
                 "the impression count = size / 8");
}

TEST(SerializeBounds, ListsOfSmallestElementsStillDecode) {
  // Version-0 events of 69 zero bytes each (every string empty, no impression): the smallest an
  // event can be, so a count check any stricter would refuse them.
  const std::size_t n = 1000;
  std::string old_events("\x00\x01\x00\x00\x00", 5);
  old_events.append(reinterpret_cast<const char*>(&n), 8);
  old_events.append(5, '\0');  // EventRecord's class header: version 0
  old_events.append(n * 69, '\0');
  const std::vector<EventRecord> back = detail::deserialize_events(old_events, kWhat);
  ASSERT_EQ(back.size(), n);
  EXPECT_EQ(back.back().user_id, "");
  EXPECT_EQ(back.back().sent_at, std::int64_t{0});
  EXPECT_THROW(detail::deserialize_events(old_events.substr(0, old_events.size() - 1), kWhat),
               Error);

  EXPECT_EQ(detail::deserialize_events(detail::serialize_events(std::vector<EventRecord>(n)), kWhat)
                .size(),
            n);
  EXPECT_EQ(
      detail::deserialize_entities(detail::serialize_entities(std::vector<EntityRecord>(n)), kWhat)
          .size(),
      n);
  EventRecord many_impressions;
  many_impressions.impression.assign(n, "");
  EXPECT_EQ(detail::deserialize_events(detail::serialize_events({many_impressions}), kWhat)[0]
                .impression.size(),
            n);
  detail::VersionIndex index;
  index.versions.assign(n, VersionInfo{});
  EXPECT_EQ(detail::deserialize_version_index(detail::serialize_version_index(index), kWhat)
                .versions.size(),
            n);
}

TEST(SerializeBounds, EntityCountsAndLengthsPatchedAreRefused) {
  const std::string payload = detail::serialize_entities({{"id-1", "{}"}, {"id-2", R"({"a":1})"}});
  const std::size_t count = detail::serialize_entities({}).size() - 8;
  ASSERT_EQ(u64_at(payload, count), 2u);
  expect_each_patch_refused(kEntities, payload, count, "the record count");
  expect_each_patch_refused(kEntities, payload, length_of(payload, R"({"a":1})"),
                            "the last length");
}

TEST(SerializeBounds, SnapshotCountsAndLengthsPatchedAreRefused) {
  const std::string payload = group_payload();
  // The interactions schema is the first string; the users' names are one buffer followed by
  // the count of their end offsets; the event id hashes (one per stored event) end the payload.
  const std::string schema = tiny_group().schema(DatasetKind::Interactions).json();
  expect_each_patch_refused(kGroup, payload, length_of(payload, schema), "the schema's length");
  const std::size_t names = length_of(payload, "user-auser-b");
  expect_each_patch_refused(kGroup, payload, names, "the user names' length");
  ASSERT_EQ(u64_at(payload, names + 8 + 12), 2u);
  expect_each_patch_refused(kGroup, payload, names + 8 + 12, "the user offsets' count");
  const std::size_t event_ids = payload.size() - 3 * 8 - 8;
  ASSERT_EQ(u64_at(payload, event_ids), 3u);
  expect_each_patch_refused(kGroup, payload, event_ids, "the event id count");
  expect_each_patch_refused(kGroup, payload, length_of(payload, "group-identity"),
                            "the group id's length");
}

TEST(SerializeBounds, VersionCountsLengthsAndShapesPatchedAreRefused) {
  const std::string payload = als_version_payload();
  expect_each_patch_refused(kVersion, payload, length_of(payload, "als-solution"),
                            "the name's length");
  // The model's sections, each a name, a kind byte and a byte count: "shape" holds 3 user
  // rows, 5 item rows and 4 factors, "user_factors" 12 floats.
  const std::size_t shape = length_of(payload, "shape") + 8 + 5 + 1;
  ASSERT_EQ(u64_at(payload, shape), 24u);
  const std::size_t user_rows = shape + 8;
  ASSERT_EQ(u64_at(payload, user_rows), 3u);
  ASSERT_EQ(u64_at(payload, user_rows + 8), 5u);
  ASSERT_EQ(u64_at(payload, user_rows + 16), 4u);
  const std::size_t user_factors = length_of(payload, "user_factors") + 8 + 12 + 1;
  ASSERT_EQ(u64_at(payload, user_factors), 48u);
  expect_each_patch_refused(kVersion, payload, user_factors, "the user factors' byte count");
  expect_each_patch_refused(kVersion, payload, shape, "the shape's byte count");
  expect_each_patch_refused(kVersion, payload, user_rows, "the user row count");
  expect_each_patch_refused(kVersion, payload, user_rows + 16, "the factor count");
  // A row count that wraps around 2^64 when multiplied by the factor count.
  expect_refused(kVersion, with_u64(payload, user_rows, 3 + (std::uint64_t{1} << 62)),
                 "the user row count + 2^62");
  expect_refused(kVersion, with_u64(payload, user_rows + 8, 5 + (std::uint64_t{1} << 62)),
                 "the item row count + 2^62");
}

TEST(SerializeBounds, VersionIndexAndCatalogCountsPatchedAreRefused) {
  const std::string index = version_index_payload();
  const std::size_t versions = length_of(index, "000002") + 8 + 6;
  ASSERT_EQ(u64_at(index, versions), 2u);
  expect_each_patch_refused(kVersionIndex, index, versions, "the version count");
  expect_each_patch_refused(kVersionIndex, index, length_of(index, "000001"),
                            "a version id's length");

  const std::string catalog = catalog_payload();
  const std::size_t keys = length_of(catalog, "filter-one") - 8;
  ASSERT_EQ(u64_at(catalog, keys), 1u);
  expect_each_patch_refused(kCatalog, catalog, keys, "the filter count");
  expect_each_patch_refused(kCatalog, catalog, length_of(catalog, "solution-one"),
                            "the last length");
}

TEST(SerializeBounds, EveryCorruptedEventsPayloadDecodesOrThrowsError) {
  expect_every_corruption_handled(kEvents, events_payload());
}

TEST(SerializeBounds, EveryCorruptedEntitiesPayloadDecodesOrThrowsError) {
  expect_every_corruption_handled(
      kEntities, detail::serialize_entities({{"id-1", "{}"}, {"id-2", R"({"a":1})"}}));
}

TEST(SerializeBounds, EveryCorruptedSnapshotDecodesOrThrowsError) {
  expect_every_corruption_handled(kGroup, group_payload());
}

TEST(SerializeBounds, EveryCorruptedVersionDecodesOrThrowsError) {
  expect_every_corruption_handled(kVersion, als_version_payload());
  expect_every_corruption_handled(kVersion, knn_version_payload());
}

TEST(SerializeBounds, EveryCorruptedIndexOrCatalogDecodesOrThrowsError) {
  expect_every_corruption_handled(kVersionIndex, version_index_payload());
  expect_every_corruption_handled(kCatalog, catalog_payload());
}

}  // namespace
}  // namespace tailor
