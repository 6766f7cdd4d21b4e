// SPDX-License-Identifier: MIT
// Fresh content: items put after training scored from their metadata, exploration of new items
// (share, marking, determinism, filters), similar items of new items, metadata columns, and the
// model's metadata mapping in its archive.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/sample.hpp"
#include "common/sample_campaign.hpp"
#include "common/schemas.hpp"
#include "serving/content.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {
namespace {

// Newer than every interaction and item of the sample data.
constexpr std::int64_t kNow = 1790000000;

std::shared_ptr<LiveDatasetGroup> sample_group() { return test::sample_live_group(); }
using test::make_campaign;

EntityRecord new_item(const std::string& id, const std::string& community, const std::string& tags,
                      const std::string& title, std::int64_t created = kNow) {
  return {id, R"({"contentType":"blog_post","community":")" + community + R"(","tags":")" + tags +
                  R"(","title":")" + title + R"(","creationTimestamp":)" + std::to_string(created) +
                  "}"};
}

// An Engineering user of the sample data (departments prefer their own community's topic).
std::string engineer(const std::shared_ptr<LiveDatasetGroup>& group) {
  return group->read([](const DatasetGroup& g) {
    const Column* d = g.users()->column("DEPARTMENT");
    for (Index u = 0; u < g.user_ids().size(); ++u) {
      const std::uint32_t row = g.users()->row_of(u);
      if (row != EntityTable::kNoRow && d->dictionary().name(d->codes_at(row)[0]) == "Engineering")
        return std::string(g.user_ids().name(u));
    }
    return std::string();
  });
}

// Twenty new items, ten in Engineering Hub and ten in Sales Hub.
void put_new_items(Campaign& campaign) {
  std::vector<EntityRecord> items;
  for (int k = 0; k < 10; ++k) {
    items.push_back(new_item("eng-" + std::to_string(k), "Engineering Hub", "cpp|security",
                             "Engineering ideas: cpp and security"));
    items.push_back(new_item("sales-" + std::to_string(k), "Sales Hub", "forecast",
                             "Sales retrospective: forecast"));
  }
  ASSERT_TRUE(campaign.put_items(items).ok());
}

TEST(FreshContent, ItemPutAfterTrainingIsScoredFromItsMetadataAndRecommended) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  const auto* als = dynamic_cast<const AlsModel*>(campaign->version()->model().get());
  ASSERT_TRUE(als && als->metadata());
  const std::string user = engineer(group);
  ASSERT_FALSE(user.empty());
  // Old enough not to be explored: only its metadata score can bring it in.
  ASSERT_TRUE(campaign
                  ->put_items({new_item("new-eng", "Engineering Hub", "cpp|security",
                                        "Engineering ideas: cpp and security", 1767225600),
                               new_item("new-sales", "Sales Hub", "forecast",
                                        "Sales retrospective: forecast", 1767225600)})
                  .ok());
  RankingRequest rank;
  rank.user_id = user;
  rank.input_list = {"new-sales", "new-eng"};
  RecommendationResponse ranked = campaign->get_personalized_ranking(rank);
  ASSERT_EQ(ranked.items.size(), 2u);
  EXPECT_EQ(ranked.items[0].item_id, "new-eng");
  EXPECT_TRUE(ranked.items[0].score.has_value());  // scored, not "unknown, last"
  EXPECT_TRUE(ranked.items[1].score.has_value());

  RecommendationRequest req;
  req.user_id = user;
  req.num_results = 100;
  req.exploration_weight = 0.0f;
  RecommendationResponse r = campaign->get_recommendations(req);
  auto at = std::find_if(r.items.begin(), r.items.end(),
                         [](const RecommendedItem& i) { return i.item_id == "new-eng"; });
  ASSERT_NE(at, r.items.end()) << "a new Engineering post is not in an engineer's top 100";
  EXPECT_FALSE(at->explored);
  EXPECT_TRUE(at->score.has_value());
  EXPECT_EQ(std::count_if(r.items.begin(), r.items.end(),
                          [](const RecommendedItem& i) { return i.item_id == "new-sales"; }),
            0);
}

