// SPDX-License-Identifier: MIT
// A small owned JSON tree for configuration-sized documents (schemas, hyperparameters).
// simdjson stays behind this boundary: only json_simdjson.cpp includes it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/export.hpp"

namespace tailor::detail {

class Json {
 public:
  enum class Kind { Null, Bool, Int, Real, String, Array, Object };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Real; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  bool as_bool() const { return bool_; }
  std::int64_t as_int() const { return int_; }
  double as_real() const { return kind_ == Kind::Int ? static_cast<double>(int_) : real_; }
  const std::string& as_string() const { return string_; }
  const std::vector<Json>& items() const { return array_; }
  /// Object members in document order.
  const std::vector<std::pair<std::string, Json>>& members() const { return object_; }
  /// Member `key`, or nullptr.
  const Json* find(std::string_view key) const;

  static Json make_null() { return Json(Kind::Null); }
  static Json make_bool(bool v) {
    Json j(Kind::Bool);
    j.bool_ = v;
    return j;
  }
  static Json make_int(std::int64_t v) {
    Json j(Kind::Int);
    j.int_ = v;
    return j;
  }
  static Json make_real(double v) {
    Json j(Kind::Real);
    j.real_ = v;
    return j;
  }
  static Json make_string(std::string v) {
    Json j(Kind::String);
    j.string_ = std::move(v);
    return j;
  }
  static Json make_array(std::vector<Json> v) {
    Json j(Kind::Array);
    j.array_ = std::move(v);
    return j;
  }
  static Json make_object(std::vector<std::pair<std::string, Json>> v) {
    Json j(Kind::Object);
    j.object_ = std::move(v);
    return j;
  }

 private:
  explicit Json(Kind k) : kind_(k) {}
  Kind kind_;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double real_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::vector<std::pair<std::string, Json>> object_;
};

/// Parses one JSON document. Throws Error(ParseError) naming `what` (e.g. "schema") and the
/// reason; duplicate object keys are an error.
Json parse_json(std::string_view text, std::string_view what);

/// Name of a JSON kind for error messages ("a string", "an object", ...).
const char* describe(Json::Kind kind);

/// True when `bytes` is valid UTF-8 (SIMD-accelerated).
bool is_valid_utf8(const char* bytes, std::size_t length);

/// Appends `s` to `out` as a JSON string literal, quotes included.
/// Exported for the command line (its JSON output); this header is not installed.
TAILOR_EXPORT void append_json_string(std::string& out, std::string_view s);

/// Appends `value` to `out` as compact JSON text (numbers in their shortest exact form).
void append_json(std::string& out, const Json& value);

}  // namespace tailor::detail
