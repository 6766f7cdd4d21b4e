// SPDX-License-Identifier: MIT
// JSON records for the put_* calls. Reading is strict on purpose: a value of the wrong kind is
// an error with a reason, never a silent default (a missing sentAt once stored events at 1970).
#include "tailor/io/records.hpp"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "io/json.hpp"
#include "tailor/limits.hpp"

namespace tailor {

RecordError::RecordError(std::string field, const std::string& reason)
    : Error(ErrorCode::ParseError, reason), field_(std::move(field)) {}

namespace {

using detail::Json;

// UTF-8 code points: limits are in characters.
std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// A string of the record may not hold NUL: ids and values are C strings to many consumers.
void check_no_nul(const std::string& key, std::string_view s) {
  if (s.find('\0') != std::string_view::npos) {
    throw RecordError(key, key + " contains a NUL character (\\u0000)");
  }
}

// Every string in a properties value, keys included.
void check_no_nul_inside(const std::string& key, const Json& value) {
  if (value.is_string()) check_no_nul(key, value.as_string());
  for (const Json& item : value.items()) check_no_nul_inside(key, item);
  for (const auto& [name, member] : value.members()) {
    check_no_nul(key, name);
    check_no_nul_inside(key, member);
  }
}

Json parse_object(std::string_view text, const char* what) {
  Json root = Json::make_null();
  try {
    root = detail::parse_json(text, "malformed JSON");
  } catch (const Error& e) {
    // "malformed JSON: invalid JSON (why)" says it twice: "malformed JSON (why)".
    std::string reason = e.what();
    const std::string twice = "malformed JSON: invalid JSON (";
    if (reason.compare(0, twice.size(), twice) == 0)
      reason = "malformed JSON (" + reason.substr(twice.size());
    throw RecordError("", reason);
  }
  if (!root.is_object()) {
    throw RecordError(
        "", std::string(what) + " must be a JSON object, found " + detail::describe(root.kind()));
  }
  return root;
}

std::string string_value(const std::string& key, const Json& value) {
  if (!value.is_string()) {
    throw RecordError(key, key + " must be a JSON string, found " + detail::describe(value.kind()));
  }
  check_no_nul(key, value.as_string());
  return value.as_string();
}

// Epoch seconds: TIMESTAMP is a long. A fraction is truncated; a value past the range of a
// long is refused rather than wrapped.
std::int64_t timestamp_value(const std::string& key, const Json& value) {
  if (value.is_int()) return value.as_int();
  if (!value.is_number()) {
    throw RecordError(key, key + " must be a JSON number (epoch seconds), found " +
                               detail::describe(value.kind()));
  }
  const double v = std::trunc(value.as_real());
  // 2^63 is exact in a double; every double below it and at or above -2^63 fits in a long.
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value.as_real());
    throw RecordError(
        key, key + " " + buffer + " is out of range for a timestamp (epoch seconds in a long)");
  }
  return static_cast<std::int64_t>(v);
}

float float_value(const std::string& key, const Json& value) {
  if (!value.is_number()) {
    throw RecordError(key, key + " must be a JSON number, found " + detail::describe(value.kind()));
  }
  const double v = value.as_real();
  // Too small for a float rounds to 0 or a subnormal; too large is an error, not infinity.
  if (!(std::fabs(v) <= static_cast<double>(FLT_MAX))) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v);
    throw RecordError(key, key + " " + buffer + " is out of range for a float");
  }
  return static_cast<float>(v);
}

// An object, or a string holding one (Personalize sends properties as a string): the JSON text
// of the object.
std::string properties_value(const std::string& key, const Json& value) {
  if (value.is_object()) {
    check_no_nul_inside(key, value);
    std::string text;
    detail::append_json(text, value);
    return text;
  }
  if (!value.is_string()) {
    throw RecordError(key, key + " must be a JSON object or a string holding one, found " +
                               detail::describe(value.kind()));
  }
  Json inner = Json::make_null();
  try {
    inner = detail::parse_json(value.as_string(), key);
  } catch (const Error& e) {
    throw RecordError(key, std::string(e.what()) + " (a string must hold a JSON object)");
  }
  if (!inner.is_object()) {
    throw RecordError(
        key, key + " must be a JSON object or a string holding one, found a string holding " +
                 detail::describe(inner.kind()));
  }
  check_no_nul_inside(key, inner);
  return value.as_string();
}

}  // namespace