TEST(FreshContent, ExplorationFillsItsShareWithMarkedNewItems) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  put_new_items(*campaign);
  const std::string user = engineer(group);
  RecommendationRequest req;
  req.user_id = user;
  req.num_results = 10;  // the solution's default weight 0.3: 3 slots
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 10u);
  std::set<std::string> ids;
  int explored = 0, eng = 0;
  for (const RecommendedItem& i : r.items) {
    ids.insert(i.item_id);
    if (!i.explored) continue;
    ++explored;
    EXPECT_TRUE(i.item_id.rfind("eng-", 0) == 0 || i.item_id.rfind("sales-", 0) == 0) << i.item_id;
    eng += i.item_id.rfind("eng-", 0) == 0;
  }
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(explored, 3);
  EXPECT_GE(eng, 2) << "exploration should prefer new items matching the user's taste";

  // Asked for reasons, an explored item gives Personalize's "Exploration"; the model's items
  // give the history behind them.
  req.explain = true;
  for (const RecommendedItem& i : campaign->get_recommendations(req).items) {
    ASSERT_FALSE(i.reason.empty()) << i.item_id;
    if (i.explored) {
      EXPECT_EQ(i.reason, std::vector<std::string>{"Exploration"}) << i.item_id;
    } else {
      EXPECT_EQ(i.reason[0].rfind("Interacted with ", 0), 0u) << i.item_id << ": " << i.reason[0];
    }
  }
  req.explain = false;

  req.exploration_weight = 0.0f;
  for (const RecommendedItem& i : campaign->get_recommendations(req).items)
    EXPECT_FALSE(i.explored);
  req.exploration_weight = 1.0f;
  r = campaign->get_recommendations(req);
  EXPECT_EQ(std::count_if(r.items.begin(), r.items.end(),
                          [](const RecommendedItem& i) { return i.explored; }),
            10);
  // A cut-off of 0 days leaves nothing to explore.
  req.exploration_item_age_cut_off = 0.0f;
  r = campaign->get_recommendations(req);
  for (const RecommendedItem& i : r.items) EXPECT_FALSE(i.explored) << i.item_id;
  EXPECT_EQ(r.items.size(), 10u);
}

// A user without history gets popular items in the slots exploration leaves: the list is full.
TEST(FreshContent, ExplorationLeavesAFullListForAUserWithoutHistory) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  put_new_items(*campaign);
  RecommendationRequest req;
  req.user_id = "someone-new";
  req.num_results = 5;
  req.exploration_weight = 0.6f;  // 3 slots
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 5u);
  std::set<std::string> ids;
  int explored = 0;
  for (const RecommendedItem& i : r.items) {
    ids.insert(i.item_id);
    explored += i.explored;
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(explored, 3);
  // And for a user with history whose filter leaves few of the model's items.
  req.user_id = engineer(group);
  req.num_results = 10;
  req.exploration_weight = 0.3f;
  r = campaign->get_recommendations(req);
  EXPECT_EQ(r.items.size(), 10u);
}

// Promotions take their share first, exploration a share of the rest, the model the remainder:
// a full list without repeats, each item marked for the slot it fills.
TEST(FreshContent, PromotionsAndExplorationShareTheList) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  put_new_items(*campaign);
  for (const char* user : {"someone-new", "user-0001", "user-0002"}) {
    for (int n : {1, 2, 10, 25}) {
      RecommendationRequest req;
      req.user_id = user;
      req.num_results = n;
      req.exploration_weight = 0.5f;
      Promotion p;
      p.name = "eng";
      p.percent_promoted_items = 40;
      p.filter = group->read([](const DatasetGroup& g) {
        return Filter::compile(R"(INCLUDE ItemID WHERE Items.COMMUNITY IN ("Engineering Hub"))", g);
      });
      req.promotion = p;
      const RecommendationResponse r = campaign->get_recommendations(req);
      ASSERT_EQ(r.items.size(), static_cast<std::size_t>(n)) << user << " " << n;
      std::set<std::string> ids;
      int promoted = 0, explored = 0;
      for (const RecommendedItem& i : r.items) {
        ids.insert(i.item_id);
        promoted += !i.promotion_name.empty();
        explored += i.explored;
        EXPECT_FALSE(!i.promotion_name.empty() && i.explored);
      }
      EXPECT_EQ(ids.size(), r.items.size()) << user << " " << n;
      const int promoted_slots = (n * 40 + 99) / 100;
      EXPECT_EQ(promoted, promoted_slots) << user << " " << n;
      EXPECT_EQ(explored, static_cast<int>(detail::exploration_slots(0.5, n - promoted_slots)))
          << user << " " << n;
    }
  }
}

