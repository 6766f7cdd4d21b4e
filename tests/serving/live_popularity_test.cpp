// SPDX-License-Identifier: MIT
// A campaign's popularity count: each user counts once per item, whenever their events arrive.
#include "serving/live_popularity.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/sample.hpp"
#include "tailor/serving/live_group.hpp"

namespace tailor {
namespace {

EventRecord event(const std::string& user, const std::string& item) {
  EventRecord e;
  e.user_id = user;
  e.session_id = "s-" + user;
  e.item_id = item;
  e.event_type = "read";
  e.sent_at = 1800000000;
  return e;
}

TEST(ServingLivePopularity, FirstInteractionsCountEachUserOncePerItem) {
  auto live = std::make_shared<LiveDatasetGroup>(test::sample_group());
  // Over the whole group: exactly the first row of every (user, item) pair.
  const std::size_t rows = live->read([](const DatasetGroup& g) {
    const Interactions& in = g.interactions();
    std::map<std::pair<Index, Index>, std::uint32_t> first;
    for (std::size_t r = 0; r < in.size(); ++r) {
      first.emplace(std::make_pair(in.users()[r], in.items()[r]), static_cast<std::uint32_t>(r));
    }
    const auto counted = detail::first_interactions(g, 0);
    EXPECT_EQ(counted.size(), first.size());
    for (const auto& [item, row] : counted) {
      EXPECT_EQ(in.items()[row], item);
      EXPECT_EQ(first.at({in.users()[row], item}), row);
    }
    return in.size();
  });
  ASSERT_GT(rows, 0u);

  // New rows: an item user-0001 had already, a new one twice, and a new user.
  std::string had, fresh;
  std::tie(had, fresh) = live->read([](const DatasetGroup& g) {
    const Index u = g.user_ids().find("user-0001");
    std::vector<bool> has(g.item_ids().size(), false);
    for (std::uint32_t r : g.interaction_rows_of(u)) has[g.interactions().items()[r]] = true;
    Index other = 0;
    while (has[other]) ++other;
    const Index mine = g.interactions().items()[g.interaction_rows_of(u)[0]];
    return std::make_pair(std::string(g.item_ids().name(mine)),
                          std::string(g.item_ids().name(other)));
  });
  ASSERT_TRUE(live->put_events({event("user-0001", had), event("user-0001", fresh),
                                event("user-0001", fresh), event("newcomer", had)})
                  .ok());
  const auto [counted, fresh_index, had_index] = live->read([&](const DatasetGroup& g) {
    return std::make_tuple(detail::first_interactions(g, rows), g.item_ids().find(fresh),
                           g.item_ids().find(had));
  });
  ASSERT_EQ(counted.size(), 2u);
  EXPECT_EQ(counted[0].first, fresh_index);
  EXPECT_EQ(counted[0].second, rows + 1);
  EXPECT_EQ(counted[1].first, had_index);
  EXPECT_EQ(counted[1].second, rows + 3);
}

TEST(ServingLivePopularity, PopularItemsAreOrderedByDistinctUsers) {
  const DatasetGroup g = test::sample_group();
  const Interactions& in = g.interactions();
  std::map<std::pair<Index, Index>, int> pairs;
  for (std::size_t r = 0; r < in.size(); ++r) ++pairs[{in.items()[r], in.users()[r]}];
  std::vector<int> users(g.item_ids().size(), 0);
  for (const auto& [pair, events] : pairs) ++users[pair.first];
  const std::vector<Index> order = detail::popular_items(g);
  ASSERT_EQ(order.size(), g.item_ids().size());
  for (std::size_t k = 1; k < order.size(); ++k) {
    const Index a = order[k - 1], b = order[k];
    EXPECT_TRUE(users[a] > users[b] || (users[a] == users[b] && a < b)) << "rank " << k;
  }
}

}  // namespace
}  // namespace tailor
