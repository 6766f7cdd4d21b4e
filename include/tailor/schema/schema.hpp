// SPDX-License-Identifier: MIT
// Dataset schemas in the Avro JSON form Personalize uses, with every rule checked on parse.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"

namespace tailor {

/// The three kinds of dataset a DatasetGroup holds.
enum class DatasetKind { Interactions, Users, Items };

/// "Interactions", "Users" or "Items": the record name a schema of that kind must carry.
TAILOR_EXPORT const char* to_string(DatasetKind kind) noexcept;
/// Parses "interactions" / "users" / "items" (any case). Throws Error(InvalidArgument).
TAILOR_EXPORT DatasetKind parse_dataset_kind(std::string_view text);

/// Avro primitive types a field may have ("null" appears only inside a nullable union).
enum class FieldType { String, Int, Long, Float, Double, Boolean };

/// Avro name of a field type, e.g. "long".
TAILOR_EXPORT const char* to_string(FieldType type) noexcept;

/// Documented limits on values and schemas (Personalize's, where it has one).
struct Limits {
  static constexpr std::size_t kMaxSchemaLength = 10000;      ///< characters of schema JSON
  static constexpr std::size_t kMaxIdLength = 256;            ///< USER_ID / ITEM_ID
  static constexpr std::size_t kMaxCategoricalLength = 1000;  ///< a categorical value, `|` included
  static constexpr std::size_t kMaxStringLength = 1000;       ///< other non-textual strings
  static constexpr std::size_t kMaxTextualLength = 20000;     ///< textual values are truncated
  static constexpr std::size_t kMaxInteractionsMetadata = 5;  ///< non-reserved interaction fields
  static constexpr std::size_t kMaxUsersMetadata = 5;
  static constexpr std::size_t kMaxItemsMetadata = 50;
};

/// One field of a schema.
struct Field {
  std::string name;
  FieldType type = FieldType::String;
  bool nullable = false;     ///< declared as a union with "null"
  bool categorical = false;  ///< string, multi-valued with `|`, dictionary-encoded
  bool textual = false;      ///< string, free text (Items only), truncated past the limit

  bool is_numeric() const {
    return type == FieldType::Int || type == FieldType::Long || type == FieldType::Float ||
           type == FieldType::Double;
  }
  bool is_integral() const { return type == FieldType::Int || type == FieldType::Long; }
};

/// A validated dataset schema.
///
/// Thread safety: immutable after construction; safe to share between threads.
class TAILOR_EXPORT Schema {
 public:
  /// Parses and validates a schema.
  /// @param json the Avro JSON text, at most Limits::kMaxSchemaLength characters
  /// @param kind the dataset this schema is for; the record name must match it
  /// @throws tailor::Error(ParseError) for malformed JSON,
  ///         tailor::Error(SchemaMismatch) naming the field and the broken rule otherwise
  static Schema parse(std::string_view json, DatasetKind kind);

  /// Reads a schema file. @throws tailor::Error(Io) if it cannot be read, else as parse().
  static Schema load(const std::string& path, DatasetKind kind);

  DatasetKind kind() const { return kind_; }
  /// The fields in declaration order.
  const std::vector<Field>& fields() const { return fields_; }
  /// Field named `name` (exact, case-sensitive), or nullptr.
  const Field* find(std::string_view name) const;
  /// Position of field `name`, or -1.
  int index_of(std::string_view name) const;
  /// The JSON text this schema was parsed from (kept for persistence and display).
  const std::string& json() const { return json_; }

 private:
  Schema() = default;
  DatasetKind kind_ = DatasetKind::Interactions;
  std::vector<Field> fields_;
  std::string json_;
};

}  // namespace tailor
