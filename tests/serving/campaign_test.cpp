// SPDX-License-Identifier: MIT
// Campaigns: responses, filters with back-fill, promotions, live updates and swaps.
#include "tailor/serving/campaign.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include "common/cpu_targets.hpp"
#include "common/sample.hpp"
#include "common/sample_campaign.hpp"
#include "detail/topk.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor {
namespace {

std::shared_ptr<LiveDatasetGroup> sample_group() { return test::sample_live_group(); }
using test::make_campaign;

Filter compile(const std::shared_ptr<LiveDatasetGroup>& group, const std::string& expression) {
  return group->read([&](const DatasetGroup& g) { return Filter::compile(expression, g); });
}

std::set<std::string> items_of(const RecommendationResponse& r) {
  std::set<std::string> out;
  for (const auto& i : r.items) out.insert(i.item_id);
  return out;
}

EventRecord event(const std::string& user, const std::string& item, const char* type = "read",
                  std::int64_t t = 1800000000) {
  EventRecord e;
  e.user_id = user;
  e.session_id = "s-" + user;
  e.item_id = item;
  e.event_type = type;
  e.sent_at = t;
  return e;
}

TEST(ServingCampaign, RecommendsWithSoftmaxScoresAndUniqueIds) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "user-personalization", R"({"factors": 16, "iterations": 5})");
  RecommendationRequest req;
  req.user_id = "user-0001";
  RecommendationResponse a = campaign->get_recommendations(req);
  ASSERT_EQ(a.items.size(), 25u);
  EXPECT_FALSE(a.cold_start);
  double sum = 0;
  for (std::size_t k = 0; k < a.items.size(); ++k) {
    ASSERT_TRUE(a.items[k].score.has_value());
    EXPECT_GT(*a.items[k].score, 0.0);
    sum += *a.items[k].score;
    if (k > 0) {
      EXPECT_GE(a.items[k - 1].raw_score, a.items[k].raw_score);
    }
  }
  EXPECT_LT(sum, 1.0);  // a softmax over all 1200 items: the top 25 hold part of the mass
  RecommendationResponse b = campaign->get_recommendations(req);
  EXPECT_NE(a.recommendation_id, b.recommendation_id);
  EXPECT_EQ(items_of(a), items_of(b));
  req.num_results = 501;
  EXPECT_THROW(campaign->get_recommendations(req), Error);
  req.num_results = 5;
  req.context = {{"DEVICE", "phone"}, {"bad key!", "x"}};
  EXPECT_THROW(campaign->get_recommendations(req), Error);
  EXPECT_THROW(campaign->get_recommendations(RecommendationRequest{}), Error);
}

TEST(ServingCampaign, FiltersNeverShortenTheListWhileItemsRemain) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "user-personalization", R"({"factors": 16, "iterations": 5})");
  RecommendationRequest req;
  req.user_id = "user-0001";
  req.filter = compile(group, R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))");
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 25u);
  std::set<std::string> read = group->read([](const DatasetGroup& g) {
    std::set<std::string> out;
    const Index u = g.user_ids().find("user-0001");
    for (std::uint32_t row : g.interaction_rows_of(u)) {
      if (g.interactions().event_type_names().name(g.interactions().event_types()[row]) == "read") {
        out.insert(std::string(g.item_ids().name(g.interactions().items()[row])));
      }
    }
    return out;
  });
  for (const auto& item : r.items) EXPECT_EQ(read.count(item.item_id), 0u) << item.item_id;
  // Only three items allowed: exactly those three come back.
  req.filter = compile(
      group, R"(INCLUDE ItemID WHERE Items.ITEM_ID IN ("item-0001", "item-0500", "item-1100"))");
  r = campaign->get_recommendations(req);
  EXPECT_EQ(items_of(r), (std::set<std::string>{"item-0001", "item-0500", "item-1100"}));
  // An explicit exclusion list.
  req.excluded_item_ids = {"item-0500", "no-such-item"};
  r = campaign->get_recommendations(req);
  EXPECT_EQ(items_of(r), (std::set<std::string>{"item-0001", "item-1100"}));
  // A filter parameter an INCLUDE part needs.
  req.filter = compile(group, R"(INCLUDE ItemID WHERE Items.COMMUNITY IN ($C))");
  req.excluded_item_ids.clear();
  EXPECT_THROW(campaign->get_recommendations(req), Error);
  req.filter_values = {{"C", {"Finance Hub"}}};
  r = campaign->get_recommendations(req);
  EXPECT_EQ(r.items.size(), 25u);
}

TEST(ServingCampaign, UnknownUsersGetPopularItemsFlaggedCold) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "user-personalization", R"({"factors": 16, "iterations": 5})");
  RecommendationRequest req;
  req.user_id = "somebody-new";
  RecommendationResponse r = campaign->get_recommendations(req);
  EXPECT_TRUE(r.cold_start);
  EXPECT_EQ(r.items.size(), 25u);
  // A brand-new user's first events make their recommendations personal at once.
  ASSERT_TRUE(
      campaign->put_events({event("somebody-new", "item-0008"), event("somebody-new", "item-0016")})
          .ok());
  RecommendationResponse after = campaign->get_recommendations(req);
  EXPECT_FALSE(after.cold_start);
  EXPECT_NE(items_of(after), items_of(r));
  ASSERT_TRUE(after.items.front().score.has_value());
}

