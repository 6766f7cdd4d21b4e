// SPDX-License-Identifier: MIT
// JSON records for put_events / put_users / put_items: one Personalize event, user or item as a
// JSON object (a line of a JSON Lines file, or the body of a request), read strictly.
#pragma once

#include <string>
#include <string_view>

#include "tailor/data/dataset_group.hpp"
#include "tailor/error.hpp"
#include "tailor/export.hpp"
#include "tailor/schema/schema.hpp"

namespace tailor {

/// A JSON record that cannot be read: an Error(ParseError) that also names the key at fault.
class TAILOR_EXPORT RecordError : public Error {
 public:
  /// @param field the JSON key at fault ("sentAt"), or empty for the record as a whole
  /// @param reason what was wrong and what was expected
  RecordError(std::string field, const std::string& reason);
  /// The JSON key at fault, or empty when the record as a whole is bad (e.g. malformed JSON).
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

/// Parses one event as Personalize's PutEvents sends it, with userId and sessionId in the same
/// object: {"userId", "sessionId", "eventId", "eventType", "eventValue", "itemId", "sentAt",
/// "impression", "recommendationId", "properties"}; "trackingId" and "metricAttribution" are
/// accepted and not used.
///
/// Rules: sentAt is required, a JSON number of epoch seconds within the range of a long (a
/// fraction is truncated); eventValue a JSON number that is finite as a float (a value too small
/// for a float rounds to 0); the ids, eventType and recommendationId JSON strings; eventId 1 to
/// 256 characters; impression an array of strings; properties an object, or a string holding one
/// (as Personalize sends it), kept as the JSON text of the object. No string may hold a NUL
/// character; a key given twice and an unknown key are errors; null is the same as absent.
/// Whether the required ids are there, and the limits of put_events, are checked by put_events.
/// @throws tailor::RecordError (ParseError) naming the field and the reason
TAILOR_EXPORT EventRecord parse_event_json(std::string_view json);

/// Parses one user ({"userId", "properties"}) or item ({"itemId", "properties"}) for put_users
/// or put_items; `kind` is Users or Items. The id is a non-empty JSON string; properties an
/// object, or a string holding one, kept as the JSON text of the object (absent: no metadata).
/// Whether the properties are fields of the schema is checked by put_users / put_items.
/// @throws tailor::RecordError (ParseError) naming the field and the reason,
///         tailor::Error(InvalidArgument) when `kind` is Interactions
TAILOR_EXPORT EntityRecord parse_entity_json(std::string_view json, DatasetKind kind);

}  // namespace tailor
