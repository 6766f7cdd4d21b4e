// SPDX-License-Identifier: MIT
// Import cell conversion: the inline checks of common values agree with the full rules.
#include "data/import_cells.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace tailor::detail {
namespace {

struct Outcome {
  bool ok = false;
  bool null = false;
  std::int64_t i = 0;
  double d = 0;
  std::string s, reason;
};

Outcome run(bool full, const FieldPlan& plan, const std::string& raw) {
  Cell cell;
  Outcome o;
  o.ok = full ? convert_full(plan, raw, false, cell, o.reason)
              : convert(plan, raw, false, cell, o.reason);
  o.null = cell.null;
  if (o.ok && !o.null) {
    if (plan.field->is_integral()) o.i = cell.i;
    if (plan.field->is_numeric() && !plan.field->is_integral()) o.d = cell.d;
    if (plan.field->type == FieldType::String) o.s = std::string(cell.s);
  }
  return o;
}

TEST(DataImportCells, InlineChecksAgreeWithTheFullRulesForEveryKindOfValue) {
  const std::vector<std::string> values = {
      "",
      "0",
      "-0",
      "7",
      "-7",
      "007",
      "+5",
      " 5",
      "5 ",
      "-",
      "--1",
      "1.5",
      "-3.25",
      ".5",
      "5.",
      "1e3",
      "abc",
      "2147483647",
      "2147483648",
      "-2147483648",
      "-2147483649",
      "999999999",
      "1000000000",
      "123456789012345678",
      "-123456789012345678",
      "1234567890123456789",
      "9223372036854775807",
      "9223372036854775808",
      "-9223372036854775809",
      "123456789012345",
      "1234567890123456",
      "0.1",
      "0.30000000000000004",
      "3.4028235e38",
      "3.5e38",
      "1e-50",
      "nan",
      "inf",
      "true",
      "false",
      "x1",
      std::string(256, 'u'),
      std::string(257, 'u'),
      std::string(1000, 'c'),
      std::string(1001, 'c'),
      std::string(128, '\xC3') + std::string(128, '\xA9'),  // 128 two-byte characters
      "caf\xC3\xA9",
      "a|b||c",
      "12345678",
      "-12345678",
      "99999999",
      "1234a678901",
      "12345678x",
      "/0000000",
      ":0000000",
      "0000000/",
      "0000000:",
      "1600000000",
      "-1600000000",
      "00000000",
      "1234567\x80",
      "1234567\xB9",
      "\xB0\xB1\xB2\xB3\xB4\xB5\xB6\xB7"};
  struct Case {
    FieldType type;
    Role role;
    bool nullable, categorical, textual;
  };
  const std::vector<Case> cases = {{FieldType::String, Role::UserId, false, false, false},
                                   {FieldType::String, Role::ItemId, false, false, false},
                                   {FieldType::String, Role::EventType, true, false, false},
                                   {FieldType::String, Role::Column, true, true, false},
                                   {FieldType::String, Role::Column, true, false, true},
                                   {FieldType::String, Role::Column, false, false, false},
                                   {FieldType::Long, Role::Timestamp, false, false, false},
                                   {FieldType::Int, Role::Column, true, false, false},
                                   {FieldType::Long, Role::Column, false, false, false},
                                   {FieldType::Float, Role::EventValue, true, false, false},
                                   {FieldType::Double, Role::Column, true, false, false},
                                   {FieldType::Boolean, Role::Column, true, false, false}};
  for (const Case& c : cases) {
    Field field;
    field.name = "F";
    field.type = c.type;
    field.nullable = c.nullable;
    field.categorical = c.categorical;
    field.textual = c.textual;
    FieldPlan plan;
    plan.field = &field;
    plan.role = c.role;
    plan.csv_column = 0;
    plan_fast_check(plan);
    for (const std::string& raw : values) {
      const Outcome fast = run(false, plan, raw), full = run(true, plan, raw);
      const std::string what = std::string(to_string(c.type)) + " \"" + raw.substr(0, 20) + "\"";
      EXPECT_EQ(fast.ok, full.ok) << what;
      EXPECT_EQ(fast.reason, full.reason) << what;
      EXPECT_EQ(fast.null, full.null) << what;
      EXPECT_EQ(fast.i, full.i) << what;
      EXPECT_TRUE(fast.d == full.d || (std::isnan(fast.d) && std::isnan(full.d))) << what;
      EXPECT_EQ(fast.s, full.s) << what;
    }
  }
}

TEST(DataImportCells, EightDigitsAtOnceAcceptOnlyDigitsInEveryPlace) {
  for (std::size_t place = 0; place < 8; ++place) {
    for (int byte = 0; byte < 256; ++byte) {
      std::string text = "31415926";
      text[place] = static_cast<char>(byte);
      std::uint64_t value = 0;
      const bool digit = byte >= '0' && byte <= '9';
      EXPECT_EQ(parse_eight_digits(text.data(), value), digit) << place << " " << byte;
      if (digit) {
        EXPECT_EQ(value, std::stoull(text)) << text;
      }
    }
  }
  std::uint64_t value = 0;
  EXPECT_TRUE(parse_eight_digits("00000000", value));
  EXPECT_EQ(value, 0u);
  EXPECT_TRUE(parse_eight_digits("99999999", value));
  EXPECT_EQ(value, 99999999u);
}

TEST(DataImportCells, CommonValuesHaveAnInlineCheck) {
  Field id{"USER_ID", FieldType::String, false, false, false};
  Field stamp{"TIMESTAMP", FieldType::Long, false, false, false};
  Field value{"EVENT_VALUE", FieldType::Float, true, false, false};
  Field text{"DESCRIPTION", FieldType::String, true, false, true};
  FieldPlan p;
  p.field = &id;
  p.role = Role::UserId;
  plan_fast_check(p);
  EXPECT_EQ(p.fast, FastCheck::Text);
  EXPECT_EQ(p.fast_max, Limits::kMaxIdLength);
  p.field = &stamp;
  p.role = Role::Timestamp;
  plan_fast_check(p);
  EXPECT_EQ(p.fast, FastCheck::Integer);
  p.field = &value;
  p.role = Role::EventValue;
  plan_fast_check(p);
  EXPECT_EQ(p.fast, FastCheck::Real32);
  p.field = &text;
  p.role = Role::Column;
  plan_fast_check(p);
  EXPECT_EQ(p.fast, FastCheck::None);  // truncated, never refused: always the full rules
}

}  // namespace
}  // namespace tailor::detail