EventRecord parse_event_json(std::string_view json) {
  const Json root = parse_object(json, "an event");
  EventRecord e;
  for (const auto& [key, value] : root.members()) {
    if (value.is_null()) continue;
    if (key == "userId") {
      e.user_id = string_value(key, value);
    } else if (key == "sessionId") {
      e.session_id = string_value(key, value);
    } else if (key == "itemId") {
      e.item_id = string_value(key, value);
    } else if (key == "eventType") {
      e.event_type = string_value(key, value);
    } else if (key == "eventId") {
      e.event_id = string_value(key, value);
      const std::size_t length = characters(e.event_id);
      if (length == 0 || length > PutLimits::kMaxIdLength) {
        throw RecordError(
            key, "eventId of " + std::to_string(length) + " characters: expected 1 to 256");
      }
    } else if (key == "recommendationId") {
      e.recommendation_id = string_value(key, value);
    } else if (key == "sentAt") {
      e.sent_at = timestamp_value(key, value);
    } else if (key == "eventValue") {
      e.event_value = float_value(key, value);
    } else if (key == "impression") {
      if (!value.is_array()) {
        throw RecordError(key, std::string("impression must be a JSON array of item ids, found ") +
                                   detail::describe(value.kind()));
      }
      for (const Json& id : value.items()) e.impression.push_back(string_value(key, id));
    } else if (key == "properties") {
      e.properties = properties_value(key, value);
    } else if (key == "trackingId") {
      string_value(key, value);  // Personalize's event tracker: nothing to track here
    } else if (key == "metricAttribution") {
      // Personalize's {"eventAttributionSource": "..."}: accepted, not used.
      const Json* source = value.is_object() ? value.find("eventAttributionSource") : nullptr;
      if (!source || value.members().size() != 1) {
        throw RecordError(key, "metricAttribution must be {\"eventAttributionSource\": \"...\"}");
      }
      string_value(key, *source);
    } else {
      throw RecordError(
          key.substr(0, 100),
          "unknown field \"" + key.substr(0, 100) +
              "\" (an event has userId, sessionId, eventId, eventType, eventValue, itemId, "
              "sentAt, impression, recommendationId, properties, trackingId and "
              "metricAttribution)");
    }
  }
  if (!e.sent_at) {
    throw RecordError("sentAt",
                      "sentAt is required (the event's time in epoch seconds, a JSON number)");
  }
  return e;
}

EntityRecord parse_entity_json(std::string_view json, DatasetKind kind) {
  TAILOR_THROW_IF(kind == DatasetKind::Interactions, ErrorCode::InvalidArgument,
                  "parse_entity_json reads users or items, not interactions");
  const char* id_key = kind == DatasetKind::Users ? "userId" : "itemId";
  const Json root = parse_object(json, kind == DatasetKind::Users ? "a user" : "an item");
  EntityRecord e;
  bool has_id = false;
  for (const auto& [key, value] : root.members()) {
    if (key == id_key) {
      if (value.is_null()) continue;
      e.id = string_value(key, value);
      has_id = true;
    } else if (key == "properties") {
      if (!value.is_null()) e.properties = properties_value(key, value);
    } else {
      throw RecordError(key.substr(0, 100), "unknown field \"" + key.substr(0, 100) + "\" (a " +
                                                (kind == DatasetKind::Users ? "user" : "item") +
                                                " has " + id_key + " and properties)");
    }
  }
  if (!has_id || e.id.empty()) {
    throw RecordError(id_key, std::string(id_key) + " is required (a non-empty JSON string)");
  }
  return e;
}

}  // namespace tailor
