// SPDX-License-Identifier: MIT
// Stress: 8 reader threads with filters, 2 writer threads (events, item upserts) and periodic
// retrain-and-swap, for a bounded time. Every response is checked. Run under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "tailor/serving/campaign.hpp"

namespace tailor {
namespace {

TEST(ServingCampaignStress, ReadersWritersAndSwaps) {
  const std::string dir = std::string(TAILOR_SOURCE_DIR) + "/data/";
  DatasetGroup g(Schema::load(dir + "interactions_schema.json", DatasetKind::Interactions),
                 Schema::load(dir + "users_schema.json", DatasetKind::Users),
                 Schema::load(dir + "items_schema.json", DatasetKind::Items));
  ASSERT_TRUE(g.import_csv(DatasetKind::Interactions, dir + "interactions.csv").ok());
  ASSERT_TRUE(g.import_csv(DatasetKind::Items, dir + "items.csv").ok());
  auto group = std::make_shared<LiveDatasetGroup>(std::move(g));
  Solution solution({"als", "user-personalization", R"({"factors": 8, "iterations": 2})", {}});
  TrainOptions o;
  o.compute_metrics = false;
  o.execution.num_threads = 1;
  SolutionVersion v = group->read([&](const DatasetGroup& d) { return solution.train(d, o); });
  CampaignOptions options;
  options.training = o;
  Campaign campaign(group, solution, std::move(v), options);

  // Readers are users 0-99, writers send events for users 500+: the readers' read items are
  // fixed, so "no read item comes back" is checkable at any moment.
  // A bound above every reader's history, so that all their reads are excluded.
  FilterLimits limits;
  limits.interactions_per_event_type = 100000;
  auto filter = group->read([&](const DatasetGroup& d) {
    return Filter::compile(
        R"(EXCLUDE ItemID WHERE Items.COMMUNITY IN ("Finance Hub") | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))",
        d, limits);
  });
  std::vector<std::set<std::string>> read(100), finance_items(1);
  group->read([&](const DatasetGroup& d) {
    const Interactions& in = d.interactions();
    for (int u = 0; u < 100; ++u) {
      char id[24];
      std::snprintf(id, sizeof id, "user-%04d", u);
      for (std::uint32_t r : d.interaction_rows_of(d.user_ids().find(id))) {
        if (in.event_type_names().name(in.event_types()[r]) == "read")
          read[u].insert(std::string(d.item_ids().name(in.items()[r])));
      }
    }
    const EntityTable& items = *d.items();
    const Column& c = *items.column("COMMUNITY");
    for (Index i = 0; i < d.item_ids().size(); ++i) {
      const std::uint32_t row = items.row_of(i);
      if (row != EntityTable::kNoRow && c.dictionary().name(c.codes_at(row)[0]) == "Finance Hub") {
        finance_items[0].insert(std::string(d.item_ids().name(i)));
      }
    }
    return 0;
  });

  std::atomic<bool> stop{false};
  std::atomic<long> requests{0}, failures{0}, events{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      int k = t;
      while (!stop) {
        const int u = k++ % 100;
        char id[24];
        std::snprintf(id, sizeof id, "user-%04d", u);
        RecommendationRequest req;
        req.user_id = id;
        req.num_results = 10;
        req.filter = filter;
        try {
          RecommendationResponse r = campaign.get_recommendations(req);
          bool ok = r.items.size() == 10 && !r.recommendation_id.empty();
          std::set<std::string> seen;
          for (std::size_t n = 0; n < r.items.size(); ++n) {
            const auto& item = r.items[n];
            ok = ok && !item.item_id.empty() && seen.insert(item.item_id).second;
            ok =
                ok && read[u].count(item.item_id) == 0 && finance_items[0].count(item.item_id) == 0;
            if (n > 0 && item.score && r.items[n - 1].score)
              ok = ok && r.items[n - 1].raw_score >= item.raw_score;
          }
          if (!ok && failures++ == 0) {
            std::string items;
            for (const auto& item : r.items) {
              items += " " + item.item_id + "(" + std::to_string(item.raw_score) +
                       (read[u].count(item.item_id) ? ",read" : "") +
                       (finance_items[0].count(item.item_id) ? ",finance" : "") + ")";
            }
            ADD_FAILURE() << "first bad response for " << id << ":" << items;
          }
        } catch (const std::exception& e) {
          if (failures++ == 0) ADD_FAILURE() << "first failed request: " << e.what();
        }
        ++requests;
      }
    });
  }
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      int k = 0;
      while (!stop) {
        if (w == 0) {
          EventRecord e;
          e.user_id = "writer-" + std::to_string(500 + k % 50);
          e.session_id = "s";
          e.item_id = "item-" + std::to_string(1000 + k % 200);
          e.event_type = k % 2 ? "read" : "like";
          e.sent_at = 1800000000 + k;
          if (campaign.put_events({e}).ok()) ++events;
        } else {
          campaign.put_items(
              {{"new-item-" + std::to_string(k % 100),
                R"({"contentType":"document","community":"Data Hub","creationTimestamp":1800000000})"}});
        }
        ++k;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int swaps = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (campaign.retrain_async()) ++swaps;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  stop = true;
  for (auto& t : threads) t.join();
  campaign.wait_for_retrain();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(requests.load(), 50);
  EXPECT_GT(events.load(), 10);
  EXPECT_GT(swaps, 1);
}

}  // namespace
}  // namespace tailor