TEST(ServingCampaign, EventsAreVisibleToTheNextRequest) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "user-personalization", R"({"factors": 16, "iterations": 5})");
  RecommendationRequest req;
  req.user_id = "user-0002";
  req.filter = compile(group, R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))");
  RecommendationResponse before = campaign->get_recommendations(req);
  const std::string top = before.items.front().item_id;
  PutReport rep = campaign->put_events({event("user-0002", top)});
  ASSERT_TRUE(rep.ok());
  RecommendationResponse after = campaign->get_recommendations(req);
  EXPECT_EQ(items_of(after).count(top), 0u);  // the item just read is filtered at once
}

TEST(ServingCampaign, PopularityCountsMoveAndNewItemsBecomeRecommendable) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "popularity-count");
  ASSERT_TRUE(
      campaign
          ->put_items(
              {{"fresh-item",
                R"({"contentType":"blog_post","community":"Data Hub","creationTimestamp":1800000000})"}})
          .ok());
  std::vector<EventRecord> events;
  for (int u = 0; u < 200; ++u)
    events.push_back(event("reader-" + std::to_string(u), "fresh-item"));
  ASSERT_TRUE(campaign->put_events(events).ok());
  RecommendationRequest req;
  req.user_id = "anyone";
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_FALSE(r.items.empty());
  EXPECT_EQ(r.items.front().item_id, "fresh-item");
  EXPECT_FALSE(r.items.front().score.has_value());  // popularity has no Personalize score
  // The same user twice counts once: distinct users.
  ASSERT_TRUE(
      campaign->put_events({event("reader-1", "fresh-item"), event("reader-1", "fresh-item")})
          .ok());
  EXPECT_FLOAT_EQ(campaign->get_recommendations(req).items.front().raw_score,
                  r.items.front().raw_score);
}

TEST(ServingCampaign, SimilarItemsIncludingAnItemNewerThanTheModel) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "sims");
  RecommendationRequest req;
  req.item_id = "item-0000";
  req.num_results = 5;
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 5u);
  for (const auto& i : r.items) EXPECT_NE(i.item_id, "item-0000");
  req.item_id = "no-such-item";
  EXPECT_THROW(campaign->get_recommendations(req), Error);
  // A brand-new item read by users who also read item-0042 is similar to item-0042 at once.
  std::vector<EventRecord> events;
  for (int u = 0; u < 5; ++u) {
    events.push_back(event("fan-" + std::to_string(u), "item-0042"));
    events.push_back(event("fan-" + std::to_string(u), "new-post"));
  }
  ASSERT_TRUE(campaign->put_events(events).ok());
  req.item_id = "new-post";
  r = campaign->get_recommendations(req);
  ASSERT_FALSE(r.items.empty());
  EXPECT_EQ(r.items.front().item_id, "item-0042");
  // A user-personalization campaign refuses similar-items requests.
  auto als = make_campaign(group, "user-personalization", R"({"factors": 8, "iterations": 2})");
  req.item_id = "item-0000";
  EXPECT_THROW(als->get_recommendations(req), Error);
}

TEST(ServingCampaign, PromotionsFillTheirShareFromTheirOwnFilter) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "user-personalization", R"({"factors": 16, "iterations": 5})");
  RecommendationRequest req;
  req.user_id = "user-0001";
  req.num_results = 10;
  req.filter = compile(group, R"(INCLUDE ItemID WHERE Items.COMMUNITY IN ("Engineering Hub"))");
  Promotion p;
  p.name = "finance-week";
  p.percent_promoted_items = 20;
  p.filter = compile(group, R"(INCLUDE ItemID WHERE Items.COMMUNITY IN ("Finance Hub"))");
  req.promotion = p;
  RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 10u);
  auto community = [&](const std::string& id) {
    return group->read([&](const DatasetGroup& g) {
      const EntityTable& t = *g.items();
      const Column& c = *t.column("COMMUNITY");
      return std::string(c.dictionary().name(c.codes_at(t.row_of(g.item_ids().find(id)))[0]));
    });
  };
  int promoted = 0;
  for (const auto& i : r.items) {
    if (!i.promotion_name.empty()) {
      ++promoted;
      EXPECT_EQ(i.promotion_name, "finance-week");
      EXPECT_EQ(community(i.item_id), "Finance Hub");
    } else {
      EXPECT_EQ(community(i.item_id), "Engineering Hub");
    }
  }
  EXPECT_EQ(promoted, 2);
  EXPECT_EQ(items_of(r).size(), 10u);  // no duplicates
  req.promotion->percent_promoted_items = 0;
  EXPECT_THROW(campaign->get_recommendations(req), Error);
  req.promotion->percent_promoted_items = 10;
  req.promotion->name = "bad name";
  EXPECT_THROW(campaign->get_recommendations(req), Error);
  req.promotion->name = "finance-week";
  req.promotion->filter.reset();  // a promotion names its items by a filter: required
  try {
    campaign->get_recommendations(req);
    ADD_FAILURE() << "a promotion without a filter was served";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("needs a filter"), std::string::npos) << e.what();
  }
}

TEST(ServingCampaign, PersonalizedRankingKeepsUnknownItemsLast) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "personalized-ranking", R"({"factors": 16, "iterations": 5})");
  RankingRequest req;
  req.user_id = "user-0001";
  req.input_list = {"item-0100", "ghost-item", "item-0008", "item-0003"};
  RecommendationResponse r = campaign->get_personalized_ranking(req);
  ASSERT_EQ(r.items.size(), 4u);
  EXPECT_EQ(r.items.back().item_id, "ghost-item");
  EXPECT_FALSE(r.items.back().score.has_value());
  double sum = 0;
  for (std::size_t k = 0; k + 1 < r.items.size(); ++k) {
    ASSERT_TRUE(r.items[k].score.has_value());
    sum += *r.items[k].score;
    if (k > 0) {
      EXPECT_GE(r.items[k - 1].raw_score, r.items[k].raw_score);
    }
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);  // a softmax over the list
  req.filter = compile(group, R"(EXCLUDE ItemID WHERE Items.ITEM_ID IN ("item-0003"))");
  EXPECT_EQ(campaign->get_personalized_ranking(req).items.size(), 3u);
  req.input_list.clear();
  EXPECT_THROW(campaign->get_personalized_ranking(req), Error);
}

