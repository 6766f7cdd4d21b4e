// SPDX-License-Identifier: MIT
// The only translation unit that includes simdjson: error codes are converted to
// tailor::Error here, once.
#include "io/json.hpp"

#include <simdjson.h>

#include <charconv>
#include <set>

#include "tailor/error.hpp"

namespace tailor::detail {

const Json* Json::find(std::string_view key) const {
  for (const auto& [k, v] : object_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const char* describe(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::Null:
      return "null";
    case Json::Kind::Bool:
      return "a boolean";
    case Json::Kind::Int:
      return "an integer";
    case Json::Kind::Real:
      return "a number";
    case Json::Kind::String:
      return "a string";
    case Json::Kind::Array:
      return "an array";
    case Json::Kind::Object:
      return "an object";
  }
  return "?";
}

namespace {

Json convert(simdjson::dom::element e, std::string_view what, int depth) {
  TAILOR_THROW_IF(depth > 64, ErrorCode::ParseError, what, ": JSON nested deeper than 64 levels");
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return Json::make_null();
    case simdjson::dom::element_type::BOOL:
      return Json::make_bool(e.get_bool().value());
    case simdjson::dom::element_type::INT64:
      return Json::make_int(e.get_int64().value());
    case simdjson::dom::element_type::UINT64:
      return Json::make_real(static_cast<double>(e.get_uint64().value()));
    case simdjson::dom::element_type::DOUBLE:
      return Json::make_real(e.get_double().value());
    case simdjson::dom::element_type::STRING:
      return Json::make_string(std::string(e.get_string().value()));
    case simdjson::dom::element_type::ARRAY: {
      std::vector<Json> items;
      simdjson::dom::array array = e.get_array().value();  // a named copy: no dangling temporary
      for (auto child : array) items.push_back(convert(child, what, depth + 1));
      return Json::make_array(std::move(items));
    }
    case simdjson::dom::element_type::OBJECT: {
      std::vector<std::pair<std::string, Json>> members;
      std::set<std::string_view> seen;
      simdjson::dom::object object = e.get_object().value();
      for (auto field : object) {
        TAILOR_THROW_IF(!seen.insert(field.key).second, ErrorCode::ParseError, what,
                        ": duplicate key \"", field.key, "\"");
        members.emplace_back(std::string(field.key), convert(field.value, what, depth + 1));
      }
      return Json::make_object(std::move(members));
    }
  }
  TAILOR_THROW(ErrorCode::Internal, what, ": unknown JSON element type");
}

}  // namespace

Json parse_json(std::string_view text, std::string_view what) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  auto error = parser.parse(padded).get(root);
  TAILOR_THROW_IF(error != simdjson::SUCCESS, ErrorCode::ParseError, what, ": invalid JSON (",
                  simdjson::error_message(error), ")");
  return convert(root, what, 0);
}

bool is_valid_utf8(const char* bytes, std::size_t length) {
  return simdjson::validate_utf8(bytes, length);
}

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_json(std::string& out, const Json& value) {
  switch (value.kind()) {
    case Json::Kind::Null:
      out += "null";
      break;
    case Json::Kind::Bool:
      out += value.as_bool() ? "true" : "false";
      break;
    case Json::Kind::Int:
      out += std::to_string(value.as_int());
      break;
    case Json::Kind::Real: {
      char buffer[32];  // parsed JSON numbers are finite: the shortest form is valid JSON
      auto result = std::to_chars(buffer, buffer + sizeof buffer, value.as_real());
      out.append(buffer, result.ptr);
      break;
    }
    case Json::Kind::String:
      append_json_string(out, value.as_string());
      break;
    case Json::Kind::Array:
      out.push_back('[');
      for (std::size_t k = 0; k < value.items().size(); ++k) {
        if (k) out.push_back(',');
        append_json(out, value.items()[k]);
      }
      out.push_back(']');
      break;
    case Json::Kind::Object:
      out.push_back('{');
      for (std::size_t k = 0; k < value.members().size(); ++k) {
        if (k) out.push_back(',');
        append_json_string(out, value.members()[k].first);
        out.push_back(':');
        append_json(out, value.members()[k].second);
      }
      out.push_back('}');
      break;
  }
}

}  // namespace tailor::detail
