// SPDX-License-Identifier: MIT
// What users see of the data classes is read-only: with only the public headers, none of their
// mutators can be called (a detection of each call expression, which access control makes fail),
// while the read accessors can.
#include <gtest/gtest.h>

#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tailor/data/dataset_group.hpp"

namespace tailor {
namespace {

// Each trait is true when its call expression compiles in user code.
#define TAILOR_CALLABLE(name, T, call)                                                \
  template <typename U, typename = void>                                              \
  struct name : std::false_type {};                                                   \
  template <typename U>                                                               \
  struct name<U, std::void_t<decltype(std::declval<U&>().call)>> : std::true_type {}; \
  constexpr bool k_##name = name<T>::value;

const std::string_view kId;
const Index* const kCodes = nullptr;
const std::vector<Index> kIndices;
const Bitmap kKeep;

TAILOR_CALLABLE(IdMapFind, IdMap, find(kId))
TAILOR_CALLABLE(IdMapInsert, IdMap, insert(kId))
TAILOR_CALLABLE(IdMapInsertHashed, IdMap, insert(kId, 0))
TAILOR_CALLABLE(IdMapErase, IdMap, erase(kIndices))
TAILOR_CALLABLE(IdMapAppendErased, IdMap, append_erased())
TAILOR_CALLABLE(IdMapClear, IdMap, clear())
TAILOR_CALLABLE(IdMapReserve, IdMap, reserve(1))

TAILOR_CALLABLE(ColumnSize, Column, size())
TAILOR_CALLABLE(ColumnAppendNull, Column, append_null())
TAILOR_CALLABLE(ColumnAppendInt, Column, append_int(1))
TAILOR_CALLABLE(ColumnAppendReal, Column, append_real(1.0))
TAILOR_CALLABLE(ColumnAppendBool, Column, append_bool(true))
TAILOR_CALLABLE(ColumnAppendText, Column, append_text(kId))
TAILOR_CALLABLE(ColumnAppendCodes, Column, append_codes(kCodes, 0))
TAILOR_CALLABLE(ColumnIntern, Column, intern(kId))
TAILOR_CALLABLE(ColumnAppendFrom, Column, append_from(std::declval<const Column&>(), 0))
TAILOR_CALLABLE(ColumnClear, Column, clear())
TAILOR_CALLABLE(ColumnKeepRows, Column, keep_rows(kKeep))

TAILOR_CALLABLE(InteractionsSize, Interactions, size())
TAILOR_CALLABLE(InteractionsAppend, Interactions, append(0, 0, 0, 0, 0.0f, false))
TAILOR_CALLABLE(InteractionsInternEventType, Interactions, intern_event_type(kId))
TAILOR_CALLABLE(InteractionsExtraColumnsMut, Interactions, extra_columns_mut())
TAILOR_CALLABLE(InteractionsResizeCore, Interactions, resize_core(1))
TAILOR_CALLABLE(InteractionsClear, Interactions, clear())
TAILOR_CALLABLE(InteractionsKeepRows, Interactions, keep_rows(kKeep))

TAILOR_CALLABLE(EntityTableCount, EntityTable, count())
TAILOR_CALLABLE(EntityTableColumnsMut, EntityTable, columns_mut())
TAILOR_CALLABLE(EntityTableCommitRow, EntityTable, commit_row(0))
TAILOR_CALLABLE(EntityTableClear, EntityTable, clear())
TAILOR_CALLABLE(EntityTableCompact, EntityTable, compact_if_sparse())
TAILOR_CALLABLE(EntityTableErase, EntityTable, erase(kIndices))

#undef TAILOR_CALLABLE

TEST(DataReadOnly, IdMapOnlyReads) {
  EXPECT_TRUE(k_IdMapFind);  // the detection itself works
  EXPECT_FALSE(k_IdMapInsert);
  EXPECT_FALSE(k_IdMapInsertHashed);
  EXPECT_FALSE(k_IdMapErase);
  EXPECT_FALSE(k_IdMapAppendErased);
  EXPECT_FALSE(k_IdMapClear);
  EXPECT_FALSE(k_IdMapReserve);
}

TEST(DataReadOnly, ColumnOnlyReads) {
  EXPECT_TRUE(k_ColumnSize);
  EXPECT_FALSE(k_ColumnAppendNull);
  EXPECT_FALSE(k_ColumnAppendInt);
  EXPECT_FALSE(k_ColumnAppendReal);
  EXPECT_FALSE(k_ColumnAppendBool);
  EXPECT_FALSE(k_ColumnAppendText);
  EXPECT_FALSE(k_ColumnAppendCodes);
  EXPECT_FALSE(k_ColumnIntern);
  EXPECT_FALSE(k_ColumnAppendFrom);
  EXPECT_FALSE(k_ColumnClear);
  EXPECT_FALSE(k_ColumnKeepRows);
}

TEST(DataReadOnly, InteractionsOnlyReads) {
  EXPECT_TRUE(k_InteractionsSize);
  EXPECT_FALSE(k_InteractionsAppend);
  EXPECT_FALSE(k_InteractionsInternEventType);
  EXPECT_FALSE(k_InteractionsExtraColumnsMut);
  EXPECT_FALSE(k_InteractionsResizeCore);
  EXPECT_FALSE(k_InteractionsClear);
  EXPECT_FALSE(k_InteractionsKeepRows);
}

TEST(DataReadOnly, EntityTableOnlyReads) {
  EXPECT_TRUE(k_EntityTableCount);
  EXPECT_FALSE(k_EntityTableColumnsMut);
  EXPECT_FALSE(k_EntityTableCommitRow);
  EXPECT_FALSE(k_EntityTableClear);
  EXPECT_FALSE(k_EntityTableCompact);
  EXPECT_FALSE(k_EntityTableErase);
}

}  // namespace
}  // namespace tailor
