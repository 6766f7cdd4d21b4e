// SPDX-License-Identifier: MIT
// One field table per hyperparameter struct drives validation, JSON in and out, and --help.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "io/json.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

/// An enum member of P, read and written through its index in ParamField::choices (the JSON
/// strings name the enum's values in declaration order). Made by enum_member<&P::field>().
template <typename P>
struct EnumMember {
  int (*get)(const P&);
  void (*set)(P&, int);
};

template <typename M>
struct MemberOf;
template <typename P, typename E>
struct MemberOf<E P::*> {
  using Owner = P;
  using Type = E;
};

template <auto Member>
EnumMember<typename MemberOf<decltype(Member)>::Owner> enum_member() {
  using P = typename MemberOf<decltype(Member)>::Owner;
  using E = typename MemberOf<decltype(Member)>::Type;
  static_assert(std::is_enum_v<E>);
  return {[](const P& p) { return static_cast<int>(p.*Member); },
          [](P& p, int v) { p.*Member = static_cast<E>(v); }};
}

template <typename P>
struct ParamField {
  std::string name;
  std::variant<int P::*, float P::*, bool P::*, std::string P::*, EnumMember<P>> member;
  double min = -std::numeric_limits<double>::infinity();  // inclusive bounds for numbers
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // allowed values for strings
  std::string doc;
};

template <typename P>
std::string format_value(const P& p, const ParamField<P>& f) {
  std::ostringstream out;
  std::visit(
      [&](auto member) {
        if constexpr (std::is_same_v<decltype(member), EnumMember<P>>) {
          std::string quoted;
          append_json_string(quoted, f.choices.at(static_cast<std::size_t>(member.get(p))));
          out << quoted;
        } else {
          using T = std::decay_t<decltype(p.*member)>;
          if constexpr (std::is_same_v<T, bool>)
            out << (p.*member ? "true" : "false");
          else if constexpr (std::is_same_v<T, std::string>) {
            std::string quoted;
            append_json_string(quoted, p.*member);
            out << quoted;
          } else
            out << p.*member;
        }
      },
      f.member);
  return out.str();
}

/// Throws one InvalidArgument listing every violated bound.
template <typename P>
void validate_params(const P& p, const std::vector<ParamField<P>>& fields,
                     std::string_view recipe) {
  std::string problems;
  for (const auto& f : fields) {
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(member), EnumMember<P>>) {
            const int v = member.get(p);
            if (v < 0 || static_cast<std::size_t>(v) >= f.choices.size()) {
              problems += "\n  " + f.name + " = " + std::to_string(v) + ": not a value of the enum";
            }
            return;
          } else {
            using T = std::decay_t<decltype(p.*member)>;
            if constexpr (std::is_same_v<T, std::string>) {
              if (f.choices.empty()) return;
              for (const auto& c : f.choices) {
                if (c == p.*member) return;
              }
              std::string list;
              for (const auto& c : f.choices) list += (list.empty() ? "" : ", ") + c;
              problems += "\n  " + f.name + " = \"" + p.*member + "\": expected one of " + list;
            } else if constexpr (!std::is_same_v<T, bool>) {
              double v = static_cast<double>(p.*member);
              if (!(v >= f.min && v <= f.max)) {
                std::ostringstream m;
                m << "\n  " << f.name << " = " << v << ": expected a value in [" << f.min << ", "
                  << f.max << "]";
                problems += m.str();
              }
            }
          }
        },
        f.member);
  }
  TAILOR_THROW_IF(!problems.empty(), ErrorCode::InvalidArgument, recipe,
                  " hyperparameters out of range:", problems);
}