TEST(FreshContent, FiltersApplyToExploredItems) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  put_new_items(*campaign);
  RecommendationRequest req;
  req.user_id = engineer(group);
  req.num_results = 10;
  req.exploration_weight = 1.0f;
  req.filter = group->read([](const DatasetGroup& g) {
    return Filter::compile(R"(EXCLUDE ItemID WHERE Items.COMMUNITY IN ("Engineering Hub"))", g);
  });
  RecommendationResponse r = campaign->get_recommendations(req);
  int explored = 0;
  for (const RecommendedItem& i : r.items) {
    EXPECT_EQ(i.item_id.rfind("eng-", 0), std::string::npos) << i.item_id;
    explored += i.explored;
  }
  EXPECT_EQ(explored, 10);  // the ten Sales items
}

TEST(FreshContent, ExplorationIsDeterministicPerUserAndRecommendationId) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  put_new_items(*campaign);
  const std::shared_ptr<const Model> model = campaign->version()->model();
  auto index = group->read(
      [&](const DatasetGroup& g) { return detail::build_content_index(g, *model, 30.0); });
  // Newest first: the twenty new items, then the sample's, all older than 30 days.
  ASSERT_GT(index->by_age.size(), 20u);
  EXPECT_EQ(index->created[19], kNow);
  EXPECT_LT(index->created[20], kNow - 30 * 86400);
  auto pick = [&](std::uint64_t seed) {
    const std::vector<ScoredItem> e = detail::explore(
        *index, nullptr, 0, 30.0, 5, seed, [](Index) { return true; },
        [](Index) -> const float* { return nullptr; });
    std::vector<Index> out;
    for (const ScoredItem& s : e) out.push_back(s.item);
    return out;
  };
  const std::uint64_t a = detail::exploration_seed("user-1", "rec-1");
  EXPECT_EQ(a, detail::exploration_seed("user-1", "rec-1"));
  EXPECT_NE(a, detail::exploration_seed("user-1", "rec-2"));
  EXPECT_NE(a, detail::exploration_seed("user-2", "rec-1"));
  EXPECT_EQ(pick(a), pick(a));
  // Without a user vector all twenty tie on metadata and exposure: the seed decides, so other
  // recommendation ids explore other items.
  std::set<std::vector<Index>> seen;
  for (int k = 0; k < 8; ++k)
    seen.insert(pick(detail::exploration_seed("user-1", "rec-" + std::to_string(k))));
  EXPECT_GT(seen.size(), 1u);
  // Exposure shrinks the bonus, and an item read by 10 users or more is no longer explored.
  std::vector<EventRecord> events;
  for (int u = 0; u < 30; ++u) {
    EventRecord e;
    e.user_id = "reader-" + std::to_string(u);
    e.session_id = "s";
    e.item_id = "eng-0";
    e.event_type = "read";
    e.sent_at = kNow;
    events.push_back(e);
  }
  ASSERT_TRUE(campaign->put_events(events).ok());
  index = group->read(
      [&](const DatasetGroup& g) { return detail::build_content_index(g, *model, 30.0); });
  const Index eng0 = group->read([](const DatasetGroup& g) { return g.item_ids().find("eng-0"); });
  for (int k = 0; k < 8; ++k) {
    const std::vector<Index> p = pick(detail::exploration_seed("u", std::to_string(k)));
    EXPECT_EQ(std::count(p.begin(), p.end(), eng0), 0);
  }
  EXPECT_EQ(detail::exploration_slots(0.3, 25), 8u);
  EXPECT_EQ(detail::exploration_slots(0.3, 10), 3u);
  EXPECT_EQ(detail::exploration_slots(0.0, 10), 0u);
  EXPECT_EQ(detail::exploration_slots(1.0, 7), 7u);
}

