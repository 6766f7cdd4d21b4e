// SPDX-License-Identifier: MIT
// Schema parsing and the rules of Personalize's dataset schemas.
#include "tailor/schema/schema.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "detail/text.hpp"
#include "io/json.hpp"
#include "tailor/error.hpp"

namespace tailor {

const char* to_string(DatasetKind kind) noexcept {
  switch (kind) {
    case DatasetKind::Interactions:
      return "Interactions";
    case DatasetKind::Users:
      return "Users";
    case DatasetKind::Items:
      return "Items";
  }
  return "?";
}

DatasetKind parse_dataset_kind(std::string_view text) {
  const std::string lower = detail::to_lower(text);
  if (lower == "interactions") return DatasetKind::Interactions;
  if (lower == "users") return DatasetKind::Users;
  if (lower == "items") return DatasetKind::Items;
  TAILOR_THROW(ErrorCode::InvalidArgument, "unknown dataset \"", text,
               "\": expected interactions, users or items");
}

const char* to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::String:
      return "string";
    case FieldType::Int:
      return "int";
    case FieldType::Long:
      return "long";
    case FieldType::Float:
      return "float";
    case FieldType::Double:
      return "double";
    case FieldType::Boolean:
      return "boolean";
  }
  return "?";
}

namespace {

using detail::Json;

bool parse_type_name(const std::string& name, FieldType& out) {
  static const std::map<std::string, FieldType> kTypes = {
      {"string", FieldType::String}, {"int", FieldType::Int},
      {"long", FieldType::Long},     {"float", FieldType::Float},
      {"double", FieldType::Double}, {"boolean", FieldType::Boolean}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return false;
  out = it->second;
  return true;
}

// Avro names: [A-Za-z_][A-Za-z0-9_]*
bool is_avro_name(const std::string& name) {
  if (name.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::string alnum_only(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c)) out.push_back(static_cast<char>(c));
  }
  return out;
}

// What a reserved field must look like.
struct Reserved {
  const char* name;
  FieldType type;
  bool may_be_nullable;
  bool categorical;  // must be categorical (true) or must not be (false)
};

const std::vector<Reserved>& reserved_fields(DatasetKind kind) {
  static const std::vector<Reserved> kInteractions = {
      {"USER_ID", FieldType::String, false, false},
      {"ITEM_ID", FieldType::String, false, false},
      {"TIMESTAMP", FieldType::Long, false, false},
      {"EVENT_TYPE", FieldType::String, true, false},
      {"EVENT_VALUE", FieldType::Float, true, false},
      {"IMPRESSION", FieldType::String, true, false},
      {"RECOMMENDATION_ID", FieldType::String, true, false},
      {"EVENT_ATTRIBUTION_SOURCE", FieldType::String, true, false},
  };
  static const std::vector<Reserved> kUsers = {{"USER_ID", FieldType::String, false, false}};
  static const std::vector<Reserved> kItems = {
      {"ITEM_ID", FieldType::String, false, false},
      {"CREATION_TIMESTAMP", FieldType::Long, true, false},
  };
  switch (kind) {
    case DatasetKind::Interactions:
      return kInteractions;
    case DatasetKind::Users:
      return kUsers;
    case DatasetKind::Items:
      return kItems;
  }
  return kUsers;
}

std::vector<const char*> required_fields(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::Interactions:
      return {"USER_ID", "ITEM_ID", "TIMESTAMP"};
    case DatasetKind::Users:
      return {"USER_ID"};
    case DatasetKind::Items:
      return {"ITEM_ID"};
  }
  return {};
}

