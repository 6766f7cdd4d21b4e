// SPDX-License-Identifier: MIT
// Interactions: core columns, extra columns and event-type codes, as a DatasetGroup fills them.
#include "tailor/data/interactions.hpp"

#include <gtest/gtest.h>

#include "common/schemas.hpp"
#include "tailor/data/dataset_group.hpp"

namespace tailor {
namespace {

TEST(DataInteractions, KeepsCoreAndExtraColumnsApart) {
  DatasetGroup g(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions));
  const Interactions& in = g.interactions();
  ASSERT_EQ(in.extra_columns().size(), 1u);
  EXPECT_NE(in.column("DEVICE"), nullptr);
  EXPECT_EQ(in.column("USER_ID"), nullptr);
  ImportReport r = g.import_csv_text(DatasetKind::Interactions,
                                     "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n"
                                     "u3,i4,100,click,1.5,\n"
                                     "u3,i5,200,buy,,phone\n"
                                     "u6,i4,300,click,2,phone\n");
  ASSERT_TRUE(r.ok()) << r.summary();
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(g.user_ids().name(in.users()[0]), "u3");
  EXPECT_EQ(g.item_ids().name(in.items()[1]), "i5");
  EXPECT_EQ(in.timestamps()[2], 300);
  EXPECT_TRUE(in.has_event_value(0));
  EXPECT_FLOAT_EQ(in.event_values()[0], 1.5f);
  EXPECT_FALSE(in.has_event_value(1));
  EXPECT_EQ(in.event_type_names().name(in.event_types()[0]), "click");
  const std::uint16_t click = in.event_types()[0];
  EXPECT_EQ(in.event_types()[2], click);  // one code per distinct event type
  EXPECT_NE(in.event_types()[1], click);
  const Column& device = *in.column("DEVICE");
  ASSERT_EQ(device.size(), 3u);  // one value per row in every extra column
  EXPECT_TRUE(device.is_null(0));
  EXPECT_EQ(device.dictionary().name(device.codes_at(1)[0]), "phone");

  ImportOptions full;
  full.mode = ImportMode::Full;
  r = g.import_csv_text(DatasetKind::Interactions,
                        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n"
                        "u9,i9,400,view\n"
                        "u9,i4,500,click\n",
                        full);
  ASSERT_TRUE(r.ok()) << r.summary();
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in.event_types()[1], click);  // codes survive a FULL import's clear
  EXPECT_EQ(in.event_type_names().name(in.event_types()[0]), "view");
  EXPECT_EQ(in.column("DEVICE")->size(), 2u);
  EXPECT_TRUE(is_core_interaction_field("EVENT_VALUE"));
  EXPECT_FALSE(is_core_interaction_field("IMPRESSION"));
}

}  // namespace
}  // namespace tailor