// One item created far ahead must not age every other item past the cut-off, and one created at
// the smallest time must not overflow its age into a negative (forever new, boosted) one.
TEST(FreshContent, ExtremeCreationTimesDoNotMoveNowOrOverflowAges) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  put_new_items(*campaign);
  ASSERT_TRUE(campaign
                  ->put_items({new_item("far-ahead", "Sales Hub", "forecast", "Sales forecast",
                                        253402300799),  // the year 9999
                               new_item("far-back", "Sales Hub", "forecast", "Sales forecast",
                                        std::numeric_limits<std::int64_t>::min())})
                  .ok());
  const std::shared_ptr<const Model> model = campaign->version()->model();
  auto index = group->read(
      [&](const DatasetGroup& g) { return detail::build_content_index(g, *model, 30.0); });
  EXPECT_LT(index->now, 253402300799);
  for (float age : index->age_days) {
    EXPECT_GE(age, 0.0f);
    EXPECT_TRUE(std::isfinite(age));
  }
  const Index back =
      group->read([](const DatasetGroup& g) { return g.item_ids().find("far-back"); });
  EXPECT_GT(index->age_days.at(back), 1e6f);
  const std::vector<ScoredItem> e = detail::explore(
      *index, nullptr, 0, 30.0, 10, 1, [](Index) { return true; },
      [](Index) -> const float* { return nullptr; });
  EXPECT_EQ(e.size(), 10u);  // the twenty new items are still new
  for (const ScoredItem& s : e) EXPECT_NE(s.item, back);

  // Through a request: the new items are explored.
  RecommendationRequest req;
  req.user_id = engineer(group);
  req.num_results = 10;
  req.exploration_weight = 1.0f;
  const RecommendationResponse r = campaign->get_recommendations(req);
  int explored = 0;
  for (const RecommendedItem& i : r.items) {
    explored += i.explored;
    EXPECT_NE(i.item_id, "far-back");
  }
  EXPECT_EQ(explored, 10);
}

TEST(FreshContent, SimilarItemsOfANewItemShareItsMetadata) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "sims");
  ASSERT_TRUE(campaign
                  ->put_items({new_item("new-eng", "Engineering Hub", "cpp|security",
                                        "Engineering ideas: cpp and security")})
                  .ok());
  RecommendationRequest req;
  req.item_id = "new-eng";
  req.num_results = 10;
  req.metadata_columns = {"COMMUNITY"};
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 10u);
  int same = 0;
  for (const RecommendedItem& i : r.items) {
    ASSERT_EQ(i.metadata.size(), 1u) << i.item_id;
    same += i.metadata[0].second == "Engineering Hub";
  }
  EXPECT_GE(same, 8);
}

TEST(FreshContent, MetadataColumnsInResponses) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  RecommendationRequest req;
  req.user_id = engineer(group);
  req.num_results = 5;
  req.metadata_columns = {"COMMUNITY", "TAGS", "CREATION_TIMESTAMP"};
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 5u);
  for (const RecommendedItem& i : r.items) {
    ASSERT_GE(i.metadata.size(), 2u);
    EXPECT_EQ(i.metadata[0].first, "COMMUNITY");
    EXPECT_FALSE(i.metadata[0].second.empty());
    EXPECT_EQ(i.metadata.back().first, "CREATION_TIMESTAMP");
  }
  // The sample's item-0000: tags cpp|security|release, a multi-valued field joined by `|`.
  RankingRequest rank;
  rank.user_id = req.user_id;
  rank.input_list = {"item-0000", "no-such-item"};
  rank.metadata_columns = {"TAGS"};
  RecommendationResponse ranked = campaign->get_personalized_ranking(rank);
  ASSERT_EQ(ranked.items.size(), 2u);
  ASSERT_EQ(ranked.items[0].metadata.size(), 1u);
  EXPECT_EQ(ranked.items[0].metadata[0].second, "cpp|security|release");
  EXPECT_TRUE(ranked.items[1].metadata.empty());

  req.metadata_columns = {"NO_SUCH_FIELD"};
  try {
    campaign->get_recommendations(req);
    FAIL() << "an unknown metadata column was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("NO_SUCH_FIELD"), std::string::npos);
  }
  req.metadata_columns.assign(11, "TAGS");
  EXPECT_THROW(campaign->get_recommendations(req), Error);
}

// A column named twice would make "metadata" a JSON object with a key twice: refused.
TEST(FreshContent, MetadataColumnNamedTwiceIsRefused) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  RecommendationRequest req;
  req.user_id = engineer(group);
  req.num_results = 3;
  req.metadata_columns = {"COMMUNITY", "TAGS", "COMMUNITY"};
  try {
    campaign->get_recommendations(req);
    FAIL() << "a metadata column named twice was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("COMMUNITY"), std::string::npos);
  }
  RankingRequest rank;
  rank.user_id = req.user_id;
  rank.input_list = {"item-0000"};
  rank.metadata_columns = {"TAGS", "TAGS"};
  EXPECT_THROW(campaign->get_personalized_ranking(rank), Error);
}