Field parse_field(const Json& j, std::size_t position, DatasetKind kind) {
  TAILOR_THROW_IF(!j.is_object(), ErrorCode::SchemaMismatch, "schema field #", position + 1,
                  ": expected an object with \"name\" and \"type\", found ",
                  detail::describe(j.kind()));
  const Json* name = j.find("name");
  TAILOR_THROW_IF(!name || !name->is_string(), ErrorCode::SchemaMismatch, "schema field #",
                  position + 1, ": \"name\" must be a string");
  Field f;
  f.name = name->as_string();
  TAILOR_THROW_IF(!is_avro_name(f.name), ErrorCode::SchemaMismatch, "schema field \"", f.name,
                  "\": a name must match [A-Za-z_][A-Za-z0-9_]*");
  const Json* type = j.find("type");
  TAILOR_THROW_IF(!type, ErrorCode::SchemaMismatch, "schema field ", f.name,
                  ": \"type\" is missing");
  if (type->is_string()) {
    TAILOR_THROW_IF(type->as_string() == "null", ErrorCode::SchemaMismatch, "schema field ", f.name,
                    ": type \"null\" is allowed only in a union such as [\"null\",\"string\"]");
    TAILOR_THROW_IF(!parse_type_name(type->as_string(), f.type), ErrorCode::SchemaMismatch,
                    "schema field ", f.name, ": unsupported type \"", type->as_string(),
                    "\" (expected string, int, long, float, double or boolean; arrays, maps and "
                    "records are not allowed)");
  } else if (type->is_array()) {
    const auto& members = type->items();
    bool ok = members.size() == 2 && members[0].is_string() && members[1].is_string();
    int null_at = -1;
    if (ok) {
      if (members[0].as_string() == "null")
        null_at = 0;
      else if (members[1].as_string() == "null")
        null_at = 1;
    }
    ok = ok && null_at >= 0;
    TAILOR_THROW_IF(!ok, ErrorCode::SchemaMismatch, "schema field ", f.name,
                    ": a union type must be [\"null\", T] with T a primitive type");
    const std::string& other = members[1 - null_at].as_string();
    TAILOR_THROW_IF(!parse_type_name(other, f.type), ErrorCode::SchemaMismatch, "schema field ",
                    f.name, ": unsupported type \"", other, "\" in nullable union");
    f.nullable = true;
  } else {
    TAILOR_THROW(ErrorCode::SchemaMismatch, "schema field ", f.name,
                 ": \"type\" must be a type name or a [\"null\", T] union");
  }
  for (const auto& [key, value] : j.members()) {
    if (key == "name" || key == "type" || key == "doc" || key == "default") continue;
    if (key == "categorical" || key == "textual") {
      TAILOR_THROW_IF(!value.is_bool(), ErrorCode::SchemaMismatch, "schema field ", f.name, ": \"",
                      key, "\" must be true or false");
      (key == "categorical" ? f.categorical : f.textual) = value.as_bool();
      continue;
    }
    TAILOR_THROW(ErrorCode::SchemaMismatch, "schema field ", f.name, ": unknown attribute \"", key,
                 "\" (expected name, type, categorical, textual, doc or default)");
  }
  TAILOR_THROW_IF(f.categorical && f.type != FieldType::String, ErrorCode::SchemaMismatch,
                  "schema field ", f.name, ": only string fields can be categorical");
  TAILOR_THROW_IF(f.textual && f.type != FieldType::String, ErrorCode::SchemaMismatch,
                  "schema field ", f.name, ": only string fields can be textual");
  TAILOR_THROW_IF(f.textual && f.categorical, ErrorCode::SchemaMismatch, "schema field ", f.name,
                  ": a field cannot be both categorical and textual");
  TAILOR_THROW_IF(f.textual && kind != DatasetKind::Items, ErrorCode::SchemaMismatch,
                  "schema field ", f.name, ": textual fields are allowed only in an Items schema");
  return f;
}

}  // namespace