TEST(ServingCampaign, BadRecordsAreRejectedGoodOnesKept) {
  auto group = sample_group();
  auto campaign = make_campaign(group, "popularity-count");
  EventRecord no_session = event("u", "item-0001");
  no_session.session_id.clear();
  EventRecord bad_property = event("u", "item-0001");
  bad_property.properties = R"({"colour": "red"})";
  EventRecord too_many = event("u", "item-0001");
  too_many.impression.assign(26, "item-0001");
  EventRecord bad_value = event("u", "item-0001");
  bad_value.event_value = std::nanf("");
  PutReport r = campaign->put_events({event("u", "item-0001"), no_session, bad_property, too_many,
                                      bad_value, event("u", std::string(300, 'x'))});
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.rejected, 5u);
  ASSERT_EQ(r.errors.size(), 5u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].column, "sessionId");
  EXPECT_NE(r.errors[1].reason.find("colour"), std::string::npos);
  EXPECT_EQ(r.errors[4].line, 6u);
  EXPECT_EQ(r.errors[4].column, "ITEM_ID");
  PutReport items = campaign->put_items(
      {{"x1", R"({"contentType":"document","creationTimestamp":"soon"})"},
       {"x2", R"({"contentType":"document","community":"Data Hub","creationTimestamp":5})"},
       {"x3", "not json"}});
  EXPECT_EQ(items.accepted, 1u);
  ASSERT_EQ(items.errors.size(), 2u);
  EXPECT_EQ(items.errors[0].line, 1u);
  EXPECT_EQ(items.errors[1].line, 3u);
}

TEST(ServingCampaign, RetrainSwapsTheVersionWhileServing) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "user-personalization", R"({"factors": 8, "iterations": 2})");
  auto first = campaign->version();
  RecommendationRequest req;
  req.user_id = "user-0003";
  RecommendationResponse before = campaign->get_recommendations(req);
  ASSERT_TRUE(campaign->retrain_async());
  for (int k = 0; k < 20; ++k) EXPECT_EQ(campaign->get_recommendations(req).items.size(), 25u);
  campaign->wait_for_retrain();
  EXPECT_NE(campaign->version(), first);
  EXPECT_EQ(campaign->get_recommendations(req).items.size(), 25u);
}

TEST(ServingCampaign, DestroyingACampaignStopsItsBackgroundRetrainAtTheNextIteration) {
  auto group = sample_group();
  // Seconds of training: without the stop the destructor would wait for all of it.
  constexpr int kIterations = 1000;  // the most a solution may ask for
  Solution solution({"als",
                     "user-personalization",
                     R"({"factors": 64, "iterations": )" + std::to_string(kIterations) + "}",
                     {}});
  SolutionVersion v = group->read([&](const DatasetGroup& g) {
    TrainOptions o;
    o.compute_metrics = false;
    Solution quick({"als", "user-personalization", R"({"factors": 8, "iterations": 1})", {}});
    return quick.train(g, o);
  });
  std::atomic<int> iterations{0};
  std::atomic<int> reports{0};
  CampaignOptions options;
  options.training.compute_metrics = false;
  options.training.progress = [&](const TrainingProgress&) { ++iterations; };
  options.on_retrain_error = [&](const std::string&) { ++reports; };
  options.on_retrain_success = [&](const SolutionVersion&) { ++reports; };
  auto campaign = std::make_unique<Campaign>(group, solution, std::move(v), options);
  ASSERT_TRUE(campaign->retrain_async());
  while (iterations.load() < 2) std::this_thread::yield();  // the training is under way
  campaign.reset();
  const int stopped_at = iterations.load();
  EXPECT_LT(stopped_at, kIterations);
  EXPECT_EQ(reports.load(), 0) << "a cancelled retrain is neither an error nor a success";
  // The group is untouched and serves a new campaign.
  auto again = make_campaign(group, "popularity-count");
  RecommendationRequest req;
  req.user_id = "user-0001";
  EXPECT_EQ(again->get_recommendations(req).items.size(), 25u);
}

TEST(ServingCampaign, AutoRetrainAfterEnoughEvents) {
  auto group = sample_group();
  Solution solution({"pop", "popularity-count", "{}", {}});
  SolutionVersion v = group->read([&](const DatasetGroup& g) {
    TrainOptions o;
    o.compute_metrics = false;
    return solution.train(g, o);
  });
  CampaignOptions options;
  options.retrain_every_events = 3;
  Campaign campaign(group, solution, std::move(v), options);
  auto first = campaign.version();
  ASSERT_TRUE(
      campaign
          .put_events({event("a", "item-0001"), event("b", "item-0001"), event("c", "item-0001")})
          .ok());
  campaign.wait_for_retrain();
  EXPECT_NE(campaign.version(), first);
}

