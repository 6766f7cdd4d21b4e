// SPDX-License-Identifier: MIT
// One CSV value of a bulk import: converted and checked for its schema field, then appended to a
// staged column.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/data/dataset_group.hpp"

namespace tailor::detail {

// What a schema field is for the importer.
enum class Role { UserId, ItemId, Timestamp, EventType, EventValue, Column };

// The common values convert() accepts inline, before the full rules of convert_full(): a string
// no longer in bytes than its limit in characters, an integer of a few digits, a simple decimal.
enum class FastCheck { None, Text, Integer, Real32, Real64 };

struct FieldPlan {
  const Field* field = nullptr;
  Role role = Role::Column;
  int csv_column = -1;  // -1: absent from the file (the field is nullable)
  int column = -1;      // index into the staged / target columns for Role::Column
  FastCheck fast = FastCheck::None;
  std::size_t fast_max = 0;  // Text: most bytes; Integer: most digits (that cannot overflow)
};

// Sets plan.fast and plan.fast_max from the plan's field and role.
void plan_fast_check(FieldPlan& plan);

struct Cell {
  bool null = false;
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string_view s;
};

// Converts one raw CSV value for `field`. Returns false with `reason` set when it is invalid.
// `check_bytes`: the chunk holds invalid UTF-8 or a NUL byte, so each value is checked.
bool convert_full(const FieldPlan& plan, std::string_view raw, bool check_bytes, Cell& out,
                  std::string& reason);

// Parses the common simple decimals ("1", "-3.25") exactly and fast: with at most 15 digits the
// mantissa is exact in a double and one division by an exact power of ten rounds correctly.
// Returns false for anything else, which then goes to std::from_chars.
inline bool parse_simple_decimal(std::string_view raw, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  std::size_t i = 0;
  bool negative = false;
  if (raw[0] == '-') {
    negative = true;
    i = 1;
  }
  std::uint64_t mantissa = 0;
  int digits = 0, fraction = 0;
  bool dot = false;
  for (; i < raw.size(); ++i) {
    char c = raw[i];
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      ++digits;
      fraction += dot;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15) return false;
  // A whole number needs no division (and a division is most of the cost of a short value).
  double v = static_cast<double>(mantissa);
  if (fraction > 0) v /= kPow10[fraction];
  out = negative ? -v : v;
  return true;
}

// The eight ASCII digits at `p` as a number (eight at once, as simdjson does); false when one of
// them is not a digit.
inline bool parse_eight_digits(const char* p, std::uint64_t& out) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);  // the first digit in the lowest byte
#endif
  // Every byte is 0x30..0x39: its high nibble is 3, and adding 6 leaves it 3.
  if (((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) !=
      0x3333333333333333)
    return false;
  v = (v & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8;
  v = (v & 0x00FF00FF00FF00FF) * 6553601 >> 16;
  out = (v & 0x0000FFFF0000FFFF) * 42949672960001 >> 32;
  return true;
}

// convert_full(), with the common values of the plan's fast check accepted inline: the same
// results, most values without a call.
inline bool convert(const FieldPlan& plan, std::string_view raw, bool check_bytes, Cell& out,
                    std::string& reason) {
  if (!check_bytes && !raw.empty()) {
    out.null = false;
    switch (plan.fast) {
      case FastCheck::Text:
        if (raw.size() <= plan.fast_max) {
          out.s = raw;
          return true;
        }
        break;
      case FastCheck::Integer: {
        const bool negative = raw[0] == '-';
        const std::size_t digits = raw.size() - negative;
        if (digits == 0 || digits > plan.fast_max) break;
        std::int64_t v = 0;
        std::size_t i = negative;
        if (digits >= 8) {
          std::uint64_t eight = 0;
          if (!parse_eight_digits(raw.data() + i, eight)) break;
          v = static_cast<std::int64_t>(eight);
          i += 8;
        }
        for (; i < raw.size(); ++i) {
          const unsigned d = static_cast<unsigned>(raw[i] - '0');
          if (d > 9) break;
          v = v * 10 + static_cast<std::int64_t>(d);
        }
        if (i < raw.size()) break;
        out.i = negative ? -v : v;
        return true;
      }
      case FastCheck::Real32:
      case FastCheck::Real64:
        if (parse_simple_decimal(raw, out.d)) {
          if (plan.fast == FastCheck::Real32) out.d = static_cast<float>(out.d);
          return true;
        }
        break;
      case FastCheck::None:
        break;
    }
  }
  return convert_full(plan, raw, check_bytes, out, reason);
}

// Appends a converted cell to a staged column; a categorical value is split on '|'.
void append_cell(Column& column, const Cell& cell, std::vector<Index>& scratch);

}  // namespace tailor::detail