Schema Schema::parse(std::string_view json, DatasetKind kind) {
  TAILOR_THROW_IF(json.size() > Limits::kMaxSchemaLength, ErrorCode::SchemaMismatch,
                  to_string(kind), " schema: ", json.size(), " characters, more than the limit of ",
                  Limits::kMaxSchemaLength);
  const Json root = detail::parse_json(json, std::string(to_string(kind)) + " schema");
  TAILOR_THROW_IF(!root.is_object(), ErrorCode::SchemaMismatch, to_string(kind),
                  " schema: expected a JSON object, found ", detail::describe(root.kind()));
  const Json* type = root.find("type");
  TAILOR_THROW_IF(!type || !type->is_string() || type->as_string() != "record",
                  ErrorCode::SchemaMismatch, to_string(kind),
                  " schema: \"type\" must be \"record\"");
  const Json* name = root.find("name");
  TAILOR_THROW_IF(!name || !name->is_string() || name->as_string() != to_string(kind),
                  ErrorCode::SchemaMismatch, to_string(kind), " schema: \"name\" must be \"",
                  to_string(kind), "\", the dataset it describes");
  const Json* fields = root.find("fields");
  TAILOR_THROW_IF(!fields || !fields->is_array() || fields->items().empty(),
                  ErrorCode::SchemaMismatch, to_string(kind),
                  " schema: \"fields\" must be a non-empty array");

  Schema s;
  s.kind_ = kind;
  s.json_ = std::string(json);
  std::map<std::string, std::string> stripped;  // alnum-only name -> declared name
  for (std::size_t i = 0; i < fields->items().size(); ++i) {
    Field f = parse_field(fields->items()[i], i, kind);
    auto [it, inserted] = stripped.emplace(alnum_only(f.name), f.name);
    TAILOR_THROW_IF(!inserted, ErrorCode::SchemaMismatch, "schema field ", f.name,
                    ": conflicts with field ", it->second,
                    " (names must stay unique once non-alphanumeric characters are removed)");
    s.fields_.push_back(std::move(f));
  }

  std::size_t metadata = 0;
  for (const Field& f : s.fields_) {
    const auto& reserved = reserved_fields(kind);
    auto r = std::find_if(reserved.begin(), reserved.end(),
                          [&](const Reserved& x) { return f.name == x.name; });
    if (r == reserved.end()) {
      TAILOR_THROW_IF(kind != DatasetKind::Items && f.name == "CREATION_TIMESTAMP",
                      ErrorCode::SchemaMismatch,
                      "schema field CREATION_TIMESTAMP: reserved for "
                      "Items schemas");
      ++metadata;
      continue;
    }
    TAILOR_THROW_IF(f.type != r->type, ErrorCode::SchemaMismatch, "schema field ", f.name,
                    ": reserved field must have type ", to_string(r->type), ", found ",
                    to_string(f.type));
    TAILOR_THROW_IF(f.nullable && !r->may_be_nullable, ErrorCode::SchemaMismatch, "schema field ",
                    f.name, ": reserved field cannot be nullable");
    TAILOR_THROW_IF(f.categorical != r->categorical, ErrorCode::SchemaMismatch, "schema field ",
                    f.name, ": reserved field cannot be categorical");
    TAILOR_THROW_IF(f.textual, ErrorCode::SchemaMismatch, "schema field ", f.name,
                    ": reserved field cannot be textual");
  }
  for (const char* required : required_fields(kind)) {
    TAILOR_THROW_IF(!s.find(required), ErrorCode::SchemaMismatch, to_string(kind),
                    " schema: required field ", required, " is missing");
  }
  switch (kind) {
    case DatasetKind::Interactions:
      TAILOR_THROW_IF(metadata > Limits::kMaxInteractionsMetadata, ErrorCode::SchemaMismatch,
                      "Interactions schema: ", metadata,
                      " metadata fields, more than the limit of ",
                      Limits::kMaxInteractionsMetadata);
      break;
    case DatasetKind::Users:
    case DatasetKind::Items: {
      std::size_t limit =
          kind == DatasetKind::Users ? Limits::kMaxUsersMetadata : Limits::kMaxItemsMetadata;
      TAILOR_THROW_IF(
          metadata == 0 && !(kind == DatasetKind::Items && s.find("CREATION_TIMESTAMP")),
          ErrorCode::SchemaMismatch, to_string(kind),
          " schema: needs at least one metadata field besides the id");
      TAILOR_THROW_IF(metadata > limit, ErrorCode::SchemaMismatch, to_string(kind),
                      " schema: ", metadata, " metadata fields, more than the limit of ", limit);
      break;
    }
  }
  return s;
}

Schema Schema::load(const std::string& path, DatasetKind kind) {
  std::ifstream in(path, std::ios::binary);
  TAILOR_THROW_IF(!in, ErrorCode::Io, "cannot open schema file ", path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return parse(text.str(), kind);
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + e.what());
  }
}

const Field* Schema::find(std::string_view name) const {
  int i = index_of(name);
  return i < 0 ? nullptr : &fields_[static_cast<std::size_t>(i)];
}

int Schema::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace tailor