TEST(ServingCampaign, UpdateModeRetrainingGivesNewUsersVectors) {
  auto group = sample_group();
  Solution solution({"als", "user-personalization", R"({"factors": 8, "iterations": 2})", {}});
  SolutionVersion v = group->read([&](const DatasetGroup& g) {
    TrainOptions o;
    o.compute_metrics = false;
    return solution.train(g, o);
  });
  CampaignOptions options;
  options.training.mode = TrainingMode::Update;
  options.retrain_every_events = 3;
  std::mutex mutex;
  std::vector<TrainingMode> deployed;
  options.on_retrain_success = [&](const SolutionVersion& version) {
    std::lock_guard<std::mutex> lock(mutex);
    deployed.push_back(version.mode());
  };
  Campaign campaign(group, solution, std::move(v), options);
  const auto first = campaign.version();
  ASSERT_TRUE(campaign
                  .put_events({event("new-a", "item-0001"), event("new-b", "item-0002"),
                               event("new-a", "brand-new-item")})
                  .ok());
  campaign.wait_for_retrain();
  EXPECT_FALSE(campaign.last_retrain_error().has_value()) << *campaign.last_retrain_error();
  const auto second = campaign.version();
  ASSERT_NE(second, first);
  EXPECT_EQ(second->mode(), TrainingMode::Update);
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(deployed, (std::vector<TrainingMode>{TrainingMode::Update}));
  }
  const auto& before = dynamic_cast<const AlsModel&>(*first->model());
  const auto& after = dynamic_cast<const AlsModel&>(*second->model());
  // UPDATE: the existing rows as trained, new rows for the new users and the new item.
  EXPECT_TRUE(after.user_factors().topRows(before.num_users()) == before.user_factors());
  EXPECT_TRUE(after.item_factors().topRows(before.num_items()) == before.item_factors());
  group->read([&](const DatasetGroup& g) {
    EXPECT_EQ(after.num_users(), g.user_ids().size());
    EXPECT_EQ(after.num_items(), g.item_ids().size());
    for (const char* user : {"new-a", "new-b"}) {
      const Index u = g.user_ids().find(user);
      ASSERT_LT(u, after.num_users());
      EXPECT_GE(u, before.num_users());
      EXPECT_GT(after.user_factors().row(u).norm(), 0.0f) << user;
    }
  });
  RecommendationRequest req;
  req.user_id = "new-a";
  RecommendationResponse r = campaign.get_recommendations(req);
  EXPECT_FALSE(r.cold_start);
  EXPECT_EQ(r.items.size(), 25u);
}

TEST(ServingCampaign, FailedRetrainIsReportedAndTheOldVersionServes) {
  auto group = sample_group();
  RecommendationRequest request;
  request.user_id = "user-0001";
  TrainOptions o;
  o.compute_metrics = false;
  Solution trained({"pop", "popularity-count", "{}", {}});
  SolutionVersion v = group->read([&](const DatasetGroup& g) { return trained.train(g, o); });
  // Retraining selects only "purchase" events: there are none yet, so training throws.
  Solution retrained({"pop", "popularity-count", "{}",
                      EventSelection::from_json(R"({"eventTypes":["purchase"]})")});
  CampaignOptions options;
  std::mutex mutex;
  std::vector<std::string> errors;
  std::size_t successes = 0, served_in_callback = 0;
  Campaign* self = nullptr;
  options.on_retrain_error = [&](const std::string& error) {
    // No campaign lock is held: a request from the callback is served.
    const std::size_t n = self->get_recommendations(request).items.size();
    std::lock_guard<std::mutex> lock(mutex);
    errors.push_back(error);
    served_in_callback += n;
  };
  options.on_retrain_success = [&](const SolutionVersion&) {
    std::lock_guard<std::mutex> lock(mutex);
    ++successes;
  };
  Campaign campaign(group, retrained, std::move(v), options);
  self = &campaign;
  const auto first = campaign.version();
  EXPECT_FALSE(campaign.last_retrain_error().has_value());

  ASSERT_TRUE(campaign.retrain_async());
  campaign.wait_for_retrain();
  ASSERT_TRUE(campaign.last_retrain_error().has_value());
  EXPECT_NE(campaign.last_retrain_error()->find("no interactions left"), std::string::npos)
      << *campaign.last_retrain_error();
  {
    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], *campaign.last_retrain_error());
    EXPECT_EQ(served_in_callback, 25u);
    EXPECT_EQ(successes, 0u);
  }
  EXPECT_EQ(campaign.version(), first);
  EXPECT_EQ(campaign.get_recommendations(request).items.size(), 25u);

  // A blocking retrain reports the same way and throws to its caller too.
  EXPECT_THROW(campaign.retrain(), Error);
  EXPECT_TRUE(campaign.last_retrain_error().has_value());
  EXPECT_EQ(campaign.version(), first);
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(errors.size(), 2u);
  }

  // Once there is something to train on, the next retrain succeeds and clears the error.
  ASSERT_TRUE(campaign.put_events({event("user-0001", "item-0001", "purchase")}).ok());
  ASSERT_TRUE(campaign.retrain_async());
  campaign.wait_for_retrain();
  EXPECT_FALSE(campaign.last_retrain_error().has_value());
  EXPECT_NE(campaign.version(), first);
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(successes, 1u);
  EXPECT_EQ(errors.size(), 2u);
}

}  // namespace
}  // namespace tailor

