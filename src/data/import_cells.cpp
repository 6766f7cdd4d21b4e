// SPDX-License-Identifier: MIT
// Cell conversion for bulk import: numbers parsed exactly, strings checked against their limits
// in UTF-8 characters.
#include "data/import_cells.hpp"

#include <charconv>
#include <cmath>

#include "data/data_access.hpp"
#include "io/json.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

namespace {

// Number of UTF-8 code points in the first `bytes` bytes, and the byte length of the first
// `max_chars` code points.
std::size_t utf8_prefix_bytes(std::string_view s, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return i;
      ++chars;
    }
  }
  return s.size();
}

std::size_t utf8_length(std::string_view s) {
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return chars;
}

// Whether a number that std::from_chars found out of range is too small (it underflows to
// zero) rather than too large: its decimal exponent, leading digit's place plus the written
// exponent, is negative. `raw` is a valid decimal number here.
bool underflows(std::string_view raw) {
  std::size_t i = raw[0] == '-' || raw[0] == '+' ? 1 : 0;
  long long place = 0;  // decimal place of the first non-zero digit
  bool found = false, dot = false;
  long long int_digits = 0, leading_zeros = 0;
  for (; i < raw.size() && raw[i] != 'e' && raw[i] != 'E'; ++i) {
    if (raw[i] == '.') {
      dot = true;
    } else if (!found && raw[i] == '0') {
      leading_zeros += dot;
    } else {
      found = true;
      int_digits += !dot;
    }
  }
  place = int_digits > 0 ? int_digits - 1 : -leading_zeros - 1;
  if (i < raw.size()) {
    std::string_view exponent = raw.substr(i + 1);
    if (!exponent.empty() && exponent[0] == '+') exponent.remove_prefix(1);
    long long e = 0;
    auto [end, ec] = std::from_chars(exponent.data(), exponent.data() + exponent.size(), e);
    // An exponent too long for a long long decides alone.
    if (ec == std::errc::result_out_of_range) return !exponent.empty() && exponent[0] == '-';
    place += e;
  }
  return place < 0;
}

// Parses a float or double; false when `raw` is not a number or overflows the type. A value too
// small for the type rounds to zero (from_chars calls that out of range; it is not an error).
template <typename Real>
bool parse_real(std::string_view raw, double& out, bool& overflow) {
  Real v = 0;
  auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  overflow = false;
  if (end != raw.data() + raw.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    if (!underflows(raw)) {
      overflow = true;
      return false;
    }
    out = raw[0] == '-' ? -0.0 : 0.0;
    return true;
  }
  out = v;
  return ec == std::errc();
}

}  // namespace

void plan_fast_check(FieldPlan& plan) {
  const Field& f = *plan.field;
  plan.fast = FastCheck::None;
  switch (f.type) {
    case FieldType::Int:
      plan.fast = FastCheck::Integer;
      plan.fast_max = 9;  // below 10^9: always an int
      return;
    case FieldType::Long:
      plan.fast = FastCheck::Integer;
      plan.fast_max = 18;  // below 10^18: always a long
      return;
    case FieldType::Float:
      plan.fast = FastCheck::Real32;
      return;
    case FieldType::Double:
      plan.fast = FastCheck::Real64;
      return;
    case FieldType::Boolean:
      return;
    case FieldType::String:
      break;
  }
  // The limits of convert_full() are in characters: a value of no more bytes is within them.
  if (plan.role == Role::UserId || plan.role == Role::ItemId || plan.role == Role::EventType) {
    plan.fast_max = Limits::kMaxIdLength;
  } else if (f.categorical) {
    plan.fast_max = Limits::kMaxCategoricalLength;
  } else if (f.textual) {
    return;  // truncated to its limit, not checked
  } else {
    plan.fast_max = Limits::kMaxStringLength;
  }
  plan.fast = FastCheck::Text;
}

