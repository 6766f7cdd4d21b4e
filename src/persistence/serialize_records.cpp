// SPDX-License-Identifier: MIT
// Update-log records: put_events events and put_users / put_items entities.
#include "persistence/serialize.hpp"
#include "persistence/serialize_archive.hpp"

namespace tailor::detail {

namespace {

struct EventsImage {
  std::vector<EventRecord> events;
};
struct EntitiesImage {
  std::vector<EntityRecord> records;
};

}  // namespace

// Version 0: four ids, has_value, value, sent_at, the impression count, recommendation_id,
// properties (version 1 adds has_sent_at and event_id)
template <>
constexpr std::uint64_t kMinBytes<EventRecord> = 4 * kLength + 1 + 4 + 8 + 3 * kLength;
template <>
constexpr std::uint64_t kMinBytes<EntityRecord> = 2 * kLength;  // id, properties

}  // namespace tailor::detail

BOOST_CLASS_VERSION(tailor::detail::EventsImage, 1)
BOOST_CLASS_VERSION(tailor::detail::EntitiesImage, 1)
BOOST_CLASS_VERSION(tailor::EventRecord, 1)  // 1: eventId, and sentAt optional

namespace boost::serialization {

// Version 0 (no event id, sentAt always present) is still read from old update logs.
template <class Archive>
void serialize(Archive& ar, tailor::EventRecord& x, const unsigned int version) {
  TAILOR_TEXT(user_id);
  TAILOR_TEXT(session_id);
  TAILOR_TEXT(item_id);
  TAILOR_TEXT(event_type);
  std::uint8_t has_value = x.event_value.has_value();
  float value = x.event_value.value_or(0.0f);
  std::uint8_t has_sent_at = x.sent_at.has_value();
  std::int64_t sent_at = x.sent_at.value_or(0);
  ar& has_value& value;
  if (version >= 1) ar& has_sent_at;
  ar& sent_at;
  if constexpr (!Archive::is_saving::value) {
    x.event_value.reset();
    if (has_value) x.event_value = value;
    x.sent_at.reset();
    if (version == 0 || has_sent_at) x.sent_at = sent_at;
  }
  if (version >= 1) {
    TAILOR_TEXT(event_id);
  }
  tailor::detail::image_vector_strings(ar, x.impression);
  TAILOR_TEXT(recommendation_id);
  TAILOR_TEXT(properties);
}

template <class Archive>
void serialize(Archive& ar, tailor::EntityRecord& x, const unsigned int) {
  TAILOR_TEXT(id);
  TAILOR_TEXT(properties);
}

template <class Archive>
void serialize(Archive& ar, tailor::detail::EventsImage& x, const unsigned int) {
  tailor::detail::image_vector(ar, x.events);
}
template <class Archive>
void serialize(Archive& ar, tailor::detail::EntitiesImage& x, const unsigned int) {
  tailor::detail::image_vector(ar, x.records);
}

}  // namespace boost::serialization

namespace tailor::detail {

std::string serialize_events(const std::vector<EventRecord>& events) {
  return to_bytes(EventsImage{events});
}
std::vector<EventRecord> deserialize_events(const std::string& payload, const std::string& what) {
  return from_bytes<EventsImage>(payload, what).events;
}
std::string serialize_entities(const std::vector<EntityRecord>& records) {
  return to_bytes(EntitiesImage{records});
}
std::vector<EntityRecord> deserialize_entities(const std::string& payload,
                                               const std::string& what) {
  return from_bytes<EntitiesImage>(payload, what).records;
}

}  // namespace tailor::detail