namespace tailor {
namespace {

TEST(ServingCampaign, RecommendAllMatchesRequestsOneByOne) {
  auto group = sample_group();
  auto campaign =
      make_campaign(group, "user-personalization", R"({"factors": 16, "iterations": 5})");
  std::vector<RecommendationRequest> requests;
  for (const char* user : {"user-0001", "user-0002", "nobody", "user-0003"}) {
    RecommendationRequest r;
    r.user_id = user;
    r.num_results = 7;
    r.filter = compile(group, R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))");
    requests.push_back(r);
  }
  // A filter that leaves 3 items (back-fill), an exclusion list, zero results.
  RecommendationRequest few;
  few.user_id = "user-0004";
  few.num_results = 5;
  few.filter = compile(
      group, R"(INCLUDE ItemID WHERE Items.ITEM_ID IN ("item-0001", "item-0500", "item-1100"))");
  requests.push_back(few);
  RecommendationRequest excluding;
  excluding.user_id = "user-0005";
  excluding.num_results = 6;
  excluding.excluded_item_ids = {"item-0008", "item-0016", "item-0000"};
  requests.push_back(excluding);
  RecommendationRequest none;
  none.user_id = "user-0006";
  none.num_results = 0;
  requests.push_back(none);
  requests.emplace_back();  // invalid: neither user nor item
  ExecutionOptions two;
  two.num_threads = 2;
  std::vector<RecommendationResult> results = recommend_all(*campaign, requests, two);
  ASSERT_EQ(results.size(), 8u);
  std::vector<RecommendationResponse> all;
  for (const RecommendationResult& r : results) all.push_back(r.response);
  for (std::size_t k = 0; k < 7; ++k) {
    ASSERT_TRUE(results[k].ok()) << results[k].message;
    EXPECT_TRUE(results[k].message.empty());
    RecommendationResponse one = campaign->get_recommendations(requests[k]);
    ASSERT_EQ(all[k].items.size(), one.items.size());
    EXPECT_EQ(all[k].cold_start, one.cold_start);
    for (std::size_t i = 0; i < one.items.size(); ++i) {
      EXPECT_EQ(all[k].items[i].item_id, one.items[i].item_id);
      if (one.items[i].score) {
        EXPECT_NEAR(*all[k].items[i].score, *one.items[i].score, 1e-6);
      }
    }
  }
  EXPECT_EQ(all[4].items.size(), 3u);
  EXPECT_TRUE(all[6].items.empty());
  // The invalid request fails alone, with the code get_recommendations() throws.
  EXPECT_EQ(results[7].error, ErrorCode::InvalidArgument);
  EXPECT_NE(results[7].message.find("user_id or an item_id"), std::string::npos)
      << results[7].message;
  EXPECT_TRUE(results[7].response.items.empty());
}

}  // namespace
}  // namespace tailor

namespace tailor {
namespace {

// Item factors with clusters of near-ties, closer than the bfloat16 scan can tell apart: 40 near
// copies of one item, 300 near copies of another, and three exact copies of a third.
FactorMatrix clustered_item_factors(Index items, int f) {
  std::mt19937_64 rng(21);
  std::normal_distribution<float> normal(0, 0.3f), nudge(0, 1e-4f);
  FactorMatrix m(items, f);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = normal(rng);
  }
  auto cluster = [&](Eigen::Index source, Eigen::Index first, Eigen::Index last, float noise) {
    m.row(source) *= 3.0f;
    for (Eigen::Index r = first; r <= last; ++r) {
      for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = m(source, c) + noise * nudge(rng);
    }
  };
  cluster(5, 10, 49, 1.0f);
  cluster(60, 100, 399, 1.0f);
  cluster(503, 500, 502, 0.0f);
  return m;
}

// How a campaign's requests found their candidates (see the serving scan): among the best
// count + 4 approximate scores, by a second pass, or by scoring the whole catalog exactly; and
// how often the approximate order differed from the exact one.
struct CandidateWays {
  int by_heap = 0, by_pass = 0, by_full_scan = 0, reordered = 0;
};

// Requests for every third user, with and without a filter, for 10 and 25 items, against a full
// sort of the model's exact scores: the same items in the same order with the same raw scores,
// and softmax scores within the approximation's bound of a double-precision softmax (within
// 1e-6 for `peaked_user`, whose softmax mass sits on a few items).
CandidateWays expect_full_sort_ranking(const std::shared_ptr<LiveDatasetGroup>& group,
                                       const Model& model, const Campaign& campaign,
                                       Index peaked_user) {
  const auto filter = compile(group, R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))");
  const Index num_items = model.num_items();
  CandidateWays ways;
  for (Index u = 0; u < model.num_users(); u += 3) {
    for (std::size_t count : {10u, 25u}) {
      for (bool filtered : {false, true}) {
        RecommendationRequest req;
        req.user_id =
            group->read([&](const DatasetGroup& g) { return std::string(g.user_ids().name(u)); });
        req.num_results = count;
        if (filtered) req.filter = filter;
        const RecommendationResponse got = campaign.get_recommendations(req);

        UserQuery q;
        q.user = u;
        std::vector<float> exact, approximate;
        model.score_all(q, exact);
        const ScoreBound bound = model.scorer(q)->approximate_scores(approximate);
        EXPECT_FALSE(bound.exact());
        const Bitmap allowed = group->read([&](const DatasetGroup& g) {
          FilterRequest fr;
          fr.user = u;
          return filtered ? filter.evaluate(g, fr) : Bitmap(g.item_ids().size(), true);
        });
        std::vector<ScoredItem> expected;
        for (Index i = 0; i < num_items; ++i) {
          if (allowed.test(i)) expected.push_back({i, exact[i]});
        }
        std::sort(expected.begin(), expected.end(), detail::better);
        expected.resize(count);
        double lse = -std::numeric_limits<double>::infinity();
        for (float s : exact) lse = std::max(lse, static_cast<double>(s));
        double sum = 0;
        for (float s : exact) sum += std::exp(static_cast<double>(s) - lse);
        lse += std::log(sum);

        EXPECT_EQ(got.items.size(), count);
        for (std::size_t k = 0; k < std::min(count, got.items.size()); ++k) {
          const std::string name = group->read([&](const DatasetGroup& g) {
            return std::string(g.item_ids().name(expected[k].item));
          });
          EXPECT_EQ(got.items[k].item_id, name) << "user " << u << " rank " << k;
          EXPECT_EQ(got.items[k].raw_score, expected[k].score) << "user " << u << " rank " << k;
          const double softmax = std::exp(static_cast<double>(expected[k].score) - lse);
          const double ratio = got.items[k].score.value_or(0) / softmax;
          EXPECT_LE(std::abs(ratio - 1), std::expm1(static_cast<double>(bound.max())) + 1e-9);
          if (u == peaked_user) {
            EXPECT_NEAR(ratio, 1.0, 1e-6) << "rank " << k;
          }
        }

        // Which way the candidates were found, replayed from the approximate scores.
        std::vector<ScoredItem> heap;
        detail::top_k(approximate.data(), approximate.size(), count + 4, &allowed, heap);
        for (std::size_t k = 0; k < count; ++k) ways.reordered += heap[k].item != expected[k].item;
        std::vector<double> lower;
        for (const ScoredItem& s : heap) {
          lower.push_back(s.score - static_cast<double>(bound.of(s.item)));
        }
        std::sort(lower.rbegin(), lower.rend());
        const double t = lower[count - 1];
        if (heap.back().score + static_cast<double>(bound.max()) < t) {
          ++ways.by_heap;
        } else {
          std::size_t candidates = 0;
          for (Index i = 0; i < num_items; ++i) {
            candidates += allowed.test(i) && approximate[i] + static_cast<double>(bound.of(i)) >= t;
          }
          ++(candidates > 4 * count + 64 ? ways.by_full_scan : ways.by_pass);
        }
      }
    }
  }
  return ways;
}