/// Parses a JSON object of hyperparameters over the defaults in `p`; unknown keys and wrong
/// types are errors. Numbers may also be given as strings ("64"), as Personalize's API does.
template <typename P>
P params_from_json(std::string_view text, const std::vector<ParamField<P>>& fields,
                   std::string_view recipe) {
  P p;
  std::string what = std::string(recipe) + " hyperparameters";
  Json root = parse_json(text.empty() ? std::string_view("{}") : text, what);
  TAILOR_THROW_IF(!root.is_object(), ErrorCode::InvalidArgument, what,
                  ": expected a JSON object, found ", describe(root.kind()));
  for (const auto& member_of_root : root.members()) {
    // Named references, not a structured binding: lambdas below use them, which clang before 16
    // refuses for bindings (the fuzz build compiles the library with clang).
    const std::string& key = member_of_root.first;
    const Json& value = member_of_root.second;
    const ParamField<P>* field = nullptr;
    for (const auto& f : fields) {
      if (f.name == key) field = &f;
    }
    if (!field) {
      std::string names;
      for (const auto& f : fields) names += (names.empty() ? "" : ", ") + f.name;
      TAILOR_THROW(ErrorCode::InvalidArgument, what, ": unknown key \"", key, "\" (expected ",
                   names, ")");
    }
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(member), EnumMember<P>>) {
            TAILOR_THROW_IF(!value.is_string(), ErrorCode::InvalidArgument, what, ": ", key,
                            " must be a string");
            const auto at =
                std::find(field->choices.begin(), field->choices.end(), value.as_string());
            if (at == field->choices.end()) {
              std::string list;
              for (const auto& c : field->choices) list += (list.empty() ? "" : ", ") + c;
              TAILOR_THROW(ErrorCode::InvalidArgument, what, " out of range:\n  ", key, " = \"",
                           value.as_string(), "\": expected one of ", list);
            }
            member.set(p, static_cast<int>(at - field->choices.begin()));
          } else {
            using T = std::decay_t<decltype(p.*member)>;
            if constexpr (std::is_same_v<T, bool>) {
              TAILOR_THROW_IF(!value.is_bool(), ErrorCode::InvalidArgument, what, ": ", key,
                              " must be true or false");
              p.*member = value.as_bool();
            } else if constexpr (std::is_same_v<T, std::string>) {
              TAILOR_THROW_IF(!value.is_string(), ErrorCode::InvalidArgument, what, ": ", key,
                              " must be a string");
              p.*member = value.as_string();
            } else {
              double v;
              if (value.is_number()) {
                v = value.as_real();
              } else if (value.is_string()) {
                char* end = nullptr;
                v = std::strtod(value.as_string().c_str(), &end);
                TAILOR_THROW_IF(value.as_string().empty() || *end != '\0',
                                ErrorCode::InvalidArgument, what, ": ", key,
                                " must be a number, found \"", value.as_string(), "\"");
              } else {
                TAILOR_THROW(ErrorCode::InvalidArgument, what, ": ", key,
                             " must be a number, found ", describe(value.kind()));
              }
              if constexpr (std::is_integral_v<T>) {
                TAILOR_THROW_IF(v != std::floor(v) || std::abs(v) > 2e9, ErrorCode::InvalidArgument,
                                what, ": ", key, " must be an integer, found ", v);
              }
              p.*member = static_cast<T>(v);
            }
          }
        },
        field->member);
  }
  validate_params(p, fields, recipe);
  return p;
}

template <typename P>
std::string params_to_json(const P& p, const std::vector<ParamField<P>>& fields) {
  std::string out = "{";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ",";
    append_json_string(out, fields[i].name);
    out += ":" + format_value(p, fields[i]);
  }
  return out + "}";
}

template <typename P>
std::string describe_params(const std::vector<ParamField<P>>& fields) {
  P defaults;
  std::ostringstream out;
  for (const auto& f : fields) {
    out << "  " << f.name << " (default " << format_value(defaults, f);
    if (!f.choices.empty()) {
      out << "; one of";
      for (const auto& c : f.choices) out << " " << c;
    } else if (std::isfinite(f.min) || std::isfinite(f.max)) {
      out << "; range [" << f.min << ", " << f.max << "]";
    }
    out << "): " << f.doc << "\n";
  }
  return out.str();
}

}  // namespace tailor::detail
