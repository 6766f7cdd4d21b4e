// SPDX-License-Identifier: MIT
// Interactions: core columns, extra columns and event-type codes.
#include "tailor/data/interactions.hpp"

#include <gtest/gtest.h>

#include "common/schemas.hpp"

namespace tailor {
namespace {

TEST(DataInteractions, KeepsCoreAndExtraColumnsApart) {
  Schema s = Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions);
  Interactions in(s);
  ASSERT_EQ(in.extra_columns().size(), 1u);
  EXPECT_NE(in.column("DEVICE"), nullptr);
  EXPECT_EQ(in.column("USER_ID"), nullptr);
  std::uint16_t click = in.intern_event_type("click");
  EXPECT_EQ(in.intern_event_type("click"), click);
  in.append(3, 4, 100, click, 1.5f, true);
  in.extra_columns_mut()[0].append_null();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in.users()[0], 3u);
  EXPECT_EQ(in.items()[0], 4u);
  EXPECT_EQ(in.timestamps()[0], 100);
  EXPECT_TRUE(in.has_event_value(0));
  EXPECT_EQ(in.event_type_names().name(in.event_types()[0]), "click");
  in.clear();
  EXPECT_EQ(in.size(), 0u);
  EXPECT_EQ(in.intern_event_type("click"), click);  // codes survive a clear
  EXPECT_TRUE(is_core_interaction_field("EVENT_VALUE"));
  EXPECT_FALSE(is_core_interaction_field("IMPRESSION"));
}

}  // namespace
}  // namespace tailor