// Random user factors for the sample group's users, and the clustered item factors.
std::shared_ptr<const AlsModel> clustered_model(const std::shared_ptr<LiveDatasetGroup>& group,
                                                bool peaked_user_zero) {
  const auto [num_users, num_items] = group->read([](const DatasetGroup& g) {
    return std::make_pair(static_cast<Index>(g.user_ids().size()),
                          static_cast<Index>(g.item_ids().size()));
  });
  const int f = 16;
  std::mt19937_64 rng(22);
  std::normal_distribution<float> normal(0, 0.3f);
  FactorMatrix users(num_users, f);
  for (Eigen::Index r = 0; r < users.rows(); ++r) {
    for (Eigen::Index c = 0; c < f; ++c) users(r, c) = normal(rng);
  }
  const FactorMatrix items = clustered_item_factors(num_items, f);
  // User 0's factors made long (item 700 scores 40): a few items hold nearly all of its softmax.
  if (peaked_user_zero) users.row(0) = items.row(700) * (40.0f / items.row(700).squaredNorm());
  return std::make_shared<const AlsModel>("user-personalization", AlsParams{}, users, items);
}

Campaign campaign_of(const std::shared_ptr<LiveDatasetGroup>& group,
                     std::shared_ptr<const Model> model) {
  Solution solution({"als", "user-personalization", "{}", {}});
  return Campaign(group, solution,
                  SolutionVersion(solution.config(), TrainingMode::Full, std::move(model),
                                  std::nullopt, std::nullopt, 0));
}

TEST(ServingCampaign, RankingFromTheApproximateScanMatchesAFullSortOfExactScores) {
  // Requests score the catalog from a compact copy of the factors (8-bit or bfloat16, whichever
  // the target scans fastest; the model built under the target builds that one) and re-score
  // their candidates in float32.
  auto group = sample_group();
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    const auto model = clustered_model(group, true);
    const Campaign campaign = campaign_of(group, model);
    const CandidateWays ways = expect_full_sort_ranking(group, *model, campaign, 0);
    EXPECT_GT(ways.by_heap, 0);
    EXPECT_GT(ways.by_pass, 0);
    EXPECT_GT(ways.by_full_scan, 0);
    EXPECT_GT(ways.reordered, 0)
        << "the approximate order never differed: the re-scoring went untested";
  }
}

// A model whose approximate scores are off by nearly their whole bound, up or down: the worst
// the campaign's selection of candidates must survive (the bfloat16 scan is far more accurate
// than its bound).
class WorstCaseApproximation : public Model {
 public:
  explicit WorstCaseApproximation(std::shared_ptr<const AlsModel> exact)
      : exact_(std::move(exact)) {
    for (Index i = 0; i < exact_->num_items(); ++i)
      radii_.push_back(0.02f * static_cast<float>(1 + i % 4));
  }
  const std::string& recipe() const override { return exact_->recipe(); }
  Index num_items() const override { return exact_->num_items(); }
  Index num_users() const override { return exact_->num_users(); }
  bool personalized() const override { return true; }
  ScoreKind score_kind() const override { return ScoreKind::Softmax; }
  void score_all(const UserQuery& query, std::vector<float>& scores) const override {
    exact_->score_all(query, scores);
  }
  void score(const UserQuery& query, Span<Index> items, std::vector<float>& scores) const override {
    exact_->score(query, items, scores);
  }
  std::unique_ptr<UserScorer> scorer(const UserQuery& query) const override {
    return std::make_unique<Scorer>(*this, query);
  }

 private:
  // The ALS scorer's exact scores, with approximate ones pushed up or down by 99% of the radius.
  class Scorer : public UserScorer {
   public:
    Scorer(const WorstCaseApproximation& model, const UserQuery& query)
        : model_(model), user_(query.user), exact_(model.exact_->scorer(query)) {}
    void score_all(std::vector<float>& scores) const override { exact_->score_all(scores); }
    void score(Span<Index> items, std::vector<float>& scores) const override {
      exact_->score(items, scores);
    }
    ScoreBound approximate_scores(std::vector<float>& scores) const override {
      exact_->score_all(scores);
      for (std::size_t i = 0; i < scores.size(); ++i) {
        const bool up = ((i * 2654435761u) ^ (user_ * 40503u)) % 2 == 0;
        scores[i] += (up ? 0.99f : -0.99f) * model_.radii_[i];
      }
      return {1.0f, model_.radii_.data(), 0.08f};
    }

