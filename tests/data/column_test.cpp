// SPDX-License-Identifier: MIT
// Column: typed appends, nulls, categorical codes and copying rows between columns (appended
// through the library's DataAccess: users only read columns).
#include "tailor/data/column.hpp"

#include <gtest/gtest.h>

#include "data/data_access.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

using detail::DataAccess;

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
  DataAccess::append_int(ints, 5);
  DataAccess::append_null(ints);
  DataAccess::append_int(ints, -7);
  ASSERT_EQ(ints.size(), 3u);
  EXPECT_EQ(ints.int_at(0), 5);
  EXPECT_TRUE(ints.is_null(1));
  EXPECT_DOUBLE_EQ(ints.number_at(2), -7.0);

  Column text(field("T", FieldType::String));
  DataAccess::append_text(text, "hello");
  DataAccess::append_null(text);
  DataAccess::append_text(text, "");
  EXPECT_EQ(text.text_at(0), "hello");
  EXPECT_TRUE(text.is_null(1));
  EXPECT_FALSE(text.is_null(2));
  EXPECT_EQ(text.text_at(2), "");
}

TEST(DataColumn, NonNullableRejectsNull) {
  Column c(field("X", FieldType::Int, /*nullable=*/false));
  EXPECT_THROW(DataAccess::append_null(c), Error);
  EXPECT_EQ(c.size(), 0u);
}

TEST(DataColumn, CategoricalRowsHoldSeveralCodes) {
  Column c(field("GENRE", FieldType::String, true, true));
  Index codes[] = {DataAccess::intern(c, "horror"), DataAccess::intern(c, "comedy")};
  DataAccess::append_codes(c, codes, 2);
  DataAccess::append_null(c);
  Index one[] = {DataAccess::intern(c, "comedy")};
  DataAccess::append_codes(c, one, 1);
  EXPECT_EQ(c.codes_at(0).size(), 2u);
  EXPECT_EQ(c.dictionary().name(c.codes_at(0)[1]), "comedy");
  EXPECT_TRUE(c.codes_at(1).empty());
  EXPECT_EQ(c.codes_at(2)[0], codes[1]);

  Column copy(c.field());
  DataAccess::intern(copy, "drama");  // different dictionary order: codes must be re-interned
  DataAccess::append_from(copy, c, 0);
  DataAccess::append_from(copy, c, 1);
  EXPECT_EQ(copy.dictionary().name(copy.codes_at(0)[0]), "horror");
  EXPECT_TRUE(copy.is_null(1));
}

}  // namespace
}  // namespace tailor