// Numbers come back in their shortest exact form, as they were put: "0.1", not 17 digits.
TEST(FreshContent, MetadataColumnsWriteNumbersInTheirShortestForm) {
  DatasetGroup g(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions), std::nullopt,
                 Schema::parse(test::kItemsSchema, DatasetKind::Items));
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions,
                                "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n"
                                "u1,a,100,read,,\nu2,a,101,read,,\nu2,b,102,read,,\n")
                  .ok());
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Items,
                                "ITEM_ID,TAGS,PRICE,PREMIUM,TITLE,CREATION_TIMESTAMP\n"
                                "a,cpp,0.1,true,A title,100\nb,cpp,1e300,false,B title,100\n")
                  .ok());
  auto group = std::make_shared<LiveDatasetGroup>(std::move(g));
  auto campaign = make_campaign(group, "popularity-count");
  RecommendationRequest req;
  req.user_id = "u3";
  req.num_results = 2;
  req.metadata_columns = {"PRICE", "PREMIUM"};
  const RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[0].item_id, "a");
  ASSERT_EQ(r.items[0].metadata.size(), 2u);
  EXPECT_EQ(r.items[0].metadata[0].second, "0.1");
  EXPECT_EQ(r.items[0].metadata[1].second, "true");
  ASSERT_FALSE(r.items[1].metadata.empty());
  EXPECT_EQ(r.items[1].metadata[0].second, "1e+300");
}

TEST(FreshContent, RecencyHalfLifeDownWeightsOldItems) {
  auto group = sample_group();
  auto plain = make_campaign(group, "user-personalization");
  auto recent = make_campaign(group, "user-personalization", R"({"recency_half_life": 14})");
  auto created = [&](const std::string& id) {
    return group->read([&](const DatasetGroup& g) {
      const Column* c = g.items()->column("CREATION_TIMESTAMP");
      return c->int_at(g.items()->row_of(g.item_ids().find(id)));
    });
  };
  RecommendationRequest req;
  req.user_id = engineer(group);
  req.num_results = 25;
  auto mean_created = [&](const Campaign& c) {
    double sum = 0;
    const RecommendationResponse r = c.get_recommendations(req);
    for (const RecommendedItem& i : r.items) sum += static_cast<double>(created(i.item_id));
    return sum / static_cast<double>(r.items.size());
  };
  // Two weeks per halving: the lists move to newer items, by more than a month on average.
  EXPECT_GT(mean_created(*recent), mean_created(*plain) + 30 * 86400.0);
  // A half-life of minutes: ranking follows creation time, newest first.
  auto strict = make_campaign(group, "user-personalization", R"({"recency_half_life": 0.001})");
  RankingRequest rank;
  rank.user_id = req.user_id;
  for (int k = 0; k < 10; ++k) rank.input_list.push_back("item-000" + std::to_string(k));
  const RecommendationResponse ranked = strict->get_personalized_ranking(rank);
  ASSERT_EQ(ranked.items.size(), 10u);
  for (std::size_t k = 1; k < ranked.items.size(); ++k)
    EXPECT_GE(created(ranked.items[k - 1].item_id), created(ranked.items[k].item_id));
  EXPECT_THROW(Solution({"s", "user-personalization", R"({"recency_half_life": -1})", {}}), Error);
}

TEST(FreshContent, BadExplorationParametersAreRefused) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "user-personalization");
  RecommendationRequest req;
  req.user_id = "user-0001";
  req.exploration_weight = 1.5f;
  try {
    campaign->get_recommendations(req);
    FAIL() << "exploration_weight 1.5 was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("exploration_weight"), std::string::npos);
  }
  req.exploration_weight.reset();
  req.exploration_item_age_cut_off = -1.0f;
  EXPECT_THROW(campaign->get_recommendations(req), Error);
  EXPECT_THROW(Solution({"s", "user-personalization", R"({"exploration_weight": -0.1})", {}}),
               Error);
  EXPECT_THROW(
      Solution({"s", "user-personalization", R"({"exploration_item_age_cut_off": -3})", {}}),
      Error);
  EXPECT_THROW(Solution({"s", "user-personalization", R"({"item_metadata": 3})", {}}), Error);
}