   private:
    const WorstCaseApproximation& model_;
    Index user_;
    std::unique_ptr<UserScorer> exact_;
  };

  std::shared_ptr<const AlsModel> exact_;
  std::vector<float> radii_;
};

TEST(ServingCampaign, RankingSurvivesApproximationsAsFarOffAsTheirBound) {
  auto group = sample_group();
  const auto model = std::make_shared<const WorstCaseApproximation>(clustered_model(group, false));
  const Campaign campaign = campaign_of(group, model);
  const CandidateWays ways = expect_full_sort_ranking(group, *model, campaign, kNoIndex);
  EXPECT_GT(ways.by_pass, 0);
  EXPECT_GT(ways.reordered, 0);
}

TEST(ServingCampaign, RecordsResponsesAndTurnsThemIntoImpressions) {
  DatasetGroup g(Schema::parse(R"({"type":"record","name":"Interactions","fields":[
    {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
    {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"},
    {"name":"IMPRESSION","type":["null","string"]}]})",
                               DatasetKind::Interactions));
  std::string csv = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  for (int u = 0; u < 20; ++u)
    csv += "u" + std::to_string(u) + ",i" + std::to_string(u % 7) + ",1,click\n";
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions, csv).ok());
  auto group = std::make_shared<LiveDatasetGroup>(std::move(g));
  Solution solution({"pop", "popularity-count", "{}", {}});
  TrainOptions o;
  o.compute_metrics = false;
  SolutionVersion v = group->read([&](const DatasetGroup& d) { return solution.train(d, o); });
  CampaignOptions options;
  options.recorded_recommendations = 2;
  Campaign campaign(group, solution, std::move(v), options);
  RecommendationRequest req;
  req.user_id = "u1";
  req.num_results = 3;
  req.context = {{"DEVICE", "phone"}};
  RecommendationResponse first = campaign.get_recommendations(req);
  campaign.get_recommendations(req);
  RecommendationResponse third = campaign.get_recommendations(req);
  auto records = campaign.recent_recommendations();
  ASSERT_EQ(records.size(), 2u);  // the oldest was dropped
  EXPECT_EQ(records.back().recommendation_id, third.recommendation_id);
  EXPECT_EQ(records.back().items.size(), 3u);
  EXPECT_EQ(records.back().context[0].second, "phone");
  EventRecord e;
  e.user_id = "u1";
  e.session_id = "s";
  e.item_id = third.items[0].item_id;
  e.event_type = "click";
  e.sent_at = 5;
  e.recommendation_id = third.recommendation_id;
  ASSERT_TRUE(campaign.put_events({e}).ok());
  const std::string impression = group->read([](const DatasetGroup& d) {
    const Column& c = *d.interactions().column("IMPRESSION");
    return std::string(c.text_at(d.interactions().size() - 1));
  });
  EXPECT_EQ(impression,
            third.items[0].item_id + "|" + third.items[1].item_id + "|" + third.items[2].item_id);
  (void)first;
}

TEST(ServingCampaign, EveryWriteReachesEveryCampaignOnTheGroup) {
  // Two campaigns on one group; events written through the group (as a store or a server does)
  // and through one campaign move the other campaign's popularity and retrain trigger alike.
  auto group = sample_group();
  auto pop = make_campaign(group, "popularity-count");
  Solution solution({"pop2", "popularity-count", "{}", {}});
  TrainOptions o;
  o.compute_metrics = false;
  CampaignOptions options;
  options.retrain_every_events = 200;
  Campaign other(group, solution,
                 group->read([&](const DatasetGroup& g) { return solution.train(g, o); }), options);
  const auto first = other.version();
  ASSERT_TRUE(
      group
          ->put_items(
              {{"fresh-item",
                R"({"contentType":"blog_post","community":"Data Hub","creationTimestamp":1800000000})"}})
          .ok());
  std::vector<EventRecord> events;
  for (int u = 0; u < 100; ++u)
    events.push_back(event("reader-" + std::to_string(u), "fresh-item"));
  ASSERT_TRUE(group->put_events(events).ok());
  events.clear();
  for (int u = 100; u < 200; ++u)
    events.push_back(event("reader-" + std::to_string(u), "fresh-item"));
  ASSERT_TRUE(pop->put_events(events).ok());
  RecommendationRequest req;
  req.user_id = "anyone";
  EXPECT_EQ(pop->get_recommendations(req).items.front().item_id, "fresh-item");
  other.wait_for_retrain();
  EXPECT_NE(other.version(), first);  // 200 events reached it: 100 from each writer
  EXPECT_EQ(other.get_recommendations(req).items.front().item_id, "fresh-item");
}

