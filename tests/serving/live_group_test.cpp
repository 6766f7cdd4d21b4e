// SPDX-License-Identifier: MIT
// LiveDatasetGroup: readers and writers on one group from many threads (run under TSan in CI),
// and the put_* paths it forwards.
#include "tailor/serving/live_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tailor/error.hpp"

namespace tailor {
namespace {

TEST(ServingLiveGroup, ConcurrentReadersSeeConsistentCounts) {
  DatasetGroup g(Schema::parse(R"({"type":"record","name":"Interactions","fields":[
    {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
    {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}]})",
                               DatasetKind::Interactions));
  LiveDatasetGroup live(std::move(g));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        live.read([&](const DatasetGroup& d) {
          // Every user row list points at rows that exist and belong to that user.
          for (Index u = 0; u < d.user_ids().size(); ++u) {
            for (std::uint32_t r : d.interaction_rows_of(u)) {
              if (r >= d.interactions().size() || d.interactions().users()[r] != u) ++bad;
            }
          }
          return 0;
        });
      }
    });
  }
  for (int k = 0; k < 300; ++k) {
    EventRecord e;
    e.session_id = "s" + std::to_string(k % 7);
    e.item_id = "i" + std::to_string(k % 11);
    e.event_type = "click";
    e.sent_at = k;
    ASSERT_TRUE(live.put_events({e}).ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(live.read([](const DatasetGroup& d) { return d.interactions().size(); }), 300u);
  EXPECT_THROW(live.put_users({{"u", "{}"}}), Error);  // no Users dataset
}

}  // namespace
}  // namespace tailor