// Items put and deleted while requests explore new items and ask for their similar items: every
// response is whole (no repeats, no empty id), and once a deletion returns the item is never
// recommended, explored or given as similar again.
TEST(FreshContent, RequestsWhileItemsArePutAndDeleted) {
  auto group = sample_group();
  auto personal = make_campaign(group, "user-personalization");
  auto sims = make_campaign(group, "sims");
  put_new_items(*personal);
  std::atomic<bool> stop{false}, gone{false};
  std::atomic<int> bad{0}, requests{0};
  std::mutex first_mutex;
  std::string first;  // the first bad response, for the failure message
  auto fail = [&](const std::string& why) {
    std::lock_guard<std::mutex> lock(first_mutex);
    if (bad++ == 0) first = why;
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      for (int k = 0; !stop; ++k) {
        const bool deleted_before = gone.load();
        RecommendationResponse r;
        try {
          if (t == 0) {
            RecommendationRequest req;
            req.item_id = "eng-" + std::to_string(k % 5);
            req.num_results = 10;
            r = sims->get_recommendations(req);
          } else {
            RecommendationRequest req;
            req.user_id = t == 1 ? "user-0001" : "someone-new";
            req.num_results = 10;
            req.exploration_weight = 0.5f;
            r = personal->get_recommendations(req);
          }
        } catch (const Error& e) {
          // Similar items of a deleted item: not found, nothing else.
          if (e.code() != ErrorCode::NotFound) fail(e.what());
          continue;
        }
        std::set<std::string> ids;
        for (const RecommendedItem& i : r.items) {
          if (i.item_id.empty() || !ids.insert(i.item_id).second)
            fail("reader " + std::to_string(t) + ": \"" + i.item_id + "\" repeated or empty");
          if (deleted_before && i.item_id == "eng-9")
            fail("reader " + std::to_string(t) + ": a deleted item");
        }
        // (A request scored before a deletion and named after it leaves the item out.)
        if (deleted_before && r.items.size() != 10)
          fail("reader " + std::to_string(t) + ": " + std::to_string(r.items.size()) + " items");
        ++requests;
      }
    });
  }
  for (int k = 0; k < 30; ++k) {
    ASSERT_TRUE(personal
                    ->put_items({new_item("more-" + std::to_string(k), "Engineering Hub", "cpp",
                                          "Engineering cpp notes")})
                    .ok());
    if (k == 15) {
      group->delete_items({"eng-9"});
      gone = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  while (requests < 60) std::this_thread::yield();
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0) << first;
}

TEST(FreshContent, MetadataMappingIsSavedAndModelsWithoutOneStillLoad) {
  DatasetGroup g = test::sample_group();
  Solution with({"s", "user-personalization", "{}", {}});
  TrainOptions o;
  o.compute_metrics = false;
  const SolutionVersion v = with.train(g, o);
  const auto& model = dynamic_cast<const AlsModel&>(*v.model());
  ASSERT_TRUE(model.metadata());
  ModelArchive archive;
  model.save(archive);
  EXPECT_TRUE(archive.has("metadata.weights"));
  const std::unique_ptr<AlsModel> back = AlsModel::load("user-personalization", archive);
  ASSERT_TRUE(back->metadata());
  EXPECT_EQ(back->metadata()->weights, model.metadata()->weights);
  EXPECT_EQ(back->item_factors(), model.item_factors());
  // A model saved before metadata existed (no metadata sections) loads without a mapping, and a
  // solution told not to use metadata trains none.
  ModelArchive old;
  for (const char* name : {"params", "shape"}) {
    if (archive.kind(name) == ModelArchive::Kind::Text) old.put_text(name, archive.text(name));
  }
  old.put_text("params", R"({"factors":64})");
  old.put_integers("shape", archive.integers("shape"));
  old.put_floats("user_factors", archive.floats("user_factors"));
  old.put_floats("item_factors", archive.floats("item_factors"));
  const std::unique_ptr<AlsModel> legacy = AlsModel::load("user-personalization", old);
  EXPECT_FALSE(legacy->metadata());
  EXPECT_FLOAT_EQ(legacy->params().exploration_weight, 0.3f);
  Solution without({"s", "user-personalization", R"({"item_metadata": false})", {}});
  EXPECT_FALSE(dynamic_cast<const AlsModel&>(*without.train(g, o).model()).metadata());
  // A mapping whose width does not match the factors is refused.
  old.put_integers("metadata.weights_shape", {1, 1});
  archive.put_integers("metadata.weights_shape", {1, 1});
  EXPECT_THROW(AlsModel::load("user-personalization", archive), Error);
}

}  // namespace
}  // namespace tailor