TEST(ServingCampaign, DeletedUsersAreUnknownAndDeletedItemsNeverComeBack) {
  auto group = sample_group();
  auto als = make_campaign(group, "user-personalization", R"({"factors": 16, "iterations": 5})");
  auto sims = make_campaign(group, "sims");
  RecommendationRequest req;
  req.user_id = "user-0001";
  const RecommendationResponse before = als->get_recommendations(req);
  ASSERT_FALSE(before.cold_start);
  const std::string top = before.items.front().item_id;
  RecommendationRequest similar;
  similar.item_id = "item-0001";
  const std::set<std::string> neighbours = items_of(sims->get_recommendations(similar));
  ASSERT_FALSE(neighbours.empty());
  const std::string neighbour = *neighbours.begin();

  EXPECT_EQ(group->delete_items({top, neighbour}).deleted, 2u);
  EXPECT_EQ(group->delete_users({"user-0001"}).deleted, 1u);
  EXPECT_TRUE(als->get_recommendations(req).cold_start);
  for (int u = 2; u < 60; ++u) {
    char id[24];
    std::snprintf(id, sizeof id, "user-%04d", u);
    req.user_id = id;
    req.num_results = 100;
    const std::set<std::string> got = items_of(als->get_recommendations(req));
    EXPECT_EQ(got.count(top) + got.count(neighbour), 0u) << id;
  }
  similar.num_results = 100;
  EXPECT_EQ(items_of(sims->get_recommendations(similar)).count(neighbour), 0u);
  // A retrain (which copies the data after the deletion) keeps them out too.
  als->retrain();
  req.user_id = "user-0002";
  EXPECT_EQ(items_of(als->get_recommendations(req)).count(top), 0u);
}

TEST(ServingCampaign, AVersionAloneMakesACampaignThatRetrainsItsOwnSolution) {
  auto group = sample_group();
  Solution solution({"mine", "popularity-count", "{}", {}});
  TrainOptions o;
  o.compute_metrics = false;
  Campaign campaign(group,
                    group->read([&](const DatasetGroup& g) { return solution.train(g, o); }));
  EXPECT_EQ(campaign.solution().config().name, "mine");
  const auto first = campaign.version();
  campaign.retrain();
  EXPECT_NE(campaign.version(), first);
  EXPECT_EQ(campaign.version()->config().recipe, "popularity-count");
}

// A personalized model without softmax scores (item 0 scores best) that remembers how it was
// asked: for which user, whether to refresh the user's state, and with how long a history.
class QueryRecordingModel : public Model {
 public:
  struct Asked {
    Index user;
    bool refresh;
    std::size_t history;
  };
  QueryRecordingModel(Index users, Index items) : users_(users), items_(items) {}
  const std::string& recipe() const override { return name_; }
  Index num_items() const override { return items_; }
  Index num_users() const override { return users_; }
  bool personalized() const override { return true; }
  void score_all(const UserQuery& query, std::vector<float>& scores) const override {
    remember(query);
    scores.resize(items_);
    for (Index i = 0; i < items_; ++i) scores[i] = -static_cast<float>(i);
  }
  void recommend(const UserQuery& query, std::size_t k, const ItemMask& mask,
                 std::vector<ScoredItem>& out) const override {
    std::vector<float> scores;
    score_all(query, scores);
    select_top_k(scores, k, mask, out);
  }
  Asked last() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return asked_.back();
  }

 private:
  void remember(const UserQuery& query) const {
    std::lock_guard<std::mutex> lock(mutex_);
    asked_.push_back({query.user, query.refresh, query.history.size()});
  }
  Index users_, items_;
  std::string name_ = "query-recording";
  mutable std::mutex mutex_;
  mutable std::vector<Asked> asked_;
};

TEST(ServingCampaign, RecommendationsAndRankingAskTheModelWithTheSameUserQuery) {
  auto group = sample_group();
  const auto [users, items] = group->read([](const DatasetGroup& g) {
    return std::make_pair(static_cast<Index>(g.user_ids().size()),
                          static_cast<Index>(g.item_ids().size()));
  });
  auto model = std::make_shared<const QueryRecordingModel>(users, items);
  Campaign campaign = campaign_of(group, model);
  auto index_of = [&](const std::string& user) {
    return group->read([&](const DatasetGroup& g) { return g.user_ids().find(user); });
  };
  RecommendationRequest recommend;
  recommend.num_results = 3;
  RankingRequest rank;
  rank.input_list = {"item-0001", "item-0002", "item-0003"};
  // Both kinds of request, for one user: the query each asked the model with.
  auto ask_both = [&](const std::string& user) {
    recommend.user_id = rank.user_id = user;
    const RecommendationResponse r = campaign.get_recommendations(recommend);
    EXPECT_FALSE(r.cold_start) << user;
    EXPECT_EQ(r.items.size(), 3u);
    const QueryRecordingModel::Asked by_recommend = model->last();
    EXPECT_EQ(campaign.get_personalized_ranking(rank).items.size(), 3u);
    return std::make_pair(by_recommend, model->last());
  };

  // A user the model knows, without events since training: the trained state.
  auto [a, b] = ask_both("user-0001");
  const Index known = index_of("user-0001");
  EXPECT_EQ(a.user, known);
  EXPECT_FALSE(a.refresh);
  EXPECT_EQ(b.user, known);
  EXPECT_FALSE(b.refresh);
  EXPECT_EQ(a.history, b.history);
  const std::size_t trained_history = a.history;

  // After an event, both refresh the user's state from the longer history.
  ASSERT_TRUE(campaign.put_events({event("user-0001", "item-0003")}).ok());
  std::tie(a, b) = ask_both("user-0001");
  EXPECT_TRUE(a.refresh);
  EXPECT_TRUE(b.refresh);
  EXPECT_EQ(a.history, trained_history + 1);
  EXPECT_EQ(b.history, a.history);

  // A user newer than the model: both fold the history in.
  ASSERT_TRUE(campaign.put_events({event("newcomer", "item-0004")}).ok());
  std::tie(a, b) = ask_both("newcomer");
  EXPECT_EQ(a.user, index_of("newcomer"));
  EXPECT_GE(a.user, users);
  EXPECT_TRUE(a.refresh);
  EXPECT_TRUE(b.refresh);
  EXPECT_EQ(a.history, 1u);
  EXPECT_EQ(b.history, 1u);
}

}  // namespace
}  // namespace tailor
