// SPDX-License-Identifier: MIT
// Column: typed appends, nulls, categorical codes and copying rows between columns.
#include "tailor/data/column.hpp"

#include <gtest/gtest.h>

#include "tailor/error.hpp"

namespace tailor {
namespace {

Field field(const char* name, FieldType type, bool nullable = true, bool categorical = false) {
  Field f;
  f.name = name;
  f.type = type;
  f.nullable = nullable;
  f.categorical = categorical;
  return f;
}

TEST(DataColumn, StoresEachTypeWithNulls) {
  Column ints(field("N", FieldType::Long));
  ints.append_int(5);
  ints.append_null();
  ints.append_int(-7);
  ASSERT_EQ(ints.size(), 3u);
  EXPECT_EQ(ints.int_at(0), 5);
  EXPECT_TRUE(ints.is_null(1));
  EXPECT_DOUBLE_EQ(ints.number_at(2), -7.0);

  Column text(field("T", FieldType::String));
  text.append_text("hello");
  text.append_null();
  text.append_text("");
  EXPECT_EQ(text.text_at(0), "hello");
  EXPECT_TRUE(text.is_null(1));
  EXPECT_FALSE(text.is_null(2));
  EXPECT_EQ(text.text_at(2), "");
}

TEST(DataColumn, NonNullableRejectsNull) {
  Column c(field("X", FieldType::Int, /*nullable=*/false));
  EXPECT_THROW(c.append_null(), Error);
  EXPECT_EQ(c.size(), 0u);
}

TEST(DataColumn, CategoricalRowsHoldSeveralCodes) {
  Column c(field("GENRE", FieldType::String, true, true));
  Index codes[] = {c.intern("horror"), c.intern("comedy")};
  c.append_codes(codes, 2);
  c.append_null();
  Index one[] = {c.intern("comedy")};
  c.append_codes(one, 1);
  EXPECT_EQ(c.codes_at(0).size(), 2u);
  EXPECT_EQ(c.dictionary().name(c.codes_at(0)[1]), "comedy");
  EXPECT_TRUE(c.codes_at(1).empty());
  EXPECT_EQ(c.codes_at(2)[0], codes[1]);

  Column copy(c.field());
  copy.intern("drama");  // different dictionary order: codes must be re-interned
  copy.append_from(c, 0);
  copy.append_from(c, 1);
  EXPECT_EQ(copy.dictionary().name(copy.codes_at(0)[0]), "horror");
  EXPECT_TRUE(copy.is_null(1));
}

}  // namespace
}  // namespace tailor