bool convert_full(const FieldPlan& plan, std::string_view raw, bool check_bytes, Cell& out,
                  std::string& reason) {
  const Field& f = *plan.field;
  out.null = false;
  if (raw.empty()) {
    if (f.nullable) {
      out.null = true;
      return true;
    }
    reason = "empty value for a required " + std::string(to_string(f.type)) + " field";
    return false;
  }
  if (check_bytes && raw.find('\0') != std::string_view::npos) {
    reason = "contains a NUL byte, which no value may hold";
    return false;
  }
  if (check_bytes && !detail::is_valid_utf8(raw.data(), raw.size())) {
    reason = "invalid UTF-8";
    return false;
  }
  switch (f.type) {
    case FieldType::Int:
    case FieldType::Long: {
      auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), out.i);
      bool ok = ec == std::errc() && end == raw.data() + raw.size();
      if (ok && f.type == FieldType::Int && (out.i < INT32_MIN || out.i > INT32_MAX)) {
        reason = "value " + std::string(raw) + " is out of range for an int (32 bits)";
        return false;
      }
      if (!ok) {
        reason = ec == std::errc::result_out_of_range
                     ? "value " + std::string(raw) + " is out of range for a long (64 bits)"
                     : "not a valid " + std::string(to_string(f.type)) + ": \"" +
                           std::string(raw.substr(0, 40)) + "\"";
        return false;
      }
      return true;
    }
    case FieldType::Float:
    case FieldType::Double: {
      bool ok, overflow = false;
      if (parse_simple_decimal(raw, out.d)) {
        if (f.type == FieldType::Float) out.d = static_cast<float>(out.d);
        ok = true;
      } else if (f.type == FieldType::Float) {
        ok = parse_real<float>(raw, out.d, overflow);
      } else {
        ok = parse_real<double>(raw, out.d, overflow);
      }
      if (overflow) {
        reason = "value " + std::string(raw.substr(0, 40)) + " is out of range for a " +
                 std::string(to_string(f.type));
        return false;
      }
      if (!ok || !std::isfinite(out.d)) {
        reason = "not a valid finite " + std::string(to_string(f.type)) + ": \"" +
                 std::string(raw.substr(0, 40)) + "\"";
        return false;
      }
      return true;
    }
    case FieldType::Boolean:
      if (raw == "true" || raw == "false") {
        out.b = raw == "true";
        return true;
      }
      reason = "not a boolean: \"" + std::string(raw.substr(0, 40)) +
               "\" (expected lower-case true or false)";
      return false;
    case FieldType::String:
      break;
  }
  std::size_t limit = Limits::kMaxStringLength;
  const char* what = "value";
  if (plan.role == Role::UserId || plan.role == Role::ItemId || plan.role == Role::EventType) {
    limit = Limits::kMaxIdLength;
    what = plan.role == Role::EventType ? "event type" : "id";
  } else if (f.categorical) {
    limit = Limits::kMaxCategoricalLength;
    what = "categorical value";
  } else if (f.textual) {
    // Textual values are truncated, not rejected (as Personalize does).
    out.s = raw.substr(0, utf8_prefix_bytes(raw, Limits::kMaxTextualLength));
    return true;
  }
  if (raw.size() > limit && utf8_length(raw) > limit) {
    reason = std::string(what) + " of " + std::to_string(utf8_length(raw)) +
             " characters exceeds the limit of " + std::to_string(limit);
    return false;
  }
  out.s = raw;
  return true;
}

void append_cell(Column& column, const Cell& cell, std::vector<Index>& scratch) {
  const Field& f = column.field();
  if (cell.null) {
    DataAccess::append_null(column);
  } else if (f.is_integral()) {
    DataAccess::append_int(column, cell.i);
  } else if (f.is_numeric()) {
    DataAccess::append_real(column, cell.d);
  } else if (f.type == FieldType::Boolean) {
    DataAccess::append_bool(column, cell.b);
  } else if (f.categorical) {
    // Multi-valued with '|'; empty parts ("a||b") carry no value.
    scratch.clear();
    std::string_view rest = cell.s;
    while (!rest.empty()) {
      std::size_t bar = rest.find('|');
      std::string_view part = rest.substr(0, bar);
      if (!part.empty()) scratch.push_back(DataAccess::intern(column, part));
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
    DataAccess::append_codes(column, scratch.data(), scratch.size());
  } else {
    DataAccess::append_text(column, cell.s);
  }
}

}  // namespace tailor::detail
